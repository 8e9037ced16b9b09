"""Control metadata: ``@pytest.mark.control("CTR-01", severity="high", claims=["Z6"])`` and its docstring.

The title is the docstring's first paragraph (it may wrap); then come ``Rationale:``, ``Fix:`` (what to change,
with a snippet), ``References:`` (separated by ``;``) and, where a case loops over instances of its promise,
``Covers:`` (what it loops over), each a paragraph of its own.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from infra_conformance.controls.areas import ID_PATTERN

SEVERITIES = ("critical", "high", "medium", "low")
# What a control's outcome tells the rest of the run (``proves=`` in its marker): "platform", when the run proves
# its platform only if every such control passed; "healthy start", the control that fails when the stack's own
# configuration keeps a service from starting; "compose profile", a control whose passing case (a service) shows
# that a service of another compose profile than the booted one runs as promised. The library knows these, never a
# control's ID.
PROVES = ("", "platform", "healthy start", "compose profile")


@dataclass(frozen=True)
class Control:
    id: str
    severity: str
    claims: tuple[str, ...]
    title: str
    rationale: str
    fix: str = ""
    references: tuple[str, ...] = ()
    proves: str = ""
    arguments: tuple[str, ...] = ()  # the test function's arguments: the fixtures and parameters its cases take
    covers: str = ""


def sections(doc: str) -> dict[str, str]:
    r"""The ``Name:`` paragraphs of a docstring, each joined into one line.

    >>> sections("Title.\n\nRationale: why\nit matters.\n\nFix: do this.")
    {'Rationale': 'why it matters.', 'Fix': 'do this.'}
    """
    found = {}
    for paragraph in doc.split("\n\n")[1:]:
        name, colon, text = paragraph.partition(":")
        if colon and name.strip() in ("Rationale", "Fix", "References", "Covers"):
            found[name.strip()] = " ".join(text.split())
    return found


def control_of(function) -> Control | None:
    """The Control a test function declares, or None if it has no control marker."""
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "control"]
    if not marks:
        return None
    mark = marks[0]
    doc = inspect.getdoc(function) or ""
    title = " ".join(doc.split("\n\n")[0].split())  # the first paragraph, which may wrap
    parts = sections(doc)
    references = tuple(r.strip() for r in parts.get("References", "").split(";") if r.strip())
    return Control(mark.args[0] if mark.args else "", mark.kwargs.get("severity", ""),
                   tuple(mark.kwargs.get("claims", ())), title, parts.get("Rationale", ""),
                   parts.get("Fix", ""), references, mark.kwargs.get("proves", ""),
                   tuple(inspect.signature(function).parameters), parts.get("Covers", ""))


def problems(control: Control, where: str) -> list[str]:
    found = []
    if not ID_PATTERN.match(control.id):
        found.append(f"{where}: control ID '{control.id}' does not look like AREA-NN")
    if control.severity not in SEVERITIES:
        found.append(f"{where}: severity '{control.severity}' is not one of {', '.join(SEVERITIES)}")
    if control.proves not in PROVES:
        found.append(f"{where}: proves '{control.proves}' is not one of {', '.join(filter(None, PROVES))}")
    if not control.claims:
        found.append(f"{where}: control {control.id} names no claims")
    if not control.title or not control.rationale:
        found.append(f"{where}: control {control.id} needs a docstring with a title and 'Rationale:'")
    if not control.fix or not control.references:
        found.append(f"{where}: control {control.id} needs 'Fix:' and 'References:' paragraphs in its docstring")
    return found

