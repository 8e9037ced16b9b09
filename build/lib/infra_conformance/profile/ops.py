"""The profile's operational promises: how the stack rides out faults, its backup and login commands, and its
gateway's TLS."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from infra_conformance.profile.types import ContainerPath, Email, Name, Port, Positive, Slug, Strict


def _no_parent(value: str) -> str:
    if ".." in value.split("/"):
        raise ValueError("a '..' path segment is not allowed")
    return value


Argument = Annotated[str, Field(pattern=r"^[A-Za-z0-9._/=:@+-]{1,255}$"), AfterValidator(_no_parent)]  # never a shell
Command = Annotated[tuple[Argument, ...], Field(min_length=1, max_length=32)]


class Faults(Strict):
    recovery_s: Positive = Field(30.0, le=600, description="seconds the API may take to serve writes again once "
                                                           "PostgreSQL is back, without being restarted")


class Backup(Strict):
    service: Name = Field(description="the compose service that runs each command (`docker compose run --rm`); "
                                      "it has coreutils, tar and the `directory` volume")
    directory: ContainerPath = Field(description="where that service keeps the backups")
    backup: Command = Field(description="makes a backup and its `<file>.sha256`; prints the backup's path last")
    verify: Command = Field(description="with a backup's path appended: exit 0 only when the backup is intact")
    restore: Command = Field(description="with a backup's path appended: takes a safety backup, then restores; "
                                         "without `confirm` it asks, and does nothing unless told yes")
    confirm: Command = Field(("--yes",), description="added to `restore` to answer its question yes")
    prune: Command = Field(description="removes the backups older than `retention_days` and keeps the rest")
    retention_days: int = Field(ge=1, le=3650, description="the age in days at which `prune` removes a backup")


class Accounts(Strict):
    service: Name = Field(description="the compose service that runs `add` and `remove` (`docker compose exec`)")
    add: Command = Field(description="makes, or updates, the logins on its stdin, one per line: tenant, e-mail, role "
                                     "and password, tab-separated")
    remove: Command = Field(description="deletes the logins on its stdin, one per line: tenant and e-mail, "
                                        "tab-separated")
    role: Slug = Field(description="the role of a `tenant_users` login that `role_users` does not name")
    sample_users: dict[Slug, Email] = Field(
        {}, description="role -> the development seed's login of that role in `api.tenant`, with the password in "
                        "`api.password_secret` (PRF-03)")
    sample_compose_profiles: tuple[Slug, ...] = Field(
        (), description="the compose profiles whose stack has the sample users; in every other, none logs in")


class Tls(Strict):
    port: Port = Field(description="the gateway's container port that terminates TLS")
    cert_secret: Name = Field(description="the secret the suite fills with this run's self-signed certificate (PEM, "
                                          "for 127.0.0.1 and localhost)")
    key_secret: Name = Field(description="the secret the suite fills with that certificate's private key (PEM)")
    hsts_min_age_s: int = Field(15552000, ge=0, le=63072000,
                                description="the least Strict-Transport-Security max-age accepted (180 days)")
