"""Installed, the suite's pytest11 entry point leaves a project that has nothing to do with it alone: no option, no
hook, no change to collection; a session that names a stack gets the whole suite."""

import subprocess
import sys
from importlib import metadata

import pytest

pytest_plugins = ["pytester"]


def test_the_entry_point_is_registered():
    points = {p.name: p.value for p in metadata.entry_points(group="pytest11")}
    assert points.get("conformance") == "infra_conformance.plugins.activation", points


@pytest.fixture
def project(tmp_path):
    """Someone else's project: one test, its own option-free pytest configuration."""
    (tmp_path / "test_theirs.py").write_text("def test_theirs():\n    assert 1 + 1 == 2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return tmp_path


def _pytest(folder, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=folder, capture_output=True, text=True,
                          check=False)


def test_a_project_that_does_not_ask_is_left_alone(project):
    help_text = _pytest(project, "--help").stdout
    assert "--control" not in help_text and "--reports-dir" not in help_text
    done = _pytest(project, "-q", "--collect-only")
    assert done.returncode == 0 and "test_theirs.py::test_theirs" in done.stdout, done.stdout + done.stderr
    done = _pytest(project, "-q")
    assert done.returncode == 0 and "1 passed" in done.stdout and "conformance" not in done.stdout + done.stderr
    assert {p.name for p in project.iterdir()} - {"__pycache__"} == {"pytest.ini", "test_theirs.py"}  # no reports


def test_naming_a_stack_loads_the_suite(project):
    done = _pytest(project, "--stack-dir", str(project), "--help")
    assert "--control" in done.stdout and "--pi-host-score" in done.stdout, done.stdout[-2000:] + done.stderr


def test_conformance_check_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "infra_conformance.cli", "check", str(tmp_path)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 4 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"conformance: {tmp_path}/conformance.toml: no such file"), done.stderr
