"""The stack profile's schema: what a stack promises in its ``conformance.toml``, strictly typed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra_conformance.engine.platforms import PLATFORMS
from infra_conformance.errors import printable
from infra_conformance.measure.budgets import API_P95, CPU_UNDER_LOAD, DB_QUERY_P95, Kind
from infra_conformance.profile.api import Api
from infra_conformance.profile.ops import Backup, Faults
from infra_conformance.profile.stores import STORES, Postgres, Redis, secret_keys
from infra_conformance.profile.types import (
    Capability,
    ContainerPath,
    EnvName,
    EnvValue,
    Name,
    Port,
    Positive,
    ReachTarget,
    RelativeFile,
    Slug,
    SqlName,
    Strict,
    Uid,
)


class Service(Strict):
    user: Uid = Field(description="the non-root UID every process of the service must run as")
    listen: tuple[Port, ...] = Field((), description="the only ports it may listen on")
    cap_add: tuple[Capability, ...] = Field((), description="capabilities allowed back after cap_drop ALL")
    writable: tuple[ContainerPath, ...] = Field((), description="the only writable paths (tmpfs, volumes)")
    cannot_reach: tuple[ReachTarget, ...] = Field(
        (), description="`service:port` that must not answer from this service's network namespace")
    json_logs: bool = Field(False, description="every line it logs, on stdout and stderr, is one JSON object")
    job: bool = Field(False, description="a one-off job that `up` runs to completion, such as a seed; the controls "
                                         "of running services leave it out")
    compose_profiles: tuple[Slug, ...] = Field(
        (), description="the compose profiles it runs in, from the stack's `compose_profiles`; none: every one")
    ephemeral: bool = Field(False, description="keeps nothing and shares nothing: no volume or bind mount, and no "
                                               "network with another service (PRF-02)")
    pids_max: int = Field(1024, ge=1, le=4194304, description="the highest PIDs limit it may have: a limit above "
                                                              "this bounds nothing a fork bomb needs (CTR-13)")
    logs_max_mb: int = Field(100, ge=1, le=1048576, description="MiB of its logs the engine may keep: a json-file "
                                                                "or local log's max-size times max-file (CTR-19)")
    sysctls: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_.]{1,128}$")], ...] = Field(
        (), description="kernel settings it may set beyond the ones Kubernetes calls safe (CTR-23)")
    pg_settings: dict[SqlName, Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]] = Field(
        {}, description="a PostgreSQL service's settings as SHOW must report them, e.g. fsync = \"off\" (PRF-02)")


class Published(Strict):
    service: Name = Field(description="the service that publishes the port")
    port: Port = Field(description="its container port")
    public: bool = Field(False, description="true allows a non-loopback host address")


class Ports(Strict):
    published: tuple[Published, ...] = Field((), description="the only ports that may be published")


class StackSection(Strict):
    name: Name = Field(description="the stack's name, shown in reports")
    compose_files: tuple[RelativeFile, ...] = Field(min_length=1, description="compose files, in order")
    platforms: tuple[Literal[tuple(PLATFORMS)], ...] = Field(
        (), description="the platforms the stack promises to build and run on, e.g. linux/arm64")


class Load(Strict):
    locustfile: RelativeFile = Field(description="the locustfile, relative to the stack folder")
    users: int = Field(ge=1, le=10000, description="simulated users")
    spawn_rate: Positive = Field(le=1000, description="users started per second")
    duration_s: int = Field(ge=1, le=3600, description="seconds at full load, after spawning")
    secrets_env: dict[EnvName, Name] = Field({}, description="environment variables for locust, from secrets")
    env: dict[EnvName, EnvValue] = Field({}, description="other environment variables for locust")
    db_setup: str = Field("", max_length=4096, description="SQL run before the DB budget's queries")
    db_queries: tuple[Annotated[str, Field(min_length=1, max_length=4096)], ...] = Field(
        (), description="the API's typical queries, timed as the app role")


class Pi(Strict):
    overlay: RelativeFile = Field(description="the compose overlay that reads PI_CPUS_<SERVICE> and PI_CPUSET")


def _limit(kind: Kind, text: str):
    """The limit of a budget that needs parts of the stack: required where the profile has them, refused elsewhere
    (``profile.checks``)."""
    return Field(None, description=f"{text}; required with {kind.parts}, refused without")


class Budgets(Strict):
    startup_s: Positive = Field(description="seconds from `up` to every service healthy")
    memory_mb: Positive = Field(description="MiB of memory for the whole stack, at idle and at its peak under load")
    api_p95_ms: Positive | None = _limit(API_P95, "API p95 latency under load, ms")
    db_query_p95_ms: Positive | None = _limit(DB_QUERY_P95, "DB query p95 as the app role, ms")
    cpu_percent: Annotated[Positive, Field(le=100)] | None = _limit(
        CPU_UNDER_LOAD, "CPU under load, as a share of a Pi 4's four cores")


SET_BY_SUITE = ("directory", "compose_profile", "declared_services")  # never read from the file


class Profile(Strict):
    directory: Path = Field(description="(set by the suite) the stack folder")
    secrets: tuple[Name, ...] = Field((), description="secrets the compose files read from ${SECRETS_DIR}/<name>")
    compose_profiles: tuple[Slug, ...] = Field(
        (), description="the compose profiles the stack defines; PRF-01 checks what each one runs and publishes")
    compose_profile: Slug | None = Field(None, description="(set by the suite) the compose profile the run boots")
    declared_services: dict[Name, Service] = Field(
        {}, description="(set by the suite) every service of [services], in any compose profile")
    stack: StackSection
    env: dict[EnvName, EnvValue] = Field({}, description="extra variables for compose interpolation")
    services: dict[Name, Service] = Field(min_length=1)
    ports: Ports = Ports()
    postgres: Postgres | None = None
    redis: Redis | None = None
    api: Api | None = None
    load: Load | None = None
    pi: Pi | None = None
    budgets: Budgets
    faults: Faults = Faults()
    backup: Backup | None = None

    @model_validator(mode="after")
    def _references(self):
        """Every service, secret and port that one section names exists in another."""
        refs = [("ports.published.service", p.service) for p in self.ports.published]
        refs += [(f"services.{name}.cannot_reach", t.partition(":")[0])
                 for name, s in self.services.items() for t in s.cannot_reach]
        refs += [(f"{name}.service", store.service) for name, store in self.stores.items()]
        refs += [("api.gateway_service", self.api.gateway_service)] if self.api else []
        refs += [("api.metrics_service", self.api.metrics_service)] if self.api and self.api.metrics_service else []
        refs += [("api.accounts.service", self.api.accounts.service)] if self.api and self.api.accounts else []
        for where, name in refs:
            if name not in self.services:
                raise ValueError(f"key '{where}' names service {printable(name)}, which is not in [services]")
        named = [(f"services.{name}.compose_profiles", s.compose_profiles) for name, s in self.services.items()]
        if self.api and self.api.accounts:
            named.append(("api.accounts.sample_compose_profiles", self.api.accounts.sample_compose_profiles))
        for where, profiles in named:
            for unknown in sorted(set(profiles) - set(self.compose_profiles)):
                raise ValueError(f"key '{where}' names {printable(unknown)}, which is not in 'compose_profiles'")
        if not self.postgres and (with_settings := [n for n, s in self.services.items() if s.pg_settings]):
            raise ValueError(f"key 'services.{with_settings[0]}.pg_settings' needs a [postgres] section: its "
                             "admin_user reads the settings")
        for where, name in self._secret_refs():
            if name not in self.secrets:
                raise ValueError(f"key '{where}' names secret {printable(name)}, which is not in 'secrets'")
        for where, target in [(f"services.{n}.cannot_reach", t) for n, s in self.services.items()
                              for t in s.cannot_reach]:
            if not 1 <= int(target.partition(":")[2]) <= 65535:
                raise ValueError(f"key '{where}' has port {printable(target)} outside 1 to 65535")
        return self

    def _secret_refs(self):
        for name, section in [*self.stores.items(), *([("api", self.api)] if self.api else [])]:
            for key, value in secret_keys(section):
                yield f"{name}.{key}", value
        for variable, name in (self.load.secrets_env if self.load else {}).items():
            yield f"load.secrets_env.{variable}", name
        if self.api and self.api.tls:
            yield "api.tls.cert_secret", self.api.tls.cert_secret
            yield "api.tls.key_secret", self.api.tls.key_secret

    def in_compose_profile(self, name: str | None) -> Profile:
        """The profile as compose runs the stack with compose profile ``name`` (None: none): only the services
        that run then; ``every_service`` keeps them all."""
        running = {s: service for s, service in self.every_service.items()
                   if self.runs_in(service, name) and not service.job}
        return self.model_copy(update={"services": running, "compose_profile": name,
                                       "declared_services": self.every_service})

    @property
    def stores(self) -> dict[str, Postgres | Redis]:
        """The data-store sections the profile has, by name (``profile_stores.STORES``)."""
        return {name: section for name in STORES if (section := getattr(self, name)) is not None}

    @property
    def every_service(self) -> dict[str, Service]:
        """Every service of [services], whichever compose profile runs it."""
        return self.declared_services or self.services

    @staticmethod
    def runs_in(service: Service, compose_profile: str | None) -> bool:
        """Compose starts a service with no profiles always, and one with profiles when one of them is active."""
        return not service.compose_profiles or compose_profile in service.compose_profiles

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def compose_files(self) -> tuple[Path, ...]:
        return tuple(self.directory / f for f in self.stack.compose_files)

    @property
    def published(self) -> tuple[Published, ...]:
        return self.ports.published

    @property
    def pi_overlay(self) -> Path | None:
        return self.directory / self.pi.overlay if self.pi else None

    @property
    def locustfile(self) -> Path | None:
        return self.directory / self.load.locustfile if self.load else None

    def paths(self) -> dict[str, Path]:
        """Every file the profile names, by key."""
        found = {f"stack.compose_files[{i}]": self.directory / f for i, f in enumerate(self.stack.compose_files)}
        if self.load:
            found["load.locustfile"] = self.locustfile
        if self.pi:
            found["pi.overlay"] = self.pi_overlay
        return found
