"""The coverage table: every peer check and every claim is covered by a control with a mutant, or explained."""

from pathlib import Path

from infra_conformance.controls import coverage, mutants
from infra_conformance.controls.catalogue import controls

ROOT = Path(__file__).parents[2]
IDS = {control.id for _, control in controls()}


def test_docs_coverage_is_fresh():
    current = (ROOT / "docs" / "coverage.md").read_text()
    assert current == coverage.render(), (
        "docs/coverage.md is stale: python -m infra_conformance.controls.coverage > docs/coverage.md")


def test_every_peer_check_maps_to_existing_controls_or_says_why_not():
    found = coverage.peers()
    tools = {"docker-bench": found["docker_bench"]["checks"], "compose-lint": found["compose_lint"]["rules"]}
    for tool, entries in tools.items():
        for key, entry in entries.items():
            assert bool(entry.get("controls")) != bool(entry.get("reason")), f"{tool} {key}: controls or a reason"
            assert set(entry.get("controls", [])) <= IDS, f"{tool} {key}: unknown controls"
    assert len(found["docker_bench"]["checks"]) == 32


def test_every_claim_is_covered_or_its_gap_is_named():
    """A claim without a control is a gap: it is allowed only when claims.toml names it (open or not applicable),
    so that docs/coverage.md shows it; a silent gap fails."""
    claims, status, by_claim = coverage.claims(), coverage.claim_status(), coverage.controls_by_claim()
    assert len(claims) == 39
    assert set(status) <= set(claims), "claims.toml names claims that docs/claims.md does not list"
    assert set(by_claim) <= set(claims), "controls name claims that docs/claims.md does not list"
    for claim in claims:
        note = status.get(claim, {})
        assert set(note) <= {"open", "not_applicable"} and len(note) <= 1, claim
        assert by_claim.get(claim) or note, f"claim {claim}: no control, and claims.toml does not say what is open"


def test_every_control_has_a_mutant():
    assert sorted(IDS - set(mutants.by_control())) == []
