"""Render the control catalogue, ``docs/controls.md``, from the controls in ``suites/`` and their mutants.

    python -m infra_conformance.controls.catalogue > docs/controls.md
"""

from __future__ import annotations

import importlib.util
import inspect
from itertools import groupby
from pathlib import Path

from infra_conformance.controls import mutants
from infra_conformance.controls.metadata import Control, control_of

SUITES = Path(__file__).parents[2] / "suites"


def suite_modules(suites: Path = SUITES):
    """Each ``test_*.py`` of ``suites``, loaded as a module (not collected by pytest), in name order."""
    for path in sorted(suites.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"suites.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def controls(suites: Path = SUITES) -> list[tuple[str, Control]]:
    """(section title, control) for every control, in module order, then ID order."""
    found = []
    for module in suite_modules(suites):
        title = (inspect.getdoc(module) or module.__name__.rsplit(".", 1)[-1]).splitlines()[0]
        members = [control_of(f) for _, f in inspect.getmembers(module, inspect.isfunction)]
        found += [(title, c) for c in sorted(filter(None, members), key=lambda c: c.id)]
    return found


def render(suites: Path = SUITES) -> str:
    killers = mutants.by_control()
    lines = ["# Controls", "",
             "Generated from `suites/` and `tests/mutants/` by `python -m infra_conformance.controls.catalogue >",
             "docs/controls.md`; a unit test fails when this file is stale. Claim IDs are defined in",
             "[claims.md](claims.md); a mutant breaks the reference stack so that the control fails",
             "([tests/mutants/README.md](../tests/mutants/README.md))."]
    for title, group in groupby(controls(suites), key=lambda item: item[0]):
        lines += ["", f"## {title}", "",
                  "| ID | severity | title | claims | mutants | rationale | fix | references |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {c.id} | {c.severity} | {c.title} | {', '.join(c.claims)} | {', '.join(killers.get(c.id, []))} | "
                  f"{c.rationale} | {c.fix.replace('|', '&#124;')} | {'<br>'.join(_link(r) for r in c.references)} |"
                  for _, c in group]
    return "\n".join(lines) + "\n"


def _link(reference: str) -> str:
    return f"<{reference}>" if reference.startswith("https://") else reference


if __name__ == "__main__":
    print(render(), end="")
