"""--keep-stack, then --reuse-stack: the controls run against the stack that is up, and leave it up."""

import shutil
import subprocess

import pytest

from infra_conformance.compose import project_filter
from infra_conformance.reuse import find


@pytest.mark.slow
def test_a_kept_stack_is_checked_again_and_left_up(run_suite, docker_client):
    first = run_suite("--keep-stack", "--control", "API-01")  # Pi emulation on: its limits come from variables
    project = first.summary["stack"]["project"]
    kept = find(docker_client, project)
    try:
        assert first.returncode == 0, first.tail()
        again = run_suite("--reuse-stack", project, "--control", "API-01,CTR-08,CTR-11,BUD-01")
        assert again.returncode == 0, again.tail()
        outcomes = {c["id"]: (c["outcome"], c["message"]) for c in again.summary["controls"]}
        assert all(outcomes[i][0] == "passed" for i in ("API-01", "CTR-08", "CTR-11")), outcomes  # CTR-11 reads
        # the configuration with the variables the stack was started with
        assert outcomes["BUD-01"] == ("skipped", "a reused stack (--reuse-stack): its start-up was not measured "
                                                 "in this run"), outcomes
        assert again.summary["stack"]["project"] == project
        assert docker_client.containers.list(filters=project_filter(project)), "the reused stack was taken down"
        other = run_suite("--reuse-stack", project, "--compose-profile", "dev", "--control", "API-01")
        assert other.returncode == 4, other.tail()  # the controls would expect the admin UI
        assert (f"--reuse-stack {project}: it was started with compose profile none; leave out --compose-profile"
                in other.output), other.tail()
    finally:
        subprocess.run(["docker", "compose", "-p", project, "down", "--volumes", "--remove-orphans"],
                       capture_output=True, check=False)
        shutil.rmtree(kept.secrets_dir.parent, ignore_errors=True)


def test_reusing_a_project_that_is_not_up_is_one_line(run_suite):
    run = run_suite("--reuse-stack", "conformance-notup")
    assert run.returncode == 4, run.tail()
    assert "--reuse-stack conformance-notup: no running container of that compose project" in run.output
