"""The files a run creates for compose: generated secrets and the suite's access overlay."""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
from pathlib import Path

import yaml

from infra_conformance.compose import SUITE_LABEL
from infra_conformance.profile import Profile

ACCESS_NETWORK = "conformance-access"
ENV_FILE = "compose-env.json"  # in the run's folder, beside secrets/: the variables compose started the stack with
SECRET_MODE = 0o444  # bind mounts keep the host's mode, and the services run as other users


def write_secrets(names, folder: Path, given: dict[str, str] | None = None) -> Path:
    """Generate each secret into ``folder`` (created 0700), one value per file, never outside it; a name in
    ``given`` gets that value instead (the gateway's certificate and key, made for this run).

    Each file is created exclusively, without following links, with mode 0600 while it is
    written; then made read-only for the containers' users (compose bind-mounts file
    secrets with their host mode, docker/compose#9648). The 0700 folder keeps them from
    every other user of the host.
    """
    folder.mkdir(mode=0o700)
    for name in names:
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"secret name {name!r} is not a plain file name")
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write((given or {}).get(name) or secrets.token_urlsafe(24))
        os.chmod(folder / name, SECRET_MODE)
    return folder


def write_compose_env(env: dict[str, str], directory: Path) -> Path:
    """Keep the variables compose starts the stack with (paths, tags and the Pi emulation's limits; no secret),
    so that a later run that reuses the stack reads its configuration the same way."""
    path = directory / ENV_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(env, handle)
    return path


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port(ephemeral: Path = EPHEMERAL_RANGE) -> int:
    """A loopback port that nothing listens on now, for the engine to publish on moments later.

    It is drawn from the 10,000 ports below the kernel's ephemeral range. The engine publishes a port "0" from
    that range, as the kernel binds port 0: a port drawn there can be taken before the engine binds it, and
    once was, while another run booted ("Bind for 127.0.0.1:47315 failed: port is already allocated").
    """
    low = int(ephemeral.read_text().split()[0]) if ephemeral.is_file() else 32768
    for port in random.sample(range(max(1024, low - 10000), low), min(100, max(0, low - 1024))):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:  # nothing free below the range: the kernel's choice
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def access_overlay(profile: Profile, choose_port=free_port) -> dict:
    """An overlay that lets the suite reach PostgreSQL and Redis on loopback ports chosen for this run.

    The host ports are fixed in the overlay, not left to the engine, because the engine
    picks a new one each time a container starts, and destructive controls restart
    services. Internal networks publish nothing, so those services also join a network
    of the suite's own that the stack's other services are not on.
    """
    targets = [(store.service, store.port) for store in profile.stores.values()]
    services = {
        name: {"ports": [f"127.0.0.1:{choose_port()}:{port}"], "networks": [ACCESS_NETWORK]}
        for name, port in targets
    }
    return {"services": services, "networks": {ACCESS_NETWORK: {}}} if services else {}


def write_access_overlay(profile: Profile, directory: Path) -> Path | None:
    overlay = access_overlay(profile)
    if not overlay:
        return None
    path = directory / "access.yaml"
    path.write_text(yaml.safe_dump(overlay, sort_keys=False))
    return path


def write_run_overlay(services: list[str], project: str, platform: str | None, directory: Path) -> Path:
    """An overlay that labels every service as started by the suite for ``project`` (so that ``--reuse-stack`` tells
    its own stacks from others), and builds and runs each for ``platform`` when one is given; a later overlay may
    still override either.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(write_run_overlay(["api"], "conformance-1", "linux/arm64", Path(folder)).read_text(), end="")
    services:
      api:
        labels:
          conformance.project: conformance-1
        platform: linux/arm64
    """
    path = directory / "run.yaml"
    overlay = {name: {"labels": {SUITE_LABEL: project}, **({"platform": platform} if platform else {})}
               for name in services}
    path.write_text(yaml.safe_dump({"services": overlay}, sort_keys=False))
    return path
