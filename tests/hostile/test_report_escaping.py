"""Hostile test IDs and log lines in the HTML report stay text: pytest-html renders its cells as HTML."""

import html
import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
HOSTILE = "<img src=x onerror=alert(1)>"

TESTS = f'''
import pytest

@pytest.mark.parametrize("name", ["{HOSTILE}", "<script>alert(2)</script>"])
def test_resource(name):
    print("log line {HOSTILE}")
    assert False, name
'''


pytest_plugins = ["pytester"]


def test_hostile_ids_and_logs_render_as_text(pytester):
    pytester.makeconftest(f"import runpy\npytest_plugins = runpy.run_path({str(ROOT / 'conftest.py')!r})"
                          "['pytest_plugins']\n")
    pytester.makepyfile(test_hostile=TESTS)
    result = pytester.runpytest("--html=report.html", "--self-contained-html", "--reports-dir", str(pytester.path))
    result.assert_outcomes(failed=2)
    page = (pytester.path / "report.html").read_text()
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))
    rendered = [cell for test in blob["tests"].values() for run in test for cell in run["resultsTableRow"]]
    rendered += [run["log"] for test in blob["tests"].values() for run in test]
    assert any("&lt;img src=x" in cell for cell in rendered), rendered
    assert not [cell for cell in rendered if re.search(r"<(img|script)\b", cell)], rendered
