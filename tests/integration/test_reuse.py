"""--keep-stack, then --reuse-stack: the controls run against the stack that is up, and leave it up; meanwhile the
data stores' internal networks stay internal."""

import shutil
import socket
import subprocess

import pytest
import requests

from infra_conformance.engine.compose import project_filter
from infra_conformance.engine.reuse import find


@pytest.mark.slow
def test_a_kept_stack_is_checked_again_and_left_up(run_suite, docker_client):
    # Pi emulation forced on (no budget is judged), its score given: the limits come from variables
    first = run_suite("--keep-stack", "--control", "API-01", "--pi-emulation", "on", "--pi-host-score", "4500")
    project = first.summary["stack"]["project"]
    kept = find(docker_client, project)
    try:
        assert first.returncode == 0, first.tail()
        assert first.summary["stack"]["pi_emulation"] is True
        _stores_stay_internal(docker_client, project)
        again = run_suite("--reuse-stack", project, "--control", "API-01,CTR-08,CTR-11,BUD-01")
        assert again.returncode == 0, again.tail()
        outcomes = {(c["id"], c["case"]): (c["outcome"], c["message"]) for c in again.summary["controls"]}
        judged = {(i, case): o for (i, case), (o, _) in outcomes.items() if i in ("API-01", "CTR-08", "CTR-11")}
        assert set(judged.values()) <= {"passed", "not_applicable"} and "passed" in judged.values(), judged  # CTR-11
        # reads the configuration with the variables the stack was started with
        assert outcomes[("BUD-01", None)] == (
            "not_checked", "not checked: a reused stack (--reuse-stack): its start-up was not measured in this run")
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


OUTSIDE = ("deb.debian.org", 80)  # reachable from this machine and from GitHub's runners


def _stores_stay_internal(client, project: str) -> None:
    """While the suite reaches them, PostgreSQL and Redis keep only their own, internal networks and cannot open a
    connection out; the suite's forwarder to them can (so the check can fail)."""
    try:
        address = socket.gethostbyname(OUTSIDE[0])
        socket.create_connection((address, OUTSIDE[1]), timeout=5).close()
    except OSError:
        return  # this machine cannot reach it itself, so no container could: nothing to tell apart
    for service in ("postgres", "redis"):
        container = client.containers.list(filters=project_filter(project, service))[0]
        networks = container.attrs["NetworkSettings"]["Networks"]
        assert all(client.networks.get(n["NetworkID"]).attrs["Internal"] for n in networks.values()), \
            f"{service} is on a network that is not internal: {sorted(networks)}"
        assert not _connects(client, container, address), f"{service} reached {OUTSIDE[0]}"
    forwarder = client.containers.list(filters=project_filter(project, "conformance-access-postgres"))[0]
    assert _connects(client, forwarder, address), "the forwarder should get out: the check can fail"


def _connects(client, container, address: str) -> bool:
    """Whether a TCP connection to ``address`` opens from the container's network namespace within 5 s."""
    probe = f"exec 3<>/dev/tcp/{address}/{OUTSIDE[1]}"
    done = client.containers.run("debian:bookworm-slim", ["timeout", "5", "bash", "-c", probe], detach=True,
                                 network_mode=f"container:{container.id}")
    try:
        return done.wait(timeout=30)["StatusCode"] == 0
    finally:
        done.remove(force=True)

