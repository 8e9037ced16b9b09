"""Imports run one way: library, then plugins, then controls; the library never imports pytest."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PLUGINS, SUITES = "infra_conformance.plugins", "infra_conformance.suites"  # fixtures/ and suites/, as installed
FORBIDDEN = {  # folder -> modules it may not import
    "infra_conformance": {"pytest", "_pytest", "fixtures", "suites", "tests", "testinfra", "pytest_docker", PLUGINS,
                          SUITES},
    "fixtures": {"fixtures", "suites", "tests", SUITES},
    "suites": {"fixtures", "tests"},
}


def imports(path: Path) -> set[str]:
    """Each imported module's top-level name, and the plugins' and suites' package names as installed."""
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
              and node.level == 0}
    return ({name.split(".")[0] for name in names}
            | {package for package in (PLUGINS, SUITES) for name in names if name.startswith(package)})


@pytest.mark.parametrize("folder", FORBIDDEN)
def test_no_import_runs_upward(folder):
    wrong = {str(p.relative_to(ROOT)): sorted(imports(p) & FORBIDDEN[folder]) for p in (ROOT / folder).rglob("*.py")}
    assert not {k: v for k, v in wrong.items() if v}


def test_the_report_plugins_are_the_top_layer():
    """Only the HTML report reads the summary plugin; no other plugin imports either of them (the package's
    ``__init__`` only lists every plugin, to load them)."""
    report = {"results.py", "html_report.py", "__init__.py"}
    users = [p.name for p in (ROOT / "fixtures").glob("*.py") if p.name not in report
             and any(f"{PLUGINS}.{name}" in p.read_text() for name in ("results", "html_report"))]
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
