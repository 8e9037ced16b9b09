"""Network exposure: what the stack publishes on the host and listens on inside."""

import ipaddress

import pytest

from infra_conformance.probes import reachability, sockets

PRIVILEGED_PORTS = 1024


def _bindings(container) -> list[tuple[int, str, str]]:
    """(container port, host IP, host port) for every binding the container's configuration asks for (host port ""
    or "0": any free one) and every one the engine made. Both count: the engine publishes nothing for a container
    that is only on internal networks, or not running, but the configuration still says what it would publish."""
    found = []
    for ports in (container.attrs["HostConfig"].get("PortBindings"), container.attrs["NetworkSettings"].get("Ports")):
        found += [(int(spec.split("/")[0]), bind["HostIp"], bind["HostPort"])
                  for spec, binds in (ports or {}).items() for bind in binds or []]
    return sorted(set(found))


def _is_loopback(address: str) -> bool:
    return bool(address) and ipaddress.ip_address(address).is_loopback


@pytest.mark.control("NET-01", severity="high", claims=["P11", "L4"])
def test_only_allowed_ports_published(stack, container, service):
    """The published ports are exactly the profile's, and on loopback unless allowed.

    Rationale: every published port is a door from the host's networks into the stack.
    A database or cache published by mistake, or a gateway bound to 0.0.0.0 on a
    device on the home network, exposes data that the stack's design keeps inside.

    Fix: Publish only the profile's ports, on loopback: `ports:
    ["127.0.0.1:8080:8080"]`.

    References: CIS Docker Benchmark v1.6.0 5.14; https://docs.docker.com/reference/compose-file/services/#ports
    """
    allowed = {p.port: p for p in stack.profile.published if p.service == service}
    bindings = _bindings(container)
    wrong = [f"{host_ip or '*'}:{host_port}->{port}" for port, host_ip, host_port in bindings
             if port not in allowed or not (allowed[port].public or _is_loopback(host_ip))]
    expected = ", ".join(f"127.0.0.1:*->{p}" if not a.public else f"*:*->{p}" for p, a in allowed.items())
    missing = sorted(set(allowed) - {port for port, _, _ in bindings})
    assert not wrong, (f"{service}: expected published ports [{expected or 'none'}], "
                       f"found not allowed: {', '.join(wrong)}")
    assert not missing, f"{service}: expected published ports [{expected}], found {missing} not published"


@pytest.mark.control("NET-04", severity="medium", claims=["P11", "L4"])
def test_no_privileged_host_ports(container, service):
    """No host port below 1024 is published.

    Rationale: ports below 1024 are the host's own services (SSH, HTTP, DNS). A
    container that takes one hides or replaces a host service, and it needs the engine's
    root rights to bind it.

    Fix: Publish on a port from 1024 up (`127.0.0.1:8080:8080`), and put a host reverse
    proxy on 443 in front if needed.

    References: CIS Docker Benchmark v1.6.0 5.8; https://docs.docker.com/reference/compose-file/services/#ports
    """
    low = [f"{host_ip or '*'}:{host_port}->{port}" for port, host_ip, host_port in _bindings(container)
           if 0 < int(host_port or 0) < PRIVILEGED_PORTS]  # "" or 0: a free port from the ephemeral range
    assert not low, f"{service}: expected host ports from {PRIVILEGED_PORTS} up, found {', '.join(low)}"


@pytest.mark.control("NET-05", severity="medium", claims=["Z5"])
def test_no_container_on_default_bridge(stack):
    """No container of the project is on the engine's default bridge (docker0).

    Rationale: every container started without a network shares the default bridge,
    so a service on it can reach unrelated containers on the same host, and they can
    reach it. Compose gives each project its own networks; `network_mode: bridge`
    leaves them.

    Covers: every container of the project.

    Fix: Remove `network_mode: bridge`; attach the service to the project's networks.

    References: CIS Docker Benchmark v1.6.0 5.30; https://docs.docker.com/engine/network/drivers/bridge/
    """
    containers = stack.containers(all=False)
    assert containers, f"project {stack.project}: no running container to check"
    found = [c.name for c in containers if "bridge" in (c.attrs["NetworkSettings"]["Networks"] or {})]
    assert not found, f"expected no container on the default bridge, found {', '.join(sorted(found))}"


@pytest.mark.running
@pytest.mark.control("NET-02", severity="medium", claims=["P5", "P11"])
def test_listening_sockets_are_the_profiles(stack, inspector, service):
    """The service listens on exactly the profile's ports: no debug or admin listeners.

    Rationale: a forgotten debug server, metrics exporter or admin console listens
    inside the container even when nothing publishes it, and anything on the same
    network can reach it. The sockets are read from an inspector container that
    shares the service's network namespace, so the image needs no tools. The
    engine's own DNS resolver on 127.0.0.11 is not the service's and is left out, and so
    is a UDP socket on a port of the ephemeral range: the kernel binds a client's socket
    (a resolver's, a statsd client's) there, and it receives only answers.

    Fix: Turn off debug or admin listeners, or list the port in the profile's `listen`.

    References: CIS Docker Benchmark v1.6.0 5.8; https://owasp.org/Top10/A05_2021-Security_Misconfiguration/
    """
    expected = set(stack.profile.every_service[service].listen)
    try:
        found = sockets.listening(inspector)
    except OSError as error:
        pytest.fail(f"{service}: {error}")
    assert found == expected, (f"{service}: expected listening ports {sorted(expected)}, "
                               f"found {sorted(found)}")


@pytest.mark.control("NET-03", severity="critical", claims=["Z5", "P11"])
def test_data_services_unreachable(stack, inspectors, reach, record_property):
    """A front service cannot open a connection to the data services it must not reach.

    Rationale: the gateway faces the outside; if it is compromised, internal networks
    are what keep PostgreSQL and Redis out of reach. The suite really tries, from the
    gateway's own network namespace, by service name and by every address the target has.
    A connection counts when each of the next three attempts connects too. One that no
    later attempt repeats is recorded in the report, not counted: Docker's bridge driver
    lifts its isolation for a moment whenever a network is created or removed on the
    engine. A mixed round is probed again, up to three rounds; one blocked from its first
    attempt settles it as blocked, and a result that stays mixed fails as unclear.

    Fix: Put data services on an `internal: true` network that the front service does
    not join.

    References: CIS Docker Benchmark v1.6.0 5.30; https://docs.docker.com/reference/compose-file/networks/#internal
    """
    source, target, port = reach
    addresses = [target] + [n["IPAddress"] for n in
                            stack.container(target).attrs["NetworkSettings"]["Networks"].values() if n["IPAddress"]]
    host = inspectors.host(stack.container(source))
    outcomes = {address: reachability.probe(host, address, port) for address in addresses}
    record_property("unrepeated_connections", [address for address, outcome in outcomes.items()
                                               if outcome == reachability.UNREPEATED])
    unclear = {address: outcome for address, outcome in outcomes.items()
               if outcome not in (*reachability.UNREACHABLE, "connected", reachability.UNREPEATED)}
    assert not unclear, (f"{source}: could not tell whether {target}:{port} is reachable: "
                         + "; ".join(f"{a}: {o}" for a, o in unclear.items()))
    reached = [address for address, outcome in outcomes.items() if outcome == "connected"]
    assert not reached, f"{source}: expected no connection to {target}:{port}, connected via {', '.join(reached)}"
