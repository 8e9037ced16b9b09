"""``conformance init``: a first ``conformance.toml`` written from a stack's merged compose configuration.

It fills in what the configuration says (every service of every compose profile, its user, ports, writable paths and
published ports; the secrets read from ``${SECRETS_DIR}``; which services share no network), recognises PostgreSQL,
Redis and nginx by image or command, and marks each value it cannot know with a ``TODO`` comment. A value it must
write to be valid but cannot know (a UID the configuration does not give) is a placeholder with a ``TODO``; a
section whose required values it cannot know is written commented out, so the file always validates.
"""

from __future__ import annotations

import json
import re

PLACEHOLDER_UID = 65534  # nobody: a placeholder, marked TODO, never a guess presented as fact
KINDS = {"postgres": re.compile(r"postgres"), "redis": re.compile(r"redis|valkey"), "nginx": re.compile(r"nginx")}
DEFAULT_PORTS = {"postgres": 5432, "redis": 6379}
SECRETS_MARK = "conformance-secrets-"  # in the path of the SECRETS_DIR that ``render``'s configuration was read with


def kind_of(service: dict) -> str | None:
    """``postgres``, ``redis`` or ``nginx`` when the service's image or command says so.

    >>> kind_of({"image": "docker.io/library/postgres:16"}), kind_of({"command": ["redis-server"]}), kind_of({})
    ('postgres', 'redis', None)
    """
    text = " ".join([str(service.get("image", "")), *map(str, service.get("command") or [])]).lower()
    return next((kind for kind, pattern in KINDS.items() if pattern.search(text)), None)


def uid_of(service: dict, image_user: str = "") -> int | None:
    """The numeric UID from compose's ``user`` or else the image's, when it is one and not root.

    >>> uid_of({"user": "1000:1000"}), uid_of({}, "999"), uid_of({"user": "app"}), uid_of({"user": "0"})
    (1000, 999, None, None)
    """
    user = str(service.get("user") or image_user or "").split(":")[0]
    return int(user) if user.isdigit() and int(user) > 0 else None


def listens(service: dict, exposed: list[int]) -> list[int]:
    """Container ports from ``expose``, ``ports`` and the image's ``EXPOSE``.

    >>> listens({"expose": ["8080"], "ports": [{"target": 80, "published": "8081"}]}, [9000])
    [80, 8080, 9000]
    """
    found = {int(str(p).split("/")[0]) for p in service.get("expose") or []}
    found |= {int(p["target"]) for p in service.get("ports") or []}
    return sorted(found | set(exposed))


def writable(service: dict) -> list[str]:
    """Paths the service may write: its tmpfs mounts and its volumes that are not read-only.

    >>> writable({"tmpfs": ["/tmp:size=1m"], "volumes": [{"type": "volume", "target": "/data"},
    ...                                                  {"type": "bind", "target": "/etc/x", "read_only": True}]})
    ['/data', '/tmp']
    """
    tmpfs = service.get("tmpfs") or []
    found = {str(t).split(":")[0] for t in ([tmpfs] if isinstance(tmpfs, str) else tmpfs)}
    found |= {v["target"] for v in service.get("volumes") or [] if not v.get("read_only")}
    return sorted(found)


def apart(services: dict) -> dict[str, list[str]]:
    """For each service, the others it shares no network with (so ``cannot_reach`` them), with their first port.

    >>> apart({"a": {"networks": {"front": {}}, "expose": ["80"]}, "b": {"networks": {"back": {}}, "expose": ["5432"]}})
    {'a': ['b:5432'], 'b': ['a:80']}
    """
    nets = {name: set(service.get("networks") or {"default": {}}) for name, service in services.items()}
    found = {}
    for name in services:
        targets = [f"{other}:{ports[0]}" for other, service in services.items()
                   if other != name and not nets[name] & nets[other] and (ports := listens(service, []))]
        if targets:
            found[name] = targets
    return found


def secrets(config: dict) -> tuple[list[str], list[str]]:
    """(secrets read from ``${SECRETS_DIR}``, the others): the suite generates only the first."""
    ours, others = [], []
    for name, secret in (config.get("secrets") or {}).items():
        (ours if SECRETS_MARK in str(secret.get("file", "")) else others).append(name)
    return sorted(ours), sorted(others)


def _toml(value) -> str:
    return json.dumps(value)


def render(name: str, config: dict, compose_files: list[str], images: dict[str, dict]) -> str:
    """The profile's text for the stack ``name``. ``config`` is compose's merged JSON (every profile,
    ``SECRETS_DIR`` set to a folder whose path holds ``SECRETS_MARK``); ``images`` maps a service to its
    image's ``Config`` (``User``, ``ExposedPorts``) where the image is present."""
    services = config.get("services") or {}
    ours, others = secrets(config)
    lines = [f"# Written by `conformance init` from {', '.join(compose_files)}. Check every TODO, then:",
             "#   conformance check . && conformance run", ""]
    lines.append(f"secrets = {_toml(ours)}")
    if others:
        lines.append(f"# TODO: {', '.join(others)} are not read from ${{SECRETS_DIR}}; the suite generates a fresh "
                     "value for each secret it lists, so read them as file: ${SECRETS_DIR}/<name>")
    profiles = sorted({p for s in services.values() for p in s.get("profiles") or []})
    if profiles:
        lines.append(f"compose_profiles = {_toml(profiles)}")
    lines += ["", "[stack]", f"name = {_toml(name)}",
              f"compose_files = {_toml(compose_files)}"]
    reach = apart(services)
    kinds = {name: kind for name, service in services.items() if (kind := kind_of(service))}
    for name, service in sorted(services.items()):
        image = images.get(name) or {}
        exposed = [int(p.split("/")[0]) for p in image.get("ExposedPorts") or {}]
        lines += ["", f"[services.{name}]"]
        uid = uid_of(service, image.get("User", ""))
        lines.append(f"user = {uid}" if uid else
                     f"user = {PLACEHOLDER_UID}  # TODO: the non-root UID it runs as (`docker compose run --rm "
                     f"{name} id -u`); its configuration gives none, or root")
        ports = listens(service, exposed)
        if not ports and name in kinds and kinds[name] in DEFAULT_PORTS:
            ports = [DEFAULT_PORTS[kinds[name]]]
            lines.append(f"listen = {_toml(ports)}  # TODO: {kinds[name]}'s default port; check it listens there")
        else:
            lines.append(f"listen = {_toml(ports)}")
        lines.append(f"writable = {_toml(writable(service))}")
        if name in reach:
            lines.append(f"cannot_reach = {_toml(reach[name])}  # it shares no network with them")
        if service.get("profiles"):
            lines.append(f"compose_profiles = {_toml(sorted(service['profiles']))}")
    published = [(name, int(p["target"]), str(p.get("host_ip", "")) not in ("127.0.0.1", "::1"))
                 for name, service in sorted(services.items()) for p in service.get("ports") or []]
    if published:
        lines += ["", "[ports]", "published = ["]
        lines += [f"  {{service = {_toml(n)}, port = {port}" + (", public = true" if public else "") + "},"
                  for n, port, public in published]
        lines.append("]")
    for name, kind in sorted(kinds.items()):
        lines += ["", *_data_section(kind, name, services[name], ours)]
    memory = sum(int(s.get("mem_limit") or 0) for s in services.values()) // 2**20
    lines += ["", "[budgets]", "startup_s = 60  # TODO: seconds from `up` to every service healthy",
              f"memory_mb = {memory or 1024}  # TODO: MiB for the whole stack"
              + (" (the sum of its mem_limit values)" if memory else "")]
    return "\n".join(lines) + "\n"


def _data_section(kind: str, name: str, service: dict, secrets_: list[str]) -> list[str]:
    """A recognised data service's section, commented out: its secrets and users are the stack's to name."""
    if kind == "nginx":
        return [f"# {name} looks like nginx: describe its routes and headers in [api] (docs/profile.md)."]
    port = next(iter(listens(service, [])), DEFAULT_PORTS[kind])
    hint = f" (secrets here: {', '.join(secrets_)})" if secrets_ else ""
    body = {"postgres": ["database = \"TODO\"", "admin_user = \"postgres\"", "admin_password_secret = \"TODO\"",
                         "app_user = \"TODO\"", "app_password_secret = \"TODO\"", "tenant_tables = []"],
            "redis": ["user = \"TODO\"", "password_secret = \"TODO\"", "admin_user = \"TODO\"",
                      "admin_password_secret = \"TODO\""]}[kind]
    return [f"# TODO: {name} looks like {kind}. Fill in its users and secrets{hint}, then uncomment this section",
            "# so that its controls run (docs/profile.md).", f"# [{kind}]", f"# service = {_toml(name)}",
            f"# port = {port}", *(f"# {line}" for line in body)]
