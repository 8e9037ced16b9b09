"""The central promise, checked in a second without Docker: every control has a mutant that it kills."""

import tomllib
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from infra_conformance.catalogue import controls

MUTANTS = Path(__file__).parents[1] / "mutants"


class Mutant(BaseModel):
    """The keys a ``mutant.toml`` may hold."""

    model_config = ConfigDict(extra="forbid", strict=True)

    description: str
    expect_failed: list[str]
    overlays: list[str]
    remove_images: list[str] = []
    profile_set: list[str] = []
    compose_profile: str | None = None  # the run boots this compose profile (--compose-profile)
    load: bool = False
    destructive: bool = False
    pi_emulation: bool = False
    platform: Literal["linux/arm64"] | None = None
    peer_findings: dict[str, str] = {}  # a peer's finding ("CL-0020[postgres]") -> our control that catches it


def specs() -> dict[str, Mutant]:
    found = {}
    for path in sorted(MUTANTS.glob("*/mutant.toml")):
        try:
            found[path.parent.name] = Mutant.model_validate(tomllib.loads(path.read_text()))
        except ValidationError as error:
            pytest.fail(f"{path}: {error.errors()[0]['loc']} {error.errors()[0]['msg']}")
    return found


def test_every_mutant_toml_has_only_known_keys_and_its_overlays():
    for name, spec in specs().items():
        assert spec.expect_failed, f"mutant {name} expects nothing to fail"
        missing = [o for o in spec.overlays if not (MUTANTS / name / o).is_file()]
        assert not missing, f"mutant {name} names overlays that do not exist: {missing}"


def test_every_control_has_a_mutant_and_every_expected_id_exists():
    ids = {control.id for _, control in controls()}
    expected = {case.split("[")[0]: name for name, spec in specs().items() for case in spec.expect_failed}
    assert sorted(ids - expected.keys()) == [], "controls that no mutant kills"
    assert sorted(set(expected) - ids) == [], "mutants expect controls that do not exist"
