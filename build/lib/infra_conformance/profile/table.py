"""Render the table of profile keys in ``docs/profile.md`` from the schema itself.

    python -m infra_conformance.profile.table    # rewrites the table between its markers
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from infra_conformance.profile.schema import SET_BY_SUITE, Profile
from infra_conformance.profile.schema_errors import model_of

DOC = Path(__file__).parents[2] / "docs" / "profile.md"
START, END = "<!-- keys: generated from the schema -->", "<!-- /keys -->"


def rows(model: type[BaseModel] = Profile, prefix: str = "") -> list[str]:
    """One Markdown row per key, nested tables walked depth first."""
    found = []
    for name, field in model.model_fields.items():
        if name in SET_BY_SUITE:
            continue
        nested = model_of(field.annotation)
        key = f"{prefix}{name}" + (".<name>" if "dict" in str(field.annotation) and nested else "")
        if nested:
            found += rows(nested, key + ("[]." if "tuple" in str(field.annotation) else "."))
            continue
        required = field.default is PydanticUndefined
        default = "required" if required else f"`{field.default!r}`".replace("()", "[]")
        found.append(f"| `{key}` | {default} | {field.description or ''} |")
    return found


def render() -> str:
    return "\n".join([START, "", "| key | default | meaning |", "|---|---|---|", *rows(), "", END])


def current(doc: Path = DOC) -> str:
    text = doc.read_text()
    return text[text.index(START):text.index(END) + len(END)]


if __name__ == "__main__":
    DOC.write_text(DOC.read_text().replace(current(), render()))
