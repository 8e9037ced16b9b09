"""summary.md and conformance.sarif from a summary: short, sorted by severity, and valid SARIF 2.1.0."""

import json
from pathlib import Path

import jsonschema

from infra_conformance.measure.budgets import Budget
from infra_conformance.report.markdown import LIMIT_BYTES, markdown
from infra_conformance.report.sarif import sarif
from infra_conformance.report.summary import Case, Summary

ROOT = Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())


def _case(id_, severity, outcome, case=None) -> Case:
    return Case(id_, f"{id_} title", severity, ["Z6"], f"suites/x.py::t[{case}]", "Set `read_only: true`.",
                ["CIS 5.13", "https://docs.docker.com/x"], outcome, f"{case}: expected x, found y")


def _control(id_, severity, outcome, case=None) -> dict:
    return _case(id_, severity, outcome, case).as_dict()


SUMMARY = Summary([_case("CTR-05", "high", "failed", "api"), _case("CTR-02", "critical", "failed", "gateway"),
                   _case("CTR-01", "high", "passed", "api")],
                  {"name": "crm", "arch": "x86_64", "pi_emulation": True},
                  budgets=[Budget.judge("API p95", 42.0, 200, "ms", {"pi_emulation": True}).as_dict()]).as_dict()


def test_markdown_puts_the_worst_failure_first_with_its_fix():
    text = markdown(SUMMARY)
    assert text.startswith("## Conformance: FAILED (crm, x86_64, Pi emulation on)")
    assert text.index("CTR-02") < text.index("CTR-05") and "Set `read_only: true`." in text
    assert "| API p95 | 42 ms | 200 ms | 21% | pass |" in text


def test_markdown_and_the_banner_name_the_compose_profile():
    from infra_conformance.report.review import banner

    summary = {**SUMMARY, "stack": {**SUMMARY["stack"], "compose_profile": "dev"}}
    assert markdown(summary).startswith("## Conformance: FAILED (crm, compose profile dev, x86_64, Pi emulation on)")
    assert "<b>compose profile</b>: dev" in banner(summary, {})
    assert "compose profile" not in banner(SUMMARY, {})


def test_markdown_stays_small():
    many = {**SUMMARY, "controls": [_control("CTR-05", "high", "failed", "x" * 2000) for _ in range(500)]}
    assert len(markdown(many).encode()) <= LIMIT_BYTES + 10


def test_sarif_is_valid_and_points_at_the_service(tmp_path):
    compose = ROOT / "compose" / "compose.yaml"
    log = sarif(SUMMARY, compose, ROOT)
    jsonschema.validate(log, SCHEMA)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["CTR-02", "CTR-05"]
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CTR-02"]["properties"]["security-severity"] == "9.5" and rules["CTR-02"]["helpUri"]
    location = results[1]["locations"][0]["physicalLocation"]
    line = compose.read_text().splitlines()[location["region"]["startLine"] - 1]
    assert location["artifactLocation"]["uri"] == "compose/compose.yaml" and line.strip() == "api:"
    again = sarif(SUMMARY, compose, ROOT)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in again] == [r["partialFingerprints"] for r in results]


def test_sarif_shows_a_waived_failure_as_a_suppression_with_its_justification():
    waived = Summary([_case("CTR-01", "high", "waived", "api")], SUMMARY["stack"]).as_dict()
    waived["controls"][0]["message"] = "waived until 2027-03-31: vendor image; found: api: runs as 0"
    log = sarif(waived, ROOT / "compose" / "compose.yaml", ROOT)
    jsonschema.validate(log, SCHEMA)
    suppression = log["runs"][0]["results"][0]["suppressions"][0]
    assert suppression["kind"] == "external" and "vendor image" in suppression["justification"]


def test_baseline_names_new_failures_fixes_and_budget_changes():
    from infra_conformance.report.baseline import compare

    earlier = {**SUMMARY, "controls": [_control("CTR-01", "high", "failed", "api")],
               "budgets": [{"name": "API p95", "measured": 40.0, "limit": 200.0, "unit": "ms", "passed": True,
                            "result": "pass"}]}
    delta = compare(SUMMARY, earlier, "baselines/x86_64.json")
    assert delta["new_failures"] == ["CTR-02[gateway]", "CTR-05[api]"] and delta["fixed"] == ["CTR-01[api]"]
    assert delta["budgets"]["API p95"]["change_percent"] == 5.0
