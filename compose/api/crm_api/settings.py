"""Configuration from environment variables and secret files."""

import os
from dataclasses import dataclass, field


def _secret(name: str) -> str:
    """Read secret `name` from the file in NAME_FILE, default /run/secrets/name."""
    path = os.environ.get(f"{name.upper()}_FILE", f"/run/secrets/{name}")
    try:
        with open(path, encoding="utf-8") as fh:
            value = fh.read().strip()
    except OSError as exc:
        raise RuntimeError(f"secret {name} unreadable at {path}") from exc
    if not value:
        raise RuntimeError(f"secret {name} is empty at {path}")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime settings; secret values are kept out of repr()."""

    pghost: str
    pgport: int
    pgdatabase: str
    pguser: str
    redis_host: str
    redis_port: int
    redis_user: str
    jwt_ttl: int
    pg_password: str = field(repr=False)
    redis_password: str = field(repr=False)
    jwt_secret: str = field(repr=False)


def load() -> Settings:
    """Build Settings from the environment; fails fast on a missing secret."""
    env = os.environ.get
    return Settings(
        pghost=env("PGHOST", "postgres"),
        pgport=int(env("PGPORT", "5432")),
        pgdatabase=env("PGDATABASE", "crm"),
        pguser=env("PGUSER", "crm_app"),
        redis_host=env("REDIS_HOST", "redis"),
        redis_port=int(env("REDIS_PORT", "6379")),
        redis_user=env("REDIS_USER", "app"),
        jwt_ttl=int(env("JWT_TTL", "3600")),
        pg_password=_secret("pg_app_password"),
        redis_password=_secret("redis_password"),
        jwt_secret=_secret("jwt_secret"),
    )
