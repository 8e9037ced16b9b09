"""Start-up time per service, measured by running each container's own healthcheck.

Docker runs a healthcheck only once per ``interval``, so its status lags readiness by
up to that long. The watch runs the same check itself, every ``poll_s``, from the
moment ``up`` is called, and records when it first passes. Without ``run_checks`` (no
budget is judged) it reads Docker's own health status instead, which lags, but starts no
process in the containers: each exec costs about 0.1 s of host CPU.
"""

from __future__ import annotations

import subprocess
import threading
import time

import docker

from infra_conformance.engine.compose import project_filter
from infra_conformance.engine.daemon import service_of


def healthcheck_argv(test: list[str] | None) -> list[str] | None:
    """The command a container's healthcheck ``Test`` runs, or None when it has none.

    >>> healthcheck_argv(["CMD-SHELL", "pg_isready"])
    ['/bin/sh', '-c', 'pg_isready']
    """
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", test[1]]
    if test[0] == "CMD":
        return list(test[1:])
    return list(test)


class StartupWatch:
    """Context manager: polls the project's containers until each is ready or the block ends."""

    def __init__(self, client: docker.DockerClient, project: str, services: list[str],
                 poll_s: float = 0.25, settle_s: float = 15.0, via_cli: bool = False, on_ready=None,
                 run_checks: bool = True):
        self.client, self.project, self.services = client, project, set(services)
        self.poll_s, self.settle_s, self.via_cli, self.on_ready = poll_s, settle_s, via_cli, on_ready
        self.run_checks = run_checks
        self.ready_after: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StartupWatch:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:  # up succeeded: give a lagging probe a moment to see it too
            self._thread.join(self.settle_s)
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            containers = self.client.containers.list(filters=project_filter(self.project))
            pending = [c for c in containers if service_of(c) in self.services - self.ready_after.keys()]
            for container in pending:
                if self._ready(container):
                    self.ready_after[service_of(container)] = round(time.monotonic() - self.started, 2)
                    if self.on_ready:
                        self.on_ready(service_of(container), self.ready_after[service_of(container)])
            if self.services <= self.ready_after.keys():
                return
            self._stop.wait(self.poll_s)

    def _ready(self, container) -> bool:
        try:
            container.reload()
            argv = healthcheck_argv(container.attrs["Config"].get("Healthcheck", {}).get("Test"))
            if container.status != "running" or argv is None:
                return container.status == "running"
            if not self.run_checks:
                return container.attrs["State"].get("Health", {}).get("Status") == "healthy"
            if self.via_cli:  # docker-py's exec does not survive an ssh:// engine; the CLI does
                return subprocess.run(["docker", "exec", container.id, *argv], capture_output=True).returncode == 0
            return container.exec_run(argv).exit_code == 0
        except (docker.errors.DockerException, OSError):  # restarting, gone, or a broken pipe: next round
            return False
