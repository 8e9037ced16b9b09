"""Which of a container's sockets are listeners: every TCP socket in LISTEN, and UDP sockets bound outside the
ephemeral port range. A client's UDP socket (a resolver's, a statsd client's) is bound by the kernel to a port in
that range when it first sends, and receives only answers: it is not a listener."""

from __future__ import annotations

DOCKER_DNS = "127.0.0.11"  # the engine's embedded resolver, in every container on a user network


def ephemeral_range(text: str) -> range:
    """``/proc/sys/net/ipv4/ip_local_port_range`` as a range.

    >>> ephemeral_range("32768\\t60999\\n")
    range(32768, 61000)
    """
    low, high = (int(part) for part in text.split())
    return range(low, high + 1)


def listening_ports(urls: list[str], ephemeral: range) -> set[int]:
    """The ports a service listens on, from testinfra's ``tcp://addr:port`` and ``udp://addr:port`` URLs.

    >>> sorted(listening_ports(["tcp://0.0.0.0:8000", "udp://0.0.0.0:41234", "udp://0.0.0.0:514",
    ...                         "tcp://127.0.0.11:43567", "udp://127.0.0.11:53000"], range(32768, 61000)))
    [514, 8000]
    """
    found = set()
    for url in urls:
        scheme, _, rest = url.partition("://")
        address, _, port = rest.rpartition(":")
        if scheme not in ("tcp", "udp") or address == DOCKER_DNS:
            continue
        if scheme == "udp" and int(port) in ephemeral:
            continue
        found.add(int(port))
    return found
