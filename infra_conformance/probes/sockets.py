"""Which of a container's sockets are listeners: every TCP socket in LISTEN, and UDP sockets bound outside the
ephemeral port range. A client's UDP socket (a resolver's, a statsd client's) is bound by the kernel to a port in
that range when it first sends, and receives only answers: it is not a listener. The sockets are read from the
kernel's tables in one command (``SOCKET_TABLES``), so the image needs no tools."""

from __future__ import annotations

import ipaddress
import re

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


# What NET-02 reads in the service's network namespace, with `tail -n +1`, which heads each file with its name.
SOCKET_TABLES = ("/proc/sys/net/ipv4/ip_local_port_range", "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
                 "/proc/net/udp6")
LISTENING = {"tcp": "0A", "udp": "07"}  # TCP_LISTEN; a UDP socket that is bound and not connected
HEADER = re.compile(r"^==> (\S+) <==$", re.MULTILINE)


def read_tables(output: str) -> dict[str, str]:
    """``tail -n +1 FILE...``'s output, split by file.

    >>> read_tables("==> /a <==\\n1 2\\n\\n==> /b <==\\nx\\n")
    {'/a': '1 2\\n', '/b': 'x\\n'}
    """
    parts = HEADER.split(output)
    return {name: text.strip("\n") + "\n" for name, text in zip(parts[1::2], parts[2::2], strict=True)}


def _address(hex_address: str) -> str:
    """A /proc/net address (the kernel's words in host order, little-endian here) as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def kernel_listeners(tables: dict[str, str]) -> list[str]:
    """testinfra-style ``tcp://addr:port`` and ``udp://addr:port`` URLs of the listening sockets in /proc/net's
    tables.

    >>> kernel_listeners({"/proc/net/tcp": "  sl  local_address rem_address   st\\n"
    ...                   "   0: 0B00007F:A9F7 00000000:0000 0A 0\\n   1: 00000000:1F40 00000000:0000 0A 0\\n"
    ...                   "   2: 0100007F:1F40 0100007F:C350 01 0\\n"})
    ['tcp://127.0.0.11:43511', 'tcp://0.0.0.0:8000']
    """
    urls = []
    for name, text in tables.items():
        protocol = name.rsplit("/", 1)[-1].rstrip("6")
        for line in text.splitlines()[1:]:
            fields = line.split()
            if protocol in LISTENING and len(fields) > 3 and fields[3] == LISTENING[protocol]:
                address, port = fields[1].split(":")
                urls.append(f"{protocol}://{_address(address)}:{int(port, 16)}")
    return urls


def listening(host) -> set[int]:
    """The ports that a testinfra host's network namespace listens on (``listening_ports``), read in one command.
    Raises OSError when the kernel's tables cannot be read (IPv6's may be absent, where IPv6 is off)."""
    read = host.run(f"tail -n +1 {' '.join(SOCKET_TABLES)}")
    tables = read_tables(read.stdout)
    if missing := [name for name in SOCKET_TABLES if name not in tables and not name.endswith("6")]:
        raise OSError(f"could not read {', '.join(missing)} in its network namespace: {read.stderr.strip()}")
    ephemeral = ephemeral_range(tables.pop(SOCKET_TABLES[0]))
    return listening_ports(kernel_listeners(tables), ephemeral)
