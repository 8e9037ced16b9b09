"""The handle of a running compose project: its containers, ports, secrets, config and logs."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

import docker

from infra_conformance.engine import remote
from infra_conformance.engine.compose import Compose, ComposeError, project_filter
from infra_conformance.engine.daemon import health, logs, service_of
from infra_conformance.engine.platforms import RunPlatform
from infra_conformance.engine.runfiles import ACCESS_LABEL
from infra_conformance.engine.wait import wait_for
from infra_conformance.probes import accounts
from infra_conformance.profile.schema import Profile


@dataclass(frozen=True)
class Stack:
    """A booted compose project and what the suite measured while booting it."""

    compose: Compose
    profile: Profile
    client: docker.DockerClient
    secrets_dir: Path
    host: remote.EngineHost
    access: dict[str, str]  # data store service -> the suite's forwarder to it (runfiles.access_overlay)
    build_s: float
    startup_s: dict[str, float]
    conditions: dict
    platform: RunPlatform
    startup_throttling: dict[str, dict] = field(default_factory=dict)  # measure.throttling.over, creation to ready
    _forwards: dict[int, int] = field(default_factory=dict, compare=False)

    @property
    def project(self) -> str:
        return self.compose.project

    @property
    def compose_files(self) -> list[str]:
        return list(self.compose.files)

    def containers(self, service: str | None = None, all: bool = True) -> list:
        """The project's containers (or one service's), found by their compose labels; the suite's forwarders to
        the data stores are not the stack's, and are left out unless asked for by name. One removed while it is
        listed is left out too (under ``-n 2`` in CI, CTR-13[backup] met a container removed between docker-py's listing
        and its inspection, while the other worker created the service's container)."""
        found = self.client.containers.list(all=all, filters=project_filter(self.project, service),
                                            ignore_removed=True)
        return found if service else [c for c in found if ACCESS_LABEL not in c.labels]

    def container(self, service: str):
        """The (first) container of a compose service."""
        found = self.containers(service)
        if not found:
            raise LookupError(f"service '{service}' has no container in project {self.project}")
        return found[0]

    def configured(self, service: str):
        """The service's container for the controls that read its configuration: the running one, or one that
        exited (a job that ran), or else one created for it and never started (a service of another compose
        profile, or a job that ``up`` does not run), which the run's cleanup removes with the project."""
        found = sorted(self.containers(service), key=lambda c: c.status != "running")
        if found:
            return found[0]
        profiles = self.profile.every_service[service].compose_profiles
        compose = replace(self.compose, env={**self.compose.env, "COMPOSE_PROFILES": ",".join(profiles)})
        failed = None
        for _ in range(3):  # another pytest-xdist worker may create it, or a dependency, at the same moment
            try:
                compose.run("create", "--no-recreate", service, timeout_s=900)
                failed = None
            except ComposeError as error:
                failed = error
            if found := self.containers(service):  # looked for after every try: under -n 2, CTR-12[admin] once found
                return found[0]  # none right after a create that ended without an error
        if failed:
            raise failed
        return self.container(service)

    def port(self, service: str, container_port: int) -> int:
        """A loopback port here that reaches ``container_port`` of ``service`` (through SSH for a remote engine)."""
        published = self.published_port(service, container_port)
        if self.host.ssh is None:
            return published
        if published not in self._forwards:
            self._forwards[published] = self.host.forward(published)
        return self._forwards[published]

    def published_port(self, service: str, container_port: int) -> int:
        """The port the engine's host publishes for the service's container now (a restart may change it), on
        loopback where there is such a binding; read through the engine's API, without starting a process. A data
        store is reached through the suite's forwarder to it, which publishes the same container port."""
        container = self.container(self.access.get(service, service))
        bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{container_port}/tcp")
        if not bindings:
            raise LookupError(f"service '{service}' publishes no port for {container_port}")
        loopback = [binding for binding in bindings if binding["HostIp"] == "127.0.0.1"]
        return int((loopback or bindings)[0]["HostPort"])

    @functools.cached_property
    def config(self) -> dict:
        """The merged compose configuration of every compose profile the stack defines, as ``docker compose
        config`` resolves it: each service, whichever profile runs it."""
        return self.compose.in_every_profile().config()

    def secret(self, name: str) -> str:
        return (self.secrets_dir / name).read_text()

    def logs(self, service: str, tail: int = 200) -> str:
        """The last lines of each of the service's containers; a note where the engine cannot give them
        (the ``none`` logging driver, a container removed meanwhile)."""
        return "".join(logs(c, tail) for c in self.containers(service))

    def wait_healthy(self, service: str, timeout_s: float = 60) -> None:
        """Poll until ``service`` runs and its healthcheck passes again, e.g. after a restart."""
        def healthy():
            status = health(self.container(service))
            if status != "healthy":
                raise RuntimeError(f"it is {status}")
        wait_for(healthy, f"service {service}", errors=(RuntimeError,), timeout_s=timeout_s,
                 hint=f"read the logs of {service} in the report")

    def recreate(self, lose_volumes_of: str | None = None, timeout_s: int = 300) -> None:
        """``down`` without ``-v``, then ``up`` until healthy, as a reboot or an update does; with
        ``lose_volumes_of``, that service's named volumes are removed in between, as when its disk dies, and the
        controls' logins are made again. Published ports change: read them again with ``port``."""
        mounts = self.container(lose_volumes_of).attrs["Mounts"] if lose_volumes_of else []
        self.compose.run("down", "--timeout", "10", timeout_s=timeout_s)
        for mount in mounts:
            if mount["Type"] == "volume":
                self.client.volumes.get(mount["Name"]).remove()
        self.compose.run("up", "--detach", "--no-build", "--wait", "--wait-timeout", str(timeout_s),
                         timeout_s=timeout_s + 60)
        self._forwards.clear()
        if mounts and (api := self.profile.api) and api.accounts:
            accounts.make(self.compose, api, self.secret(api.password_secret))

    def versions(self) -> dict[str, str]:
        """The engine's and compose's versions, for the report."""
        try:
            compose = self.compose.run("version", "--short", timeout_s=30).stdout.strip()
        except ComposeError:
            compose = "unknown"
        return {"engine": str(self.client.version().get("Version", "unknown")), "compose": compose}

    def unhealthy_services(self) -> list[str]:
        """Services with a container that is not healthy, but for one-off jobs, which exit when done."""
        jobs = {name for name, service in self.profile.every_service.items() if service.job}
        return sorted({name for c in self.containers()
                       if (name := service_of(c)) not in jobs and health(c) != "healthy"})
