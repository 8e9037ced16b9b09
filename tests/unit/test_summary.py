"""The typed summary's rules, case by case, with no Docker: the verdict, the coverage, and summary.json's schema."""

import json
from pathlib import Path

import jsonschema
import pytest

from infra_conformance.report.summary import SCHEMA_VERSION, Case, Summary, not_applicable, skip_outcome

ROOT = Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "docs" / "summary.schema.json").read_text())


def _cases(*outcomes) -> list[Case]:
    return [Case(f"CTR-{n:02}", "title", "high", ["Z6"], f"suites/t.py::t{n}[api]", outcome=outcome,
                 message=None if outcome in ("passed", None) else "why") for n, outcome in enumerate(outcomes, 1)]


@pytest.mark.parametrize("outcomes, verdict, line", [
    (["passed", "passed"], "passed", "PASSED"),
    (["passed", "not_applicable"], "passed", "PASSED"),
    (["passed", "not_checked"], "partial", "PASSED (partial: 1 of 2 cases not checked)"),
    (["passed", "waived"], "passed", "PASSED"),
    (["passed", "failed", "not_checked"], "failed", "FAILED"),
    (["passed", None], "incomplete", "INCOMPLETE"),
    (["failed", None], "failed", "FAILED"),
    (["passed", "not_checked", None], "incomplete", "INCOMPLETE"),
    ([], "no results", "NO RESULTS"),
    (["not_checked", "not_checked"], "no results", "NO RESULTS"),
    (["not_applicable"], "no results", "NO RESULTS"),
    ([None, None], "no results", "NO RESULTS"),
], ids=lambda value: str(value))
def test_verdict(outcomes, verdict, line):
    summary = Summary(_cases(*outcomes))
    assert (summary.verdict, summary.verdict_line) == (verdict, line)


def test_an_expired_waiver_fails_a_run_that_otherwise_passed():
    summary = Summary(_cases("passed"), waivers={"expired": [{"control": "CTR-01"}], "stale": []})
    assert summary.verdict == "failed"


def test_coverage_names_each_case_not_checked_and_why():
    cases = _cases("passed", "not_checked", None, "not_applicable")
    summary = Summary(cases)
    coverage = summary.coverage
    assert coverage["cases"] == 4
    assert coverage["counts"] == {"passed": 1, "failed": 0, "waived": 0, "not_applicable": 1, "not_checked": 1,
                                  "not_run": 1}
    assert coverage["not_fully_checked"] == [
        {"id": "CTR-02", "cases": [{"case": "api", "outcome": "not_checked", "reason": "why"}]},
        {"id": "CTR-03", "cases": [{"case": "api", "outcome": "not_run",
                                    "reason": "the run ended before this case had a result"}]}]


def test_only_a_reason_that_names_the_profile_key_is_not_applicable():
    assert skip_outcome(not_applicable("redis", "the profile has no [redis] section")) == "not_applicable"
    assert skip_outcome("the profile has no [redis] section") == "not_checked"
    assert skip_outcome(None) == "not_checked"


def test_summary_json_matches_its_schema():
    summary = Summary(_cases("passed", "failed", "waived", "not_applicable", "not_checked", None),
                      {"name": "s", "arch": "x86_64", "pi_emulation": False},
                      {"engine": "20.10", "suite": "0.1.0", "stack_revision": "4f2a9c1"},
                      [{"name": "API p95", "measured": 42.0, "limit": 200.0, "unit": "ms", "passed": True,
                        "result": "pass"}])
    summary.compose_profiles = {"booted": None, "proven": ["prod"], "not_proven": {"dev": ["admin"]}}
    found = json.loads(json.dumps(summary.as_dict()))
    jsonschema.validate(found, SCHEMA)
    assert found["schema_version"] == SCHEMA_VERSION == SCHEMA["properties"]["schema_version"]["const"]
    assert [c["outcome"] for c in found["controls"]] == ["passed", "failed", "waived", "not_applicable",
                                                         "not_checked"]
