"""The profile's [api] section: the login flow, the roles and tenants to try, and the gateway's promises."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra_conformance.errors import printable
from infra_conformance.profile.ops import Accounts, Tls
from infra_conformance.profile.types import Email, Name, Port, Slug, Strict, UrlPath


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
        {}, description="method -> the roles allowed to send it to every resource route (`probe_path` and "
                    "`resources`); any other gets 403")
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
