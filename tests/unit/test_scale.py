"""The scale benchmark's generated stacks: a profile that validates and lists every service, one image build."""

import yaml

from infra_conformance.measure.scale import write_stack
from infra_conformance.profile.file import load_profile


def test_a_generated_stack_validates_and_builds_its_image_once(tmp_path):
    write_stack(tmp_path, 7)
    profile = load_profile(tmp_path)
    compose = yaml.safe_load((tmp_path / "compose.yaml").read_text())
    assert set(profile.services) == set(compose["services"]) == {f"s{n}" for n in range(7)}
    assert [name for name, service in compose["services"].items() if "build" in service] == ["s0"]
