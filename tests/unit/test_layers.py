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


def test_the_report_plugins_are_the_top_layer():
    """Only the HTML report reads the summary plugin; no other plugin imports either of them."""
    report = {"report.py", "review.py"}
    users = [p.name for p in (ROOT / "fixtures").glob("*.py") if p.name not in report
             and ("fixtures.report" in p.read_text() or "fixtures.review" in p.read_text())]
    assert users == []
