"""One line for the first thing a strict schema refused: the key, what was wrong, the value echoed safely."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ValidationError

from infra_conformance.errors import printable


def problem(error: ValidationError, model: type[BaseModel], name=lambda key: f"key '{key}'") -> str:
    """The first error, with the key as ``name`` shows it and a "did you mean" for an unknown key."""
    first = error.errors()[0]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
    if first["type"] == "extra_forbidden":
        hint = did_you_mean(model, first["loc"])
        return f"unknown key '{printable(key, quote=False)}'" + (f" (did you mean '{hint}'?)" if hint else "")
    if first["type"] == "missing":
        return f"missing key '{key}'"
    message = first["msg"].removeprefix("Value error, ")
    if not key:
        return message
    value = first.get("input")
    shown = "" if isinstance(value, dict | tuple | list) or value is None or first["type"] == "value_error" \
        else f", found {printable(value)}"
    return f"{name(key)}: {message[0].lower() + message[1:]}{shown}"


def did_you_mean(model: type[BaseModel], loc: tuple) -> str | None:
    """The closest known key to an unknown one at ``loc``, by following the schema."""
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = model_of(field.annotation) if field else None
    if model is None or not isinstance(loc[-1], str):
        return None
    close = difflib.get_close_matches(loc[-1], model.model_fields, n=1, cutoff=0.6)
    return close[0] if close else None


def model_of(annotation) -> type[BaseModel] | None:
    """The model inside ``Model``, ``Model | None``, ``dict[str, Model]`` or ``tuple[Model, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        if found := model_of(argument):
            return found
    return None
