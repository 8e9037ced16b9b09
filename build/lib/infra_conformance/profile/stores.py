"""The profile's data-store sections, strictly typed: what PostgreSQL and Redis promise."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra_conformance.profile.types import REDIS_UNITS, TABLE_PRIVILEGES, Name, Port, Slug, SqlName, Strict


class Postgres(Strict):
    service: Name = Field(description="the PostgreSQL service")
    port: Port = Field(description="its container port")
    database: SqlName = Field(description="the application database")
    admin_user: SqlName = Field(description="a superuser role, to read the catalogue")
    admin_password_secret: Name = Field(description="the secret holding its password")
    app_user: SqlName = Field(description="the role the application connects as")
    app_password_secret: Name = Field(description="the secret holding its password")
    min_version: int = Field(ge=9, le=99, description="the lowest major version allowed")
    extensions: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,63}$")], ...] = Field(
        (), description="extensions that must be installed")
    tenant_tables: tuple[SqlName, ...] = Field((), description="tables that must have forced row-level security")
    tenant_setting: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")] = Field(
        "app.tenant_id", description="the setting the policies read; set with set_config(..., true)")
    tenant_column: SqlName = Field("tenant_id", description="the tenant column of each tenant table")
    tenants: tuple[Slug, ...] = Field((), description="two or more tenant slugs; isolation is tested between them")
    tenants_table: SqlName = Field("tenants", description="where a tenant's id is found by slug")
    tls: bool = Field(False, description="TCP only with TLS")
    audit_table: SqlName | None = Field(
        None, description="schema.table with columns at, actor, tenant_id, operation and row_id: a row for "
                          "every write to a tenant table, which the app role cannot change")
    definer_routines: tuple[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\(.*\)$")], ...] = (
        Field((), description="SECURITY DEFINER routines the app role may call, reviewed for tenant checks, as "
                              "schema.name(argument types)"))
    app_grants: tuple[Literal[TABLE_PRIVILEGES], ...] | None = Field(
        None, description="the only table privileges the app role may hold")
    schemas: tuple[SqlName, ...] = Field((), description="schemas that must exist")
    tables: tuple[SqlName, ...] = Field((), description="tables with a uuid key, updated_at and FK indexes")
    enums: tuple[SqlName, ...] = Field((), description="enum types that must exist")

    @model_validator(mode="after")
    def _two_tenants(self):
        if len(self.tenants) == 1:
            raise ValueError("'tenants' must list at least two tenants: isolation is tested between them")
        return self


class Redis(Strict):
    service: Name = Field(description="the Redis service")
    port: Port = Field(description="its container port")
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = Field(description="the application's ACL user")
    password_secret: Name = Field(description="the secret holding its password")
    admin_user: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        None, description="reads INFO and CONFIG; without it those controls are not checked")
    admin_password_secret: Name | None = Field(None, description="the secret holding the admin's password")
    appendonly: bool = Field(False, description="AOF on; a key survives SIGKILL and a restart")
    maxmemory: Annotated[str, Field(pattern=r"^[0-9]{1,15}(b|k|kb|m|mb|g|gb)?$")] | None = Field(
        None, description="Redis units: 64mb is 64 MiB, 64m is 64,000,000 bytes")
    maxmemory_policy: Literal["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                              "volatile-lfu", "volatile-random", "volatile-ttl"] | None = Field(
        None, description="the eviction policy")

    @model_validator(mode="after")
    def _admin_pair(self):
        if (self.admin_user is None) != (self.admin_password_secret is None):
            raise ValueError("'admin_user' and 'admin_password_secret' go together")
        return self

    @property
    def maxmemory_bytes(self) -> int | None:
        """``maxmemory`` in bytes, with Redis's units."""
        if self.maxmemory is None:
            return None
        number, unit = re.fullmatch(r"([0-9]+)([a-z]*)", self.maxmemory).groups()
        return int(number) * REDIS_UNITS[unit or "b"]


# The data stores a profile can describe: section name -> its model. Each has the service, the container port the
# suite reaches it on, and its secrets in keys ending ``password_secret``. Adding one is one entry here, its model,
# its profile field, its client fixture and its controls; tests/unit/test_registries.py names what is missing.
STORES: dict[str, type[Strict]] = {"postgres": Postgres, "redis": Redis}


def secret_keys(section: Strict) -> list[tuple[str, str]]:
    """(key, secret name) of every secret a section names."""
    return [(key, value) for key, value in section.__dict__.items()
            if (key.endswith("password_secret") or key == "jwt_secret") and value is not None]
