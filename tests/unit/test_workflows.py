"""The GitHub workflows, checked offline: schema, zizmor's audits, pinned actions, and commands that exist."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent


@pytest.fixture
def users_workflow(tmp_path) -> Path:
    """docs/ci.md's example workflow for a user's repository, as a file in that repository's layout."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text(), re.DOTALL)
    example = next(block for block in blocks if "/infra-conformance@" in block)
    path = tmp_path / ".github" / "workflows" / "conformance.yml"
    path.parent.mkdir(parents=True)
    path.write_text(example)
    return path


def test_the_action_and_the_users_workflow_match_githubs_schemas(users_workflow):
    for schema, files in (("vendor.github-workflows", [users_workflow]), ("vendor.github-actions", [ACTION])):
        done = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", schema, *files], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not shutil.which("zizmor", path=str(BIN)), reason="zizmor is installed with the dev extra")
def test_zizmor_finds_nothing_in_the_action_or_the_users_workflow(users_workflow):
    done = subprocess.run([BIN / "zizmor", "--offline", "--no-progress", ACTION, users_workflow],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_pins_what_it_uses_and_runs_what_exists():
    for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), f"{step['uses']} is not pinned"
        for script in re.findall(r"GITHUB_ACTION_PATH/(\S+\.sh)", step.get("run", "")):
            assert (ROOT / script).is_file(), f"action.yml: {script} does not exist"


def _steps():
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                yield path.name, job, step


def test_workflows_match_githubs_schema():
    done = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not shutil.which("zizmor", path=str(BIN)), reason="zizmor is installed with the dev extra")
def test_zizmor_finds_nothing():
    done = subprocess.run([BIN / "zizmor", "--offline", "--no-progress", *WORKFLOWS], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_by_commit_and_every_job_has_a_timeout():
    for name, job, step in _steps():
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), f"{name}: {step['uses']} is not pinned"
        assert job.get("timeout-minutes"), f"{name}: a job has no timeout"


def test_every_command_a_workflow_runs_exists():
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    for name, _, step in _steps():
        for line in step.get("run", "").splitlines():
            for target in re.findall(r"\bmake ((?:[\w-]+ ?)+)", line):
                assert set(target.split()) <= targets, f"{name}: make {target}: no such target"
            for script in re.findall(r"\bbash (\S+\.sh)", line):
                assert (ROOT / script).is_file(), f"{name}: {script} does not exist"
