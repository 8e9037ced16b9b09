"""Bad input gets one clear line and a non-zero exit, and leaves nothing behind."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, leftovers, remove_project_images


def _one_line_error(run, text: str) -> None:
    assert text in run.output, run.tail()
    assert "Traceback" not in run.output, run.tail()
    assert sum(text in line for line in run.output.splitlines()) == 1, run.tail()


def test_no_engine(run_suite):
    run = run_suite(env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert run.returncode == 3
    _one_line_error(run, "no Docker engine answers")
    assert "Hint: run scripts/ensure-docker.sh" in run.output
    assert "!!!" not in run.output and "_pytest.outcomes.Exit" not in run.output, run.tail()


def test_bad_profile(run_suite, tmp_path):
    (tmp_path / "conformance.toml").write_text("[stack]\nname = 'x'\n")
    run = run_suite("--stack-dir", str(tmp_path))
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    _one_line_error(run, "missing key 'stack.compose_files'")
    assert run.output.strip().startswith("ERROR: conformance: "), run.tail()


def test_missing_overlay(run_suite):
    run = run_suite("--compose-file", "no/such/overlay.yaml")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    _one_line_error(run, "--compose-file: 'no/such/overlay.yaml': no such file")


def test_broken_compose_file(run_suite, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("services:\n  api:\n    mem_limit: [not, a, size]\n")
    run = run_suite("--compose-file", str(broken))
    assert run.returncode == 3
    _one_line_error(run, "`docker compose config` failed")
    assert "services.api.mem_limit must be a number or string" in run.output


@pytest.mark.slow
def test_port_in_use(run_suite):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_suite(env={"GATEWAY_PORT": str(port)})
    assert run.returncode == 3
    _one_line_error(run, "`docker compose up` failed")
    assert f"127.0.0.1:{port}" in run.output, run.tail()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_during_boot_and_cleanup_leave_nothing_behind(docker_client, tmp_path, signum):
    """A signal while the stack boots, and another while it is taken down, leave nothing behind."""
    scratch = tmp_path / "tmp"  # the run's own TMPDIR: its secrets folder, and how its containers are told apart
    scratch.mkdir()
    suite = subprocess.Popen([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                              "--pi-emulation", "off", "--keep-images", "--reports-dir", str(tmp_path / "reports")],
                             cwd=ROOT, start_new_session=True, env={**os.environ, "TMPDIR": str(scratch)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    project = None
    while project is None and time.monotonic() < deadline and suite.poll() is None:
        project = _project_mounting(docker_client, scratch)
        time.sleep(0.2)
    assert project, "the suite never created a container"
    os.killpg(suite.pid, signum)  # SIGINT: what a terminal's Ctrl-C sends to the whole group
    time.sleep(1.5)
    if suite.poll() is None:
        os.kill(suite.pid, signum)  # again, while the cleanup runs
    output, _ = suite.communicate(timeout=180)
    assert suite.returncode != 0, output
    left = leftovers(docker_client, project, images=False)
    remove_project_images(docker_client, project)
    assert not left, output
    assert not list(scratch.iterdir()), "the run's secrets folder is still there"


def _project_mounting(client, folder) -> str | None:
    """The compose project whose containers mount files from ``folder`` (the list call only: no inspect,
    which fails for a container that a run beside this one removes meanwhile)."""
    for container in client.containers.list(all=True, sparse=True):
        if any(str(m.get("Source", "")).startswith(str(folder)) for m in container.attrs.get("Mounts", [])):
            return (container.attrs.get("Labels") or {}).get("com.docker.compose.project")
    return None
