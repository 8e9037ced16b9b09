"""The stack profile's schema: what a stack promises in its ``conformance.toml``, strictly typed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra_conformance.errors import printable
from infra_conformance.platforms import PLATFORMS
from infra_conformance.profile_ops import Accounts, Backup, Faults, Tls
from infra_conformance.profile_stores import STORES, Postgres, Redis, secret_keys
from infra_conformance.profile_types import (
    Capability,
    ContainerPath,
    Email,
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
    UrlPath,
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
    pg_settings: dict[SqlName, Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]] = Field(
        {}, description="a PostgreSQL service's settings as SHOW must report them, e.g. fsync = \"off\" (PRF-02)")


class Published(Strict):
    service: Name = Field(description="the service that publishes the port")
    port: Port = Field(description="its container port")
    public: bool = Field(False, description="true allows a non-loopback host address")


class Ports(Strict):
    published: tuple[Published, ...] = Field((), description="the only ports that may be published")


class Stack(Strict):
    name: Name = Field(description="the stack's name, shown in reports")
    compose_files: tuple[RelativeFile, ...] = Field(min_length=1, description="compose files, in order")
    platforms: tuple[Literal[tuple(PLATFORMS)], ...] = Field(
        (), description="the platforms the stack promises to build and run on, e.g. linux/arm64")


class Api(Strict):
    gateway_service: Name = Field(description="the service that publishes the API")
    gateway_port: Port = Field(description="its container port")
    login_path: UrlPath = Field(description='POST {"tenant", "email", "password"} -> {"access_token"}')
    me_path: UrlPath = Field(description='GET with the token -> {"email", "role", ...}')
    probe_path: UrlPath = Field(description="GET: 200 with the token, 401 without")
    tenant: Slug = Field(description="the tenant of the login user")
    email: Email = Field(description="the login user")
    password_secret: Name = Field(description="the secret holding the logins' password")
    accounts: Accounts | None = Field(None, description="the stack's login commands: the suite makes its logins "
                                                        "(email, tenant_users, role_users) before the controls and "
                                                        "removes them after; none: the stack already has them")
    cors_origins: tuple[Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")], ...] = Field(
        (), description="the only origins that get Access-Control-Allow-Origin; [] promises none at all")
    login_rate_per_s: int = Field(0, ge=0, le=1000, description="the gateway's login limit (0: none promised)")
    login_burst: int = Field(0, ge=0, le=10000, description="the burst allowed past that rate")
    tls: Tls | None = Field(None, description="the gateway terminates TLS (GW-07); none: plain HTTP only")
    tenant_users: dict[Slug, Email] = Field({}, description="a user of each of two or more tenants")
    resources: tuple[UrlPath, ...] = Field((), description='GET -> {"items": [{"id", ...}]}, GET <path>/<id>')
    static_paths: tuple[UrlPath, ...] = Field(
        (), description="static assets the gateway serves: each with its type, a day or more of Cache-Control, "
                        "the security headers, and gzip for text")
    role_users: dict[Slug, Email] = Field({}, description="role -> a user of `tenant` with that role")
    method_roles: dict[Literal["GET", "POST", "PATCH", "DELETE"], tuple[Slug, ...]] = Field(
        {}, description="method -> the roles allowed to send it to `probe_path`; any other gets 403")
    probe_body: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")], str | int | bool] = Field(
        {}, description="a row that POST `probe_path` accepts; needed when method_roles lists a write")
    api_rate_per_s: int = Field(0, ge=0, le=1000, description="the gateway's /api/ limit per bearer token (0: none)")
    api_burst: int = Field(0, ge=0, le=10000, description="the burst allowed past that rate")
    logout_path: UrlPath | None = Field(None, description="POST with the token revokes its session")
    jwt_secret: Name | None = Field(None, description="the secret holding the HS256 key, to forge expired and "
                                                      "foreign tokens (API-08)")
    jwt_tenant_claim: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")] = Field(
        "tid", description="the token claim that names the tenant")
    metrics_service: Name | None = Field(None, description="the service that serves Prometheus metrics, inside only")
    metrics_port: Port | None = Field(None, description="its container port for them")
    metrics_path: UrlPath = Field("/metrics", description="their path, on that port and never through the gateway")

    @model_validator(mode="after")
    def _consistent(self):
        if (self.metrics_service is None) != (self.metrics_port is None):
            raise ValueError("'api.metrics_service' and 'api.metrics_port' go together")
        if len(self.tenant_users) == 1:
            raise ValueError("'tenant_users' must name a user of at least two tenants")
        if self.accounts and (clash := set(self.accounts.sample_users.values()) & {e for _, e, _ in self.logins()}):
            raise ValueError(f"'api.accounts.sample_users' names {printable(sorted(clash)[0])}, a login the suite "
                             "makes: give the suite's logins their own addresses")
        if set(self.method_roles) - {"GET"} and not self.probe_body:
            raise ValueError("'api.probe_body' is missing: api.method_roles lists POST, PATCH or DELETE")
        return self

    def logins(self) -> list[tuple[str, str, str]]:
        """(tenant, e-mail, role) of each login the controls use, once each.

        >>> api = Api(gateway_service="gw", gateway_port=80, login_path="/l", me_path="/m", probe_path="/p",
        ...           tenant="a", email="x@a.test", password_secret="s", role_users={"staff": "y@a.test"},
        ...           tenant_users={"a": "x@a.test", "b": "x@b.test"},
        ...           accounts={"service": "db", "add": ("add",), "remove": ("rm",), "role": "admin"})
        >>> api.logins()
        [('a', 'y@a.test', 'staff'), ('a', 'x@a.test', 'admin'), ('b', 'x@b.test', 'admin')]
        """
        role = self.accounts.role if self.accounts else ""
        found = {(self.tenant, email): r for r, email in self.role_users.items()}
        for tenant, email in [(self.tenant, self.email), *self.tenant_users.items()]:
            found.setdefault((tenant, email), role)
        return [(tenant, email, r) for (tenant, email), r in found.items()]


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


class Budgets(Strict):
    startup_s: Positive = Field(description="seconds from `up` to every service healthy")
    memory_mb: Positive = Field(description="MiB of memory for the whole stack")
    api_p95_ms: Positive | None = Field(None, description="API p95 latency under load, ms; required with [api] "
                                                         "and [load]")
    db_query_p95_ms: Positive = Field(100.0, description="DB query p95 as the app role, ms")
    cpu_percent: Positive = Field(50.0, le=100, description="CPU under load, as a share of a Pi 4's four cores")


SET_BY_SUITE = ("directory", "compose_profile", "declared_services")  # never read from the file


class Profile(Strict):
    directory: Path = Field(description="(set by the suite) the stack folder")
    secrets: tuple[Name, ...] = Field((), description="secrets the compose files read from ${SECRETS_DIR}/<name>")
    compose_profiles: tuple[Slug, ...] = Field(
        (), description="the compose profiles the stack defines; PRF-01 checks what each one runs and publishes")
    compose_profile: Slug | None = Field(None, description="(set by the suite) the compose profile the run boots")
    declared_services: dict[Name, Service] = Field(
        {}, description="(set by the suite) every service of [services], in any compose profile")
    stack: Stack
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
