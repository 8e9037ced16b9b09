"""``docker compose`` for one project, run as argument lists: no value ever reaches a shell."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_PREFIX = "conformance-"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
SUITE_LABEL = "conformance.project"  # containers the suite starts beside a project (inspectors)
# Where the docker CLI looks for its plugins, after $DOCKER_CONFIG/cli-plugins (default ~/.docker/cli-plugins).
SYSTEM_PLUGIN_DIRS = ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                      "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")


class ComposeError(RuntimeError):
    """A compose command failed; the message is compose's last line."""


@functools.cache
def compose_command() -> tuple[str, ...]:
    """How to run compose: the binary of the CLI plugin that ``docker compose`` runs, found as the docker CLI
    finds it, else ``docker compose``. Run directly, each call skips the CLI and its plugin lookup: 0.04 s
    of CPU instead of 0.11 here, over some 800 calls in ``make test``."""
    user = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins"
    for folder in (user, *map(Path, SYSTEM_PLUGIN_DIRS)):
        if os.access(plugin := folder / "docker-compose", os.X_OK) and plugin.is_file():
            return (str(plugin),)
    return ("docker", "compose")


def project_name() -> str:
    """A compose project name unique to this run: ``conformance-<8 hex>``."""
    return f"{PROJECT_PREFIX}{uuid.uuid4().hex[:8]}"


def project_filter(project: str, service: str | None = None) -> dict:
    """The engine's label filter for a project's objects, or one service's.

    >>> project_filter("conformance-1", "api")
    {'label': ['com.docker.compose.project=conformance-1', 'com.docker.compose.service=api']}
    """
    labels = [f"{PROJECT_LABEL}={project}"] + ([f"{SERVICE_LABEL}={service}"] if service else [])
    return {"label": labels}


def setup_commands(timeout_s: int) -> list[list[str]]:
    """Validate, build (timed apart), then start and wait for every healthcheck."""
    return [["config", "--quiet"], ["build", "--quiet"],
            ["up", "--detach", "--no-build", "--wait", "--wait-timeout", str(timeout_s)]]


def cleanup_commands() -> list[list[str]]:
    return [["down", "--volumes", "--remove-orphans", "--timeout", "10"]]


@dataclass(frozen=True)
class Compose:
    """One project's ``docker compose``; also pytest-docker's executor (``execute``)."""

    files: tuple[str, ...]
    project: str
    env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = field(default_factory=compose_command)

    def argv(self, *args: str) -> list[str]:
        """The full command line.

        >>> Compose(("a.yaml",), "conformance-1", command=("docker", "compose")).argv("port", "api", "80")
        ['docker', 'compose', '-f', 'a.yaml', '-p', 'conformance-1', 'port', 'api', '80']
        """
        files = [arg for path in self.files for arg in ("-f", str(path))]
        return [*self.command, *files, "-p", self.project, *args]

    def run(self, *args: str, timeout_s: float | None = None) -> subprocess.CompletedProcess:
        """Run a compose command; raise ComposeError with compose's last line when it fails."""
        try:
            done = subprocess.run(self.argv(*args), capture_output=True, text=True, errors="replace",
                                  env={**os.environ, **self.env}, timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ComposeError(f"no answer after {timeout_s:g} s") from None
        if done.returncode:
            raise ComposeError(last_line(done.stderr or done.stdout) or f"exit {done.returncode}")
        return done

    def one_off(self, service: str, *args: str, stdin: bytes = b"", timeout_s: float = 300
                ) -> subprocess.CompletedProcess:
        """``run --rm -T --no-deps SERVICE ARGS``: a one-off container, bytes in and out; its exit status is
        returned, not raised (a command that refuses is an answer)."""
        return self._piped(["run", "--rm", "-T", "--no-deps", service, *args], stdin, timeout_s,
                           f"run {service} {' '.join(args[:1])}")

    def exec(self, service: str, *args: str, stdin: bytes = b"", timeout_s: float = 120
             ) -> subprocess.CompletedProcess:
        """``exec -T SERVICE ARGS`` in the service's running container, bytes in and out; its exit status is
        returned, not raised."""
        return self._piped(["exec", "-T", service, *args], stdin, timeout_s, f"exec {service} {' '.join(args[:1])}")

    def _piped(self, args: list[str], stdin: bytes, timeout_s: float, shown: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(self.argv(*args), input=stdin, capture_output=True, env={**os.environ, **self.env},
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ComposeError(f"`{shown}` gave no answer after {timeout_s:g} s") from None

    def config(self) -> dict:
        """The merged configuration, as ``docker compose config`` resolves it."""
        return json.loads(self.run("config", "--format", "json").stdout)

    def in_every_profile(self) -> Compose:
        """The same project with every compose profile its files define active: each service, whichever profile
        runs it."""
        every = self.run("config", "--profiles").stdout.split()
        return replace(self, env={**self.env, "COMPOSE_PROFILES": ",".join(every)})

    def execute(self, subcommand: str | list[str], **_) -> bytes:
        """pytest-docker's executor interface (``Services.port_for`` passes ``"port svc 80"``)."""
        args = shlex.split(subcommand) if isinstance(subcommand, str) else subcommand
        return self.run(*args).stdout.encode()


# What compose says when a stack's own configuration keeps a service from starting.
START_FINDINGS = (
    re.compile(r"container (\S+) is unhealthy"),
    re.compile(r"container (\S+) has no healthcheck configured"),
    re.compile(r"container (\S+) exited \(\d+\)"),
)


def start_finding(message: str, project: str) -> str | None:
    """The service, when ``message`` says the stack itself kept it from starting (the control that proves a
    "healthy start" then fails for it).

    >>> start_finding("dependency failed to start: container p-api-1 has no healthcheck configured", "p")
    'api'
    >>> start_finding("Bind for 127.0.0.1:8080 failed: port is already allocated", "p") is None
    True
    """
    for pattern in START_FINDINGS:
        if match := pattern.search(message):
            container = match.group(1).removeprefix(f"{project}-").removeprefix(f"{project}_")
            return re.sub(r"[-_]\d+$", "", container)
    return None


def last_line(output: str) -> str:
    """The last non-empty line compose printed.

    >>> last_line("pulling\\nError: port is already allocated\\n")
    'Error: port is already allocated'
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""
