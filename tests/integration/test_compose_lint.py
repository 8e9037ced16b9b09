"""compose-lint beside the suite: whatever it finds on a mutant, a control of ours catches on the running stack."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra_conformance.controls import coverage
from infra_conformance.controls.mutants import Mutant, all_mutants, apply_patches
from infra_conformance.profile.file import load_profile

ROOT = Path(__file__).parents[2]
MUTANTS = all_mutants()
RULES = coverage.peers()["compose_lint"]["rules"]
PROFILE = load_profile(ROOT / "compose", ())
UNLISTED = "CTR-18"  # a service that the profile does not list fails it, and no other control sees it


def _findings(tmp_path: Path, mutant: Mutant | None = None) -> set[tuple[str, str, str]]:
    """(rule, service, severity) for each compose-lint finding on the merged configuration, with every compose
    profile the stack declares."""
    overlays = [mutant.folder / name for name in mutant.overlays] if mutant else []
    files = [arg for path in [ROOT / "compose" / "compose.yaml", *overlays] for arg in ("-f", str(path))]
    patched = apply_patches(mutant, tmp_path / "patched") if mutant else tmp_path
    env = {**os.environ, "SECRETS_DIR": str(tmp_path), "CONFORMANCE_IMAGE_TAG": "lint",
           "MUTANT_DIR": str(mutant.folder if mutant else tmp_path), "MUTANT_PATCHED": str(patched),
           "COMPOSE_PROFILES": ",".join(PROFILE.compose_profiles)}
    merged = tmp_path / "merged.yaml"
    merged.write_text(subprocess.run(["docker", "compose", *files, "config"], env=env, capture_output=True,
                                     text=True, check=True).stdout)
    done = subprocess.run([sys.executable, "-m", "compose_lint", "check", "--format", "json", "--no-env",
                           "--fail-on", "critical", str(merged)], capture_output=True, text=True)
    assert done.returncode in (0, 1), f"compose-lint could not lint {merged}: {done.stderr[-500:]}"
    return {(f["rule_id"], f["service"], f["severity"]) for f in json.loads(done.stdout)["findings"]}


def test_reference_stack_has_nothing_above_low_that_is_not_explained(tmp_path):
    found = _findings(tmp_path)
    unexplained = sorted(f for f in found if f[2] != "low" and "reason" not in RULES.get(f[0], {}))
    assert not unexplained, f"compose-lint findings on the reference stack, not explained in peers.toml: {unexplained}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_what_compose_lint_finds_on_a_mutant_a_control_catches(mutant, tmp_path):
    (tmp_path / "reference").mkdir()
    reference = {(rule, service) for rule, service, _ in _findings(tmp_path / "reference")}
    found = {(rule, service) for rule, service, _ in _findings(tmp_path, mutant)} - reference
    expected = set(mutant.expect_failed)
    # A service the mutant adds and lists with its --profile-set (one of a kind of data service the reference stack
    # does not run) is listed; a rule that peers.toml explains away, with no control, is explained on it too.
    services = set(load_profile(ROOT / "compose", mutant.profile_set).every_service)
    missed = []
    for rule, service in sorted(found):
        if service in services and "reason" in RULES.get(rule, {}) and not RULES[rule].get("controls"):
            continue
        controls = [UNLISTED] if service not in services else RULES.get(rule, {}).get("controls", [])
        if special := mutant.peer_findings.get(f"{rule}[{service}]"):  # the mutant says which catches it
            controls = [special]
        if not any(c in expected or f"{c}[{service}]" in expected for c in controls):
            missed.append(f"{rule} on {service} (ours: {', '.join(controls) or 'none'})")
    assert not missed, f"mutant {mutant.name}: compose-lint finds what no failing control of ours catches: {missed}"
