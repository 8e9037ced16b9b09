"""Two runs at once on one engine both pass, and neither touches the other's project nor a sentinel project."""

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

SENTINEL = """services:
  sentinel:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    volumes: [data:/data]
volumes:
  data: {}
"""


def _compose(folder, project: str, *args: str) -> str:
    return subprocess.run(["docker", "compose", "-f", str(folder / "compose.yaml"), "-p", project, *args],
                          check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture
def sentinel(tmp_path, docker_client):
    """A compose project that is not the suite's, with a named volume holding data; removed afterwards."""
    folder, project, token = tmp_path / "sentinel", f"sentinel-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    folder.mkdir()
    (folder / "compose.yaml").write_text(SENTINEL)
    try:
        _compose(folder, project, "up", "--detach", "--wait")
        _compose(folder, project, "exec", "-T", "sentinel", "sh", "-c", f"echo {token} > /data/token")
        yield folder, project, token
    finally:
        _compose(folder, project, "down", "--volumes", "--timeout", "1")


def _state(docker_client, project: str) -> dict:
    container, = docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
    volume, = docker_client.volumes.list(filters={"label": f"com.docker.compose.project={project}"})
    return {"container": (container.id, container.attrs["State"]["StartedAt"], container.status),
            "volume": (volume.name, volume.attrs["CreatedAt"])}


@pytest.mark.slow
def test_two_runs_at_once_leave_each_other_and_a_sentinel_alone(run_suite, sentinel, docker_client):
    """Each run recreates its own stack (RES-03: down and up) while the other runs; the sentinel project's
    container and volume, and the data in it, are the same afterwards."""
    folder, project, token = sentinel
    before = _state(docker_client, project)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_suite("--control", "CTR-01,NET-01,RES-03", "--pi-emulation", "off"),
                             range(2)))
    for run in runs:
        assert run.returncode == 0, run.tail(40)
        assert run.summary["totals"]["passed"] >= 9, run.summary["totals"]
    assert runs[0].summary["stack"]["project"] != runs[1].summary["stack"]["project"]
    assert _state(docker_client, project) == before
    assert _compose(folder, project, "exec", "-T", "sentinel", "cat", "/data/token").strip() == token
