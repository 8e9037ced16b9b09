"""Imports run one way: library, then plugins, then controls; the library never imports pytest."""

import ast
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
    wrong = {str(p.relative_to(ROOT)): sorted(imports(p) & FORBIDDEN[folder]) for p in (ROOT / folder).glob("*.py")}
    assert not {k: v for k, v in wrong.items() if v}


def test_report_is_the_top_plugin():
    users = [p.name for p in (ROOT / "fixtures").glob("*.py") if "fixtures.report" in p.read_text()
             and p.name != "report.py"]
    assert users == []
