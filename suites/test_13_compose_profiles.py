"""Compose profiles: what each one runs and publishes, a test database that keeps and shares nothing, and sample
users in development only."""

import contextlib
import dataclasses
import ipaddress

import pytest
import requests

from infra_conformance.engine import daemon
from infra_conformance.engine.wait import wait_for
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.guard import NOT_OURS, is_foreign
from infra_conformance.plugins.http_clients import answered, current_gateway_url
from infra_conformance.profile.schema import Profile


def _published(service: dict) -> list[tuple[int, str]]:
    """(container port, host IP) of each port a service of ``docker compose config`` publishes."""
    return [(int(port["target"]), port.get("host_ip", "")) for port in service.get("ports", [])]


def _loopback(address: str) -> bool:
    return bool(address) and ipaddress.ip_address(address).is_loopback


@pytest.mark.control("PRF-01", severity="high", claims=["P6", "P7", "L4"])
def test_compose_profile_runs_and_publishes_what_it_promises(stack, compose_profile):
    """Each compose profile starts exactly the services promised for it, and publishes only their ports, on
    loopback.

    Rationale: a development tool that also starts in production (a database admin UI,
    a debug port) is how a stack leaks: it is tested where it belongs and forgotten where
    it does not. One missing `profiles:` line puts it in production. The suite reads
    each profile's merged configuration, so all of them are checked in every run.

    Fix: Give development and test services `profiles: [dev]` or `profiles: [test]`,
    list them in the profile's `[services]` with the same `compose_profiles`, and bind
    their ports to 127.0.0.1.

    References: https://docs.docker.com/compose/how-tos/profiles/
    """
    compose = dataclasses.replace(stack.compose, env={**stack.compose.env, "COMPOSE_PROFILES": compose_profile})
    services = {name: service for name, service in compose.config()["services"].items()
                if name not in stack.access.values()}  # the suite's own forwarders to the data stores
    promised = {name for name, service in stack.profile.every_service.items()
                if Profile.runs_in(service, compose_profile)}
    unpromised, missing = sorted(set(services) - promised), sorted(promised - set(services))
    assert not unpromised, (f"compose profile {compose_profile}: expected only {', '.join(sorted(promised))}, "
                            f"found also {', '.join(unpromised)}")
    assert not missing, f"compose profile {compose_profile}: {', '.join(missing)} promised, but compose starts none"
    allowed = {(p.service, p.port): p.public for p in stack.profile.published}
    wrong = [f"{name} {host_ip or '*'}->{port}" for name, service in services.items()
             for port, host_ip in _published(service)
             if not ((name, port) in allowed and (allowed[(name, port)] or _loopback(host_ip)))]
    assert not wrong, (f"compose profile {compose_profile}: publishes what is not promised on loopback: "
                       f"{', '.join(wrong)}")


@contextlib.contextmanager
def _running(request, stack, service: str):
    """The service's container: the running one, or, when the booted compose profile does not run it, one started
    for this check alone in the run's own project, and removed afterwards."""
    if stack.containers(service, all=False):
        yield stack.container(service)
        return
    if is_foreign(request.config):
        pytest.skip(NOT_OURS)
    profile = stack.profile.every_service[service].compose_profiles[0]
    compose = dataclasses.replace(stack.compose, env={**stack.compose.env, "COMPOSE_PROFILES": profile})
    compose.run("up", "--detach", "--wait", "--no-deps", service,
                timeout_s=request.getfixturevalue("options").startup_timeout)
    try:
        yield stack.container(service)
    finally:
        compose.run("rm", "--stop", "--force", "--volumes", service, timeout_s=120)


@pytest.mark.control("PRF-02", severity="medium", claims=["P6", "L5"], proves="compose profile")
def test_ephemeral_service_keeps_and_shares_nothing(request, stack, ephemeral_service):
    """A service promised ephemeral, such as a test database, keeps and shares nothing.

    Rationale: a test database exists to be thrown away. On a volume, its data outlives
    the tests and fills the SD card; on the application's network, a test run can
    reach production data. With fsync on, every test pays for durability it does not
    need. When the booted compose profile does not run it, the control starts it in the
    run's own project for this check alone, so every run proves it.

    Fix: Mount its data directory as a tmpfs and no volume, give it a network of its
    own, and run PostgreSQL with `-c fsync=off -c synchronous_commit=off -c
    full_page_writes=off`.

    References: https://www.postgresql.org/docs/15/non-durability.html
    """
    with _running(request, stack, ephemeral_service) as container:
        kept = [f"{m['Type']} {m.get('Name') or m.get('Source')} at {m['Destination']}"
                for m in container.attrs["Mounts"] if m["Type"] == "volume" or (m["Type"] == "bind" and m.get("RW"))]
        networks = set(container.attrs["NetworkSettings"]["Networks"])
        shared = sorted({daemon.service_of(other) for other in stack.containers(all=False)
                         if other.id != container.id and networks & set(other.attrs["NetworkSettings"]["Networks"])})
        promised = stack.profile.every_service[ephemeral_service].pg_settings  # the profile has [postgres] then
        found = {name: _show(container, stack.profile.postgres.admin_user, name) for name in promised}
    problems = ([f"keeps {', '.join(kept)}"] if kept else []) + (
        [f"shares a network with {', '.join(shared)}"] if shared else []) + [
        f"{name} = {found[name]} (expected {value})" for name, value in promised.items() if found[name] != value]
    assert not problems, f"{ephemeral_service}: {'; '.join(problems)}"


def _show(container, user: str, setting: str) -> str:
    """A setting as the running server reports it, from psql over its own socket (peer authentication)."""
    done = container.exec_run(["psql", "-X", "-A", "-t", "-U", user, "-d", "postgres", "-c", f"SHOW {setting}"])
    output = done.output.decode(errors="replace").strip()
    if done.exit_code != 0:
        pytest.fail(f"psql in {daemon.service_of(container)} could not read {setting}: {output[-200:]}", pytrace=False)
    return output


@pytest.mark.control("PRF-03", severity="high", claims=["N3"])
def test_sample_users_only_in_development(stack, gateway_url, http, record_property):  # skips without [api]
    """The sample users log in, each with its role, in the compose profiles that promise them, and in no other.

    Rationale: sample logins with a password that every developer knows are how each
    role is tried out; in production they are a door for anyone who read the README.
    The suite makes its own logins for the other controls, so a stack needs no login
    that it did not create on purpose.

    Fix: Seed sample users from a job of the development compose profile only (a
    one-shot service with `profiles: [dev]` that a dev service waits for with
    `condition: service_completed_successfully`), never from the database's init
    scripts.

    References: https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html
    """
    api = stack.profile.api
    if not (api.accounts and api.accounts.sample_users):
        skip_not_applicable("api.accounts.sample_users", "the profile names no sample users")
    promised = stack.profile.compose_profile in api.accounts.sample_compose_profiles
    where = f"compose profile {stack.profile.compose_profile or 'none'}"
    url = current_gateway_url(stack)  # a destructive control may have recreated the stack
    found = {role: _sample_login(stack, url, http, email) for role, email in api.accounts.sample_users.items()}
    record_property("sample_logins_tried", len(found))
    if promised:
        wrong = [f"{role}: {found[role]}" for role in found if found[role] != f"role {role}"]
        assert not wrong, f"{where}: expected each sample user to log in with its role, found {'; '.join(wrong)}"
    else:
        opened = [f"{api.accounts.sample_users[role]} ({found[role]})" for role in found if found[role] != "401"]
        assert not opened, f"{where}: expected no sample user to log in (401), found {', '.join(opened)}"


def _sample_login(stack, gateway_url: str, http, email: str) -> str:
    """What a login as ``email`` with the logins' password gives: ``role <role>`` when it works, else the status."""
    api = stack.profile.api
    login = wait_for(lambda: answered(http.post(gateway_url + api.login_path, json={
        "tenant": api.tenant, "email": email, "password": stack.secret(api.password_secret)})),
        f"POST {api.login_path} as {email}", errors=(ConnectionError, requests.ConnectionError), timeout_s=30)
    if login.status_code != 200:
        return str(login.status_code)
    me = http.get(gateway_url + api.me_path, headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    return f"role {me.json().get('role')}" if me.status_code == 200 else f"{api.me_path} answered {me.status_code}"
