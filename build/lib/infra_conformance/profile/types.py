"""The profile's building blocks: strict models and the value types its keys share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
REDIS_UNITS = {"b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}

# Compose's grammar for service and secret names, ASCII only.
Name = Annotated[str, Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")]
SqlName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Email = Annotated[str, Field(pattern=r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}$")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
EnvValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:/@+=,-]{0,256}$")]  # no spaces, quotes or $
UrlPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}$")]
ContainerPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9._/-]{0,255}$")]
RelativeFile = Annotated[str, Field(pattern=r"^[A-Za-z0-9._/-]{1,255}$")]
Capability = Annotated[str, Field(pattern=r"^(CAP_)?[A-Z_]{2,32}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Uid = Annotated[int, Field(ge=1, le=2**31 - 1)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
ReachTarget = Annotated[str, Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}:[0-9]{1,5}$")]


class Strict(BaseModel):
    """No unknown keys, no coercion between types, frozen once read."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
