"""Waivers and the verdict through the suite's own plugins, on controls that need no stack (pytester, no Docker):
a waived failure, a stale waiver, an expired one, an unknown one, a partial run and --require-complete."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
pytest_plugins = ["pytester"]

CONTROLS = '''
import pytest


def _doc(title):
    return f"{title}\\n\\nRationale: why.\\n\\nFix: do this.\\n\\nReferences: CIS 5.1"


@pytest.mark.control("CTR-01", severity="high", claims=["Z6"])
@pytest.mark.parametrize("who", ["api", "gateway"])
def test_fails_for_api(who):
    assert who != "api", f"{who}: expected a non-root user, found 0"
test_fails_for_api.__doc__ = _doc("Runs as non-root")


@pytest.mark.control("CTR-02", severity="high", claims=["Z6"])
def test_passes():
    pass
test_passes.__doc__ = _doc("Passes")
'''


@pytest.fixture
def suite(pytester):
    pytester.makeconftest(f"import runpy\npytest_plugins = runpy.run_path({str(ROOT / 'conftest.py')!r})"
                          "['pytest_plugins']\n")
    pytester.makepyfile(test_waiver_targets=CONTROLS)

    def run(waivers: str | None, *args: str):
        if waivers is not None:
            (pytester.path / "waivers.toml").write_text(waivers)
            args = ("--waivers", str(pytester.path / "waivers.toml"), *args)
        result = pytester.runpytest_inprocess("--reports-dir", str(pytester.path / "reports"), "--junitxml",
                                              str(pytester.path / "reports" / "junit.xml"), *args)
        path = pytester.path / "reports" / "summary.json"
        return result, json.loads(path.read_text()) if path.exists() else None
    return run


def _waiver(control: str, expires: str, case: str | None = None) -> str:
    where = f'case = "{case}"\n' if case else ""
    return f'[[waiver]]\ncontrol = "{control}"\n{where}reason = "vendor image until 2.0"\nexpires = {expires}\n'


def test_without_waivers_the_failure_fails(suite):
    result, summary = suite(None)
    assert result.ret == 1 and summary["verdict"] == "failed"


def test_a_waived_failure_runs_is_shown_and_does_not_fail_the_run(suite, pytester):
    result, summary = suite(_waiver("CTR-01", "2099-01-01", "api") + _waiver("CTR-02", "2099-01-01"))
    assert result.ret == 0, result.outlines
    outcomes = {(c["id"], c["case"]): (c["outcome"], c["message"]) for c in summary["controls"]}
    assert outcomes[("CTR-01", "api")] == (
        "waived", "waived until 2099-01-01: vendor image until 2.0; found: AssertionError: api: expected a non-root "
        "user, found 0")
    assert summary["verdict_line"] == "PASSED"
    assert [w["control"] for w in summary["waivers"]["stale"]] == ["CTR-02"]  # it passed: the waiver can go
    junit = ET.parse(pytester.path / "reports" / "junit.xml").getroot()
    skipped = [case.find("skipped") for case in junit.iter("testcase") if case.get("name") == "test_fails_for_api[api]"]
    assert skipped[0] is not None and "vendor image until 2.0" in skipped[0].get("message")
    sarif = json.loads((pytester.path / "reports" / "conformance.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["suppressions"][0]["justification"].startswith("waived until 2099-01-01")
    assert "Waivers" in (pytester.path / "reports" / "summary.md").read_text()


def test_an_expired_waiver_fails_the_run_with_one_line_that_names_it(suite):
    result, summary = suite(_waiver("CTR-01", "2020-01-01", "api"))
    assert result.ret == 1 and summary["verdict"] == "failed"
    assert [c["outcome"] for c in summary["controls"] if c["case"] == "api"] == ["failed"]  # it covers nothing
    assert any("the waiver for CTR-01[api] expired on 2020-01-01" in line for line in result.outlines)


def test_an_expired_waiver_fails_even_a_run_that_passes(suite):
    result, summary = suite(_waiver("CTR-02", "2020-01-01"), "-k", "passes")
    assert result.ret == 1 and summary["verdict"] == "failed"


@pytest.mark.parametrize("waiver, said", [
    (_waiver("CTR-99", "2099-01-01"), "waiver CTR-99: no such control"),
    (_waiver("CTR-01", "2099-01-01", "web"), "waiver CTR-01[web]: the control has no such case (it has: api, "
                                             "gateway)"),
])
def test_a_waiver_for_an_unknown_control_or_case_is_exit_4(suite, waiver, said):
    result, _ = suite(waiver)
    assert result.ret == 4 and any(said in line for line in result.errlines), result.errlines


def test_a_partial_run_says_so_and_require_complete_fails_it(suite):
    result, summary = suite(None, "--control", "CTR-02")
    assert result.ret == 0 and summary["verdict_line"] == "PASSED (partial: 2 of 3 cases not checked)"
    assert summary["coverage"]["not_fully_checked"][0]["id"] == "CTR-01"
    assert any("PASSED (partial: 2 of 3 cases not checked)" in line for line in result.outlines)
    result, summary = suite(None, "--control", "CTR-02", "--require-complete")
    assert result.ret == 1 and summary["verdict"] == "partial"
