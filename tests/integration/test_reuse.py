"""--keep-stack, then --reuse-stack: the controls run against the stack that is up, and leave it up."""

import shutil
import subprocess

import pytest
import requests

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
        assert outcomes["BUD-01"] == ("not_checked", "not checked: a reused stack (--reuse-stack): its start-up was "
                                                     "not measured in this run"), outcomes
        assert again.summary["stack"]["project"] == project
        assert docker_client.containers.list(filters=project_filter(project)), "the reused stack was taken down"
        assert _login(docker_client, project, kept.secrets_dir) == 401, "the controls' logins stayed on the stack"
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


def _login(docker_client, project: str, secrets_dir) -> int:
    """The status of a login as the reference profile's own user, through the project's gateway."""
    gateway = docker_client.containers.list(filters=project_filter(project, "gateway"))[0]
    bindings = gateway.attrs["NetworkSettings"]["Ports"]["8080/tcp"]
    port = next(binding["HostPort"] for binding in bindings if binding["HostIp"] == "127.0.0.1")
    return requests.post(f"http://127.0.0.1:{port}/auth/login", timeout=10, json={
        "tenant": "acme", "email": "conformance.admin@acme.test",
        "password": (secrets_dir / "seed_password").read_text()}).status_code
