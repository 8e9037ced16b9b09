"""Fixtures for the suite's own tests: run the real suite in a subprocess and read its summary."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from infra_conformance.engine.compose import PROJECT_LABEL, SUITE_LABEL
from infra_conformance.engine.daemon import labelled, remove_images
from infra_conformance.measure import emulation

ROOT = Path(__file__).parents[1]
TOO_BUSY = "the host was too busy to judge"  # the suite's exit-3 line when contention voids a budget
# Data for the suite runs, not tests: mutant overlays, and a locustfile (importing locust patches the process).
collect_ignore = ["mutants", "load"]


def pytest_collection_modifyitems(items):
    """The ``longest`` self-test first: pytest-xdist hands each worker a run of the collected tests in order."""
    items.sort(key=lambda item: item.get_closest_marker("longest") is None)


@dataclass
class Run:
    returncode: int
    output: str
    summary: dict | None
    reports: Path

    def failed_cases(self) -> set[str]:
        """Failed controls as ``ID[case]`` and, for unparametrized ones, ``ID``."""
        return {c["id"] + (f"[{c['case']}]" if c["case"] else "")
                for c in (self.summary or {}).get("controls", []) if c["outcome"] == "failed"}

    def messages(self) -> dict[str, str]:
        """Each failed case's one-line message."""
        return {c["id"] + (f"[{c['case']}]" if c["case"] else ""): c["message"]
                for c in (self.summary or {}).get("controls", []) if c["outcome"] == "failed"}

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    @property
    def too_busy(self) -> bool:
        """The run reached no budget verdict: the host was busier than its contention thresholds (exit 3)."""
        return self.returncode == 3 and TOO_BUSY in self.output

    def only_uncertain_budgets_failed(self) -> list[str]:
        """The failed budgets' messages when every failure of the run is a budget that the Pi emulation makes
        uncertain (``FAIL (uncertain)``: a CPU quota froze a service too often, or the emulated Pi is smaller than
        the stack needs); empty otherwise."""
        budgets = [b for b in (self.summary or {}).get("budgets", []) if not b["passed"]]
        failed = (self.summary or {}).get("totals", {}).get("failed", 0)
        if self.returncode != 1 or not budgets or len(budgets) != failed:
            return []
        if not all(b["result"] == "FAIL (uncertain)" for b in budgets):
            return []
        return [f"{b['name']} {b['measured']:g} {b['unit']}: {b['conditions']['uncertain']}" for b in budgets]


@pytest.fixture(scope="session")
def docker_client():
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.fail(f"these tests need a Docker engine; run scripts/setup.sh first ({error})")
    return client


@pytest.fixture
def run_suite(tmp_path, docker_client, pytestconfig):
    """Run ``pytest suites`` with extra arguments; returns a Run and checks nothing was left behind."""
    projects, runs = [], itertools.count()

    def run(*args: str, env: dict | None = None, timeout_s: int = 900, keep_images: bool = True) -> Run:
        """``keep_images``: the run leaves its images (this fixture removes them afterwards, and only them);
        False: the run removes them itself, and that is checked. With --calibrate-once, a run that names no
        score of its own gets the session's."""
        if "--pi-host-score" not in args:
            args = (*args, *calibrated_once(pytestconfig))
        reports = tmp_path / f"reports-{next(runs)}"  # unique even when two runs start at once
        argv = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                "--reports-dir", str(reports), *(["--keep-images"] if keep_images else []), *args]
        try:
            done = _run_to_the_end(argv, timeout_s, {**os.environ, **(env or {})})
        finally:  # a run cut short by Ctrl-C of `make test` still writes its summary: its images go too
            summary_path = reports / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
            if summary and summary["stack"]["project"]:
                projects.append((summary["stack"]["project"], keep_images))
        return Run(done.returncode, done.stdout + done.stderr, summary, reports)

    yield run
    for project, kept_images in projects:
        left = leftovers(docker_client, project, images=not kept_images)
        remove_project_images(docker_client, project)
        assert not left, f"project {project} left {left}"


@pytest.fixture
def run_judged(run_suite):
    """``run_suite`` for a run that judges budgets; skipped, with the suite's own line, when the host was too
    busy to reach a verdict (exit 3). Not retried: a busy host stays busy here (steal comes in bursts), and
    ``make stability`` is where runs are repeated."""
    def run(*args: str, **kwargs) -> Run:
        done = run_suite(*args, **kwargs)
        if done.too_busy:
            pytest.skip(next(line for line in done.output.splitlines() if TOO_BUSY in line).strip())
        return done
    return run


def remove_project_images(client, project: str) -> None:
    """Remove the images one suite run built or tagged (by tag: their layers stay as build cache; an untagged one
    by its ID), and no other."""
    images = [image for label in (PROJECT_LABEL, SUITE_LABEL)
              for image in client.images.list(filters={"label": f"{label}={project}"})]
    remove_images(client, [reference for image in images for reference in image.tags or [image.id]])


def _run_to_the_end(argv: list[str], timeout_s: int, env: dict) -> subprocess.CompletedProcess:
    """Run the suite; on Ctrl-C or a timeout, interrupt it and let it clean up rather than kill it."""
    with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          stdin=subprocess.DEVNULL) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=180)
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def leftovers(client, project: str, images: bool = True) -> list[str]:
    """Containers, networks and volumes under any label the suite uses, and (``images``) the images the run built."""
    found = labelled(client, project)
    images = [image for label in (PROJECT_LABEL, SUITE_LABEL)
              for image in client.images.list(filters={"label": f"{label}={project}"})] if images else []
    return ([f"{kind[:-1]} {item.name}" for kind, items in found.items() for item in items]
            + [f"image {', '.join(image.tags) or image.short_id}" for image in images])


@pytest.fixture(scope="session")
def mutant_results(pytestconfig):
    """``record(entry)``: keeps one entry per mutant in reports/selftest-mutants/, whichever worker runs it."""
    directory = Path(pytestconfig.getoption("reports_dir")) / "selftest-mutants"
    directory.mkdir(parents=True, exist_ok=True)
    return lambda entry: (directory / f"{entry['name']}.json").write_text(json.dumps(entry, indent=2) + "\n")


SCORE_KEY, SCORE_INPUT = pytest.StashKey[float](), "conformance_pi_host_score"


def pytest_addoption(parser):
    parser.addoption("--calibrate-once", action="store_true",
                     help="measure the Pi calibration once, before any worker boots a stack, and give its score to "
                          "every suite run that names none (--pi-host-score): under -n, beside other boots, each "
                          "run's own sysbench would read the host as slower and spend up to 15 s of a core on it")


def pytest_configure(config):
    if _controller(config) and config.getoption("calibrate_once") and not config.option.collectonly:
        try:
            config.stash[SCORE_KEY] = emulation.calibrate().events_per_s
        except emulation.EmulationError as error:
            raise pytest.UsageError(f"--calibrate-once: {error}") from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist: each worker gets the controller's score."""
    node.workerinput[SCORE_INPUT] = node.config.stash.get(SCORE_KEY, None)


def pytest_report_header(config):
    if (score := config.stash.get(SCORE_KEY, None)) is not None:
        return f"Pi calibration, measured once for every suite run: {score:.1f} sysbench events/s (--calibrate-once)"
    return None


def calibrated_once(config) -> list[str]:
    """``--pi-host-score`` and the session's score, for a suite run; nothing without --calibrate-once."""
    score = config.workerinput.get(SCORE_INPUT) if hasattr(config, "workerinput") else config.stash.get(SCORE_KEY, None)
    return [] if score is None else ["--pi-host-score", f"{score:.1f}"]


def _controller(config) -> bool:
    """The self-test session itself, not an xdist worker, nor a pytester session run inside a test."""
    return not hasattr(config, "workerinput") and Path(config.rootpath) == ROOT


def pytest_sessionfinish(session):
    """On the controller: merge the mutants' entries into reports/selftest-mutants.json."""
    if not _controller(session.config):
        return
    reports = Path(session.config.getoption("reports_dir"))
    entries = [json.loads(p.read_text()) for p in sorted((reports / "selftest-mutants").glob("*.json"))]
    if entries:
        (reports / "selftest-mutants.json").write_text(json.dumps(entries, indent=2) + "\n")
