"""Bad input gets one clear line and a non-zero exit, and leaves nothing behind."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT, calibrated_once, leftovers, remove_project_images


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


# Where a run is, from what it prints: (extra arguments, the line that says the phase has begun).
@pytest.mark.slow
def test_a_run_stopped_inside_its_last_case_is_incomplete(run_suite):
    """A budget that the contention check stops (exit 3) inside the run's last case: that case did not run, and
    the verdict is incomplete, never passed (it read PASSED before a case had to pass its call phase)."""
    run = run_suite("-m", "pi", "--control", "BUD-02,BUD-05", "--pi-emulation", "off", "--max-contention", "0.0001",
                    "--profile-set", "budgets.db_query_p95_ms=0.001")
    if run.returncode == 1:
        pytest.skip("nothing else used the host's CPU during the DB queries, so the failing budget was judged")
    assert run.returncode == 3 and "too busy to judge DB query p95" in run.output, run.tail()
    outcomes = {c["id"]: c["outcome"] for c in run.summary["controls"] if c["outcome"] != "not_checked"}
    assert (run.summary["verdict"], run.summary["not_run"], outcomes) == ("incomplete", 1, {"BUD-02": "passed"}), \
        run.summary


PHASES = {
    "build": ((), re.compile(r"build: project (conformance-[0-9a-f]{8})")),
    "boot": ((), re.compile(r"\w+ ready after [0-9.]+ s")),  # one service healthy, the others still starting
    "controls": (("-v",), re.compile(r" PASSED")),
    "load": (("--control", "BUD-03"), re.compile(r"load: \d+ users arriving")),
}


@pytest.mark.slow
@pytest.mark.parametrize("phase, signum", [("build", signal.SIGINT), ("boot", signal.SIGTERM),
                                           ("controls", signal.SIGINT), ("load", signal.SIGTERM)],
                         ids=["build-SIGINT", "boot-SIGTERM", "controls-SIGINT", "load-SIGTERM"])
def test_a_signal_in_each_phase_and_in_the_cleanup_leaves_nothing_behind(docker_client, tmp_path, phase, signum,
                                                                         pytestconfig):
    """A signal while the run builds, boots, runs controls or runs the load, and another while it is taken down,
    leave no container, network, volume or secret of the run behind."""
    scratch = tmp_path / "tmp"  # the run's own TMPDIR: its secrets folder
    scratch.mkdir()
    extra, begun = PHASES[phase]
    suite = subprocess.Popen([sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", *extra,
                              "--pi-emulation", "off", "--keep-images", "--reports-dir", str(tmp_path / "reports"),
                              *calibrated_once(pytestconfig)],
                             cwd=ROOT, start_new_session=True, env={**os.environ, "TMPDIR": str(scratch)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, reached = [], threading.Event()

    def read():
        for line in suite.stdout:
            lines.append(line)
            if begun.search(line):
                reached.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert reached.wait(timeout=300), f"the run never reached its {phase}: {''.join(lines[-20:])}"
        os.killpg(suite.pid, signum)  # SIGINT: what a terminal's Ctrl-C sends to the whole group
        time.sleep(1.5)
        if suite.poll() is None:
            os.kill(suite.pid, signum)  # again, while the cleanup runs
        suite.wait(timeout=180)
    finally:
        if suite.poll() is None:  # this test failed: let the run clean up as a Ctrl-C would
            os.killpg(suite.pid, signal.SIGINT)
            suite.wait(timeout=180)
        reader.join(timeout=10)
        output = "".join(lines)
        named = re.search(r"project (conformance-[0-9a-f]{8})", output)
        left = leftovers(docker_client, named.group(1), images=False) if named else []
        if named:  # --keep-images: the run leaves them to this test
            remove_project_images(docker_client, named.group(1))
    assert suite.returncode != 0, output[-2000:]
    assert named, output[-2000:]
    assert not left, output[-2000:]
    assert not list(scratch.iterdir()), "the run's secrets folder is still there"
    assert "Traceback" not in output, output[-2000:]
    summary = tmp_path / "reports" / "summary.json"
    if summary.exists():  # an interrupted run never reads as passed
        assert json.loads(summary.read_text())["verdict"] in ("incomplete", "no results", "failed"), output[-2000:]


