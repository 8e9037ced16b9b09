"""The suite touches only what it created: a project it did not start, an image built by hand before the run, a
user's own files in the reports folder, and the isolation of the stack's internal networks all survive a run."""

import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from infra_conformance.compose import project_filter
from infra_conformance.reuse import find

ROOT = Path(__file__).parents[2]
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


@pytest.mark.slow
def test_an_image_built_by_hand_and_the_users_files_survive_a_run(run_suite, docker_client, tmp_path):
    """The pg-redis stack tags conformance-ref/redis:$CONFORMANCE_IMAGE_TAG; that tag existed before the run, so
    the run (which removes the images it built) leaves it. logs/ and locust-notes.txt were the user's."""
    tag = f"handmade-{uuid.uuid4().hex[:8]}"
    reference = f"conformance-ref/redis:{tag}"
    docker_client.images.get("debian:bookworm-slim").tag(reference)
    reports = tmp_path / "reports-0"  # run_suite's first reports folder
    (reports / "logs").mkdir(parents=True)
    (reports / "logs" / "mine.log").write_text("mine")
    (reports / "locust-notes.txt").write_text("mine")
    try:
        run = run_suite("--stack-dir", str(ROOT / "tests" / "stacks" / "pg-redis"), "--control", "CTR-01",
                        env={"CONFORMANCE_IMAGE_TAG": tag}, keep_images=False)
        assert run.returncode == 0, run.tail()
        assert run.reports == reports and (reports / "summary.json").is_file()
        assert docker_client.images.get(reference), "the image built by hand before the run is gone"
        assert (reports / "logs" / "mine.log").read_text() == "mine"
        assert (reports / "locust-notes.txt").read_text() == "mine"
    finally:
        docker_client.images.remove(reference, noprune=True)


OUTSIDE = ("deb.debian.org", 80)  # reachable from this machine and from GitHub's runners


@pytest.mark.slow
def test_an_internal_network_stays_internal_while_the_suite_reaches_the_data_stores(run_suite, docker_client):
    """PostgreSQL and Redis keep only their own, internal networks and cannot open a connection out during a run; the
    suite reaches them through forwarders of its own, which can (so the check can fail)."""
    try:
        address = socket.gethostbyname(OUTSIDE[0])
        socket.create_connection((address, OUTSIDE[1]), timeout=5).close()
    except OSError as error:
        pytest.skip(f"this machine cannot reach {OUTSIDE[0]} itself ({error}), so no container could")
    run = run_suite("--keep-stack", "--control", "PG-01,RDS-01", "--pi-emulation", "off")
    project = run.summary["stack"]["project"]
    kept = find(docker_client, project)
    try:
        assert run.returncode == 0, run.tail()
        for service in ("postgres", "redis"):
            container = docker_client.containers.list(filters=project_filter(project, service))[0]
            networks = container.attrs["NetworkSettings"]["Networks"]
            assert all(docker_client.networks.get(n["NetworkID"]).attrs["Internal"] for n in networks.values()), \
                f"{service} is on a network that is not internal: {sorted(networks)}"
            assert not _connects(docker_client, container, address), f"{service} reached {OUTSIDE[0]}"
        forwarder = docker_client.containers.list(filters=project_filter(project, "conformance-access-postgres"))[0]
        assert _connects(docker_client, forwarder, address), "the forwarder should get out: the check can fail"
    finally:
        subprocess.run(["docker", "compose", "-p", project, "down", "--volumes", "--remove-orphans"],
                       capture_output=True, check=False)
        shutil.rmtree(kept.secrets_dir.parent, ignore_errors=True)


def _connects(client, container, address: str) -> bool:
    """Whether a TCP connection to ``address`` opens from the container's network namespace within 5 s."""
    probe = f"exec 3<>/dev/tcp/{address}/{OUTSIDE[1]}"
    done = client.containers.run("debian:bookworm-slim", ["timeout", "5", "bash", "-c", probe], detach=True,
                                 network_mode=f"container:{container.id}")
    try:
        return done.wait(timeout=30)["StatusCode"] == 0
    finally:
        done.remove(force=True)
