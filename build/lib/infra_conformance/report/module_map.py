"""Render the map of modules in ``docs/architecture.md`` from the code: each module with its docstring's first sentence.

    python -m infra_conformance.report.module_map    # rewrites the map between its markers
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "architecture.md"
START, END = "<!-- modules: generated from the code -->", "<!-- /modules -->"
LAYERS = (("infra_conformance", "the library: no pytest import"), ("fixtures", "the pytest plugins"),
          ("suites", "the controls"))


def first_line(path: Path) -> str:
    """The module's job, as the first sentence of its docstring says it."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(doc.split("\n\n")[0].split())


def render(root: Path = ROOT) -> str:
    lines = [START]
    for folder, what in LAYERS:
        lines += ["", f"`{folder}/`, {what}:", "", "| module | its job |", "|---|---|"]
        lines += [f"| `{path.relative_to(root / folder).with_suffix('')}` | {first_line(path).replace('|', '&#124;')} |"
                  for path in sorted((root / folder).rglob("*.py")) if path.name != "__init__.py"]
    return "\n".join([*lines, "", END])


def current(doc: Path = DOC) -> str:
    text = doc.read_text()
    return text[text.index(START):text.index(END) + len(END)]


if __name__ == "__main__":
    DOC.write_text(DOC.read_text().replace(current(), render()))
