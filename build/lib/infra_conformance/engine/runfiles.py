"""The files a run creates for compose: generated secrets, the suite's access overlay and the run's overlay."""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
from pathlib import Path

import yaml

from infra_conformance.engine.compose import SUITE_LABEL
from infra_conformance.profile.schema import Profile

ACCESS_NETWORK = "conformance-access"
ACCESS_PREFIX = "conformance-access-"  # the suite's forwarders to the data stores: never part of the stack under test
ACCESS_LABEL = "conformance.access"  # on each forwarder: the data store's service it reaches
INSPECTOR_DIR = Path(__file__).parent / "inspector"
INSPECTOR_REPOSITORY = "conformance-inspector"
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


def access_overlay(profile: Profile, networks_of: dict[str, list[str]], choose_port=free_port) -> dict:
    """An overlay that lets the suite reach each data store on a loopback port chosen for this run, without
    touching the store: a forwarder service of the suite's own (socat, in the inspector image) joins the store's
    networks and the suite's access network, and publishes its port. The store keeps its networks, so an internal
    network stays internal for the whole run.

    The host ports are fixed in the overlay, not left to the engine, because the engine
    picks a new one each time a container starts, and destructive controls restart
    services. ``networks_of``: each store service's networks in the merged configuration.

    >>> from infra_conformance.profile.file import load_profile
    >>> overlay = access_overlay(load_profile(Path("compose")), {"postgres": ["data"], "redis": ["cache"]},
    ...                          choose_port=lambda: 40001)
    >>> overlay["services"]["conformance-access-postgres"]["command"]
    ['socat', 'TCP-LISTEN:5432,fork,reuseaddr', 'TCP:postgres:5432']
    >>> overlay["services"]["conformance-access-postgres"]["networks"], overlay["services"].get("postgres")
    (['data', 'conformance-access'], None)
    """
    services = {}
    for index, store in enumerate(profile.stores.values()):
        services[access_service(store.service)] = {  # the first builds the run's forwarder image, the others use it
            **({"build": {"context": str(INSPECTOR_DIR)}} if index == 0 else {"pull_policy": "never"}),
            "image": f"{INSPECTOR_REPOSITORY}:access-${{CONFORMANCE_IMAGE_TAG}}",
            "command": ["socat", f"TCP-LISTEN:{store.port},fork,reuseaddr", f"TCP:{store.service}:{store.port}"],
            "networks": [*networks_of[store.service], ACCESS_NETWORK],
            "ports": [f"127.0.0.1:{choose_port()}:{store.port}"],
            "labels": {ACCESS_LABEL: store.service}, "user": "65534:65534", "read_only": True,
            "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"],
            **({"profiles": list(compose_profiles)}
               if (compose_profiles := profile.every_service[store.service].compose_profiles) else {}),
        }
    return {"services": services, "networks": {ACCESS_NETWORK: {}}} if services else {}


def access_service(service: str) -> str:
    """The name of the suite's forwarder to a data store's service."""
    return f"{ACCESS_PREFIX}{service}"


def write_access_overlay(profile: Profile, networks_of: dict[str, list[str]], directory: Path) -> Path | None:
    overlay = access_overlay(profile, networks_of)
    if not overlay:
        return None
    path = directory / "access.yaml"
    path.write_text(yaml.safe_dump(overlay, sort_keys=False))
    return path


def write_run_overlay(services: list[str], project: str, platform: str | None, directory: Path) -> Path:
    """An overlay that labels every service as started by the suite for ``project`` (so that ``--reuse-stack`` tells
    its own stacks from others), and builds and runs each of the stack's services for ``platform`` when one is given
    (the suite's forwarders run natively); a later overlay may still override either.

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
    overlay = {name: {"labels": {SUITE_LABEL: project},
                      **({"platform": platform} if platform and not name.startswith(ACCESS_PREFIX) else {})}
               for name in services}
    path.write_text(yaml.safe_dump({"services": overlay}, sort_keys=False))
    return path
