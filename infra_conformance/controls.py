"""Control metadata: ``@pytest.mark.control("CTR-01", severity="high", claims=["Z6"])``.

The title is the first docstring line; the docstring also holds a ``Rationale:``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

SEVERITIES = ("critical", "high", "medium", "low")
ID_PATTERN = re.compile(r"^(CTR|NET|PG|RLS|RDS|API|GW|RES|BUD)-\d{2}$")


@dataclass(frozen=True)
class Control:
    id: str
    severity: str
    claims: tuple[str, ...]
    title: str
    rationale: str


def control_of(function) -> Control | None:
    """The Control a test function declares, or None if it has no control marker."""
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "control"]
    if not marks:
        return None
    mark = marks[0]
    doc = inspect.getdoc(function) or ""
    title = doc.splitlines()[0] if doc else ""
    rationale = doc.split("Rationale:", 1)[1].strip() if "Rationale:" in doc else ""
    return Control(mark.args[0] if mark.args else "", mark.kwargs.get("severity", ""),
                   tuple(mark.kwargs.get("claims", ())), title, " ".join(rationale.split()))


def problems(control: Control, where: str) -> list[str]:
    found = []
    if not ID_PATTERN.match(control.id):
        found.append(f"{where}: control ID '{control.id}' does not look like AREA-NN")
    if control.severity not in SEVERITIES:
        found.append(f"{where}: severity '{control.severity}' is not one of {', '.join(SEVERITIES)}")
    if not control.claims:
        found.append(f"{where}: control {control.id} names no claims")
    if not control.title or not control.rationale:
        found.append(f"{where}: control {control.id} needs a docstring with a title and 'Rationale:'")
    return found

