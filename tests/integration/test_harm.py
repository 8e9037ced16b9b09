"""The suite never restarts, kills or logs into a compose project that it did not start. (An image built by hand and
a user's files in the reports folder survive a run: tests/integration/test_green.py; an internal network stays
internal: tests/integration/test_reuse.py.)"""

import subprocess
import uuid

import pytest

from infra_conformance.engine.compose import project_filter

HANDMADE = """services:
  app:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
"""


@pytest.mark.slow
def test_a_project_the_suite_did_not_start_is_never_restarted(run_suite, docker_client, tmp_path):
    project = f"handmade-{uuid.uuid4().hex[:8]}"
    (tmp_path / "compose.yaml").write_text(HANDMADE)
    up = ["docker", "compose", "-p", project, "-f", str(tmp_path / "compose.yaml")]
    subprocess.run([*up, "up", "-d", "--wait"], check=True, capture_output=True)
    try:
        before = {c.id: c.attrs["State"]["StartedAt"] for c in docker_client.containers.list(
            filters=project_filter(project))}
        run = run_suite("--reuse-stack", project, "--control", "RES-*,BAK-05", "--pi-emulation", "off")
        assert run.returncode in (0, 5), run.tail()
        selected = [c for c in run.summary["controls"] if c["id"].startswith("RES-") or c["id"] == "BAK-05"]
        assert selected and all(c["outcome"] == "not_checked" and "did not start" in c["message"]
                                for c in selected), selected
        assert run.summary["verdict"] == "no results"
        after = {c.id: (c.attrs["State"]["StartedAt"], c.attrs["RestartCount"]) for c in docker_client.containers.list(
            filters=project_filter(project))}
        assert after == {cid: (started, 0) for cid, started in before.items()}, (before, after)
    finally:
        subprocess.run([*up, "down", "--volumes"], check=False, capture_output=True)
