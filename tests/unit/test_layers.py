"""Imports run one way: library, then plugins, then controls; the library never imports pytest."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FORBIDDEN = {  # folder -> top-level modules it may not import
    "infra_conformance": {"pytest", "_pytest", "fixtures", "suites", "tests", "testinfra", "pytest_docker"},
    "fixtures": {"suites", "tests"},
    "suites": {"tests"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return found | {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}


@pytest.mark.parametrize("folder", FORBIDDEN)
def test_no_import_runs_upward(folder):
    wrong = {str(p.relative_to(ROOT)): sorted(imports(p) & FORBIDDEN[folder]) for p in (ROOT / folder).rglob("*.py")}
    assert not {k: v for k, v in wrong.items() if v}


def test_the_report_plugins_are_the_top_layer():
    """Only the HTML report reads the summary plugin; no other plugin imports either of them."""
    report = {"results.py", "html_report.py"}
    users = [p.name for p in (ROOT / "fixtures").glob("*.py") if p.name not in report
             and ("fixtures.results" in p.read_text() or "fixtures.html_report" in p.read_text())]
    assert users == []


def test_the_library_names_no_control_id():
    """Control IDs belong to the suite: the library learns a control's role from its marker (``proves=``), never
    by matching its ID or its prefix. Prose that cites a control (a key's description, a docstring) is allowed."""
    from infra_conformance.controls.areas import AREAS

    prefixes = "|".join(area.prefix for area in AREAS)
    code_id = re.compile(rf"^({prefixes})-(\d{{2}})?$")
    found = {str(path.relative_to(ROOT)): sorted({node.value for node in ast.walk(ast.parse(path.read_text()))
                                                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                                                  and code_id.match(node.value)})
             for path in (ROOT / "infra_conformance").rglob("*.py")}
    assert not {k: v for k, v in found.items() if v}


def test_the_architecture_map_lists_every_module():
    from infra_conformance.report.module_map import current, render

    assert current() == render(), "docs/architecture.md is stale: python -m infra_conformance.report.module_map"


@pytest.mark.parametrize("folder", ["infra_conformance", "fixtures", "suites"])
def test_every_module_says_its_job_in_its_first_line(folder):
    from infra_conformance.report.module_map import first_line

    assert [p.name for p in (ROOT / folder).rglob("*.py") if p.name != "__init__.py" and not first_line(p)] == []
