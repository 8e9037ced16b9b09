"""Mutants: overlays that break the reference stack, and the controls that must then fail."""

import contextlib
import tomllib
from pathlib import Path

import docker
import pytest

MUTANTS = sorted(p for p in (Path(__file__).parents[1] / "mutants").iterdir() if (p / "mutant.toml").is_file())
ARM64_BASE = "conformance-base/debian:bookworm-slim-arm64"  # scripts/ensure-arm64.sh makes it
SMOKE = ["API-01", "CTR-08"]  # the stack still boots, serves a login and is healthy: the mutant broke only its target


def _param(mutant: Path):
    """A mutant that runs the load judges budgets, so it runs alone (``timing``): beside another boot, the
    Pi calibration itself reads the host as slower, and a CPU budget that should fail can pass. A mutant
    for another platform runs in ``make test-arm64`` (``arm64``)."""
    spec = tomllib.loads((mutant / "mutant.toml").read_text())
    marks = [pytest.mark.timing] if spec.get("load") else []
    marks += [pytest.mark.arm64] if spec.get("platform") == "linux/arm64" else []
    return pytest.param(mutant, id=mutant.name, marks=marks)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", [_param(m) for m in MUTANTS])
def test_mutant_is_killed(mutant, run_suite, run_judged, mutant_results, docker_client):
    spec = tomllib.loads((mutant / "mutant.toml").read_text())
    overlays = [arg for name in spec["overlays"] for arg in ("--compose-file", str(mutant / name))]
    # The load run, the kill-and-restart controls and Pi emulation cost time; a mutant opts into them.
    skipped = [marker for marker in ("load", "destructive") if not spec.get(marker)]
    selection = ["-m", " and ".join(f"not {marker}" for marker in skipped)] if skipped else []
    selection += [] if spec.get("pi_emulation") else ["--pi-emulation", "off"]
    env = {"MUTANT_DIR": str(mutant)}
    if platform := spec.get("platform"):
        selection += ["--platform", platform, "--startup-timeout", "900"]
        env["CONFORMANCE_BASE_IMAGE"] = ARM64_BASE
    overrides = [arg for item in spec.get("profile_set", []) for arg in ("--profile-set", item)]
    overrides += ["--compose-profile", spec["compose_profile"]] if spec.get("compose_profile") else []
    targets = sorted({case.split("[")[0] for case in spec["expect_failed"]} | set(SMOKE))
    selection += ["--control", ",".join(targets)]
    try:
        run = (run_judged if spec.get("load") else run_suite)(*overlays, *selection, *overrides, env=env,
                                                               timeout_s=1800)
    finally:
        for tag in spec.get("remove_images", []):  # tags the mutant's own overlay created
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(tag)
    assert run.summary, f"mutant {mutant.name}: the suite wrote no summary\n{run.tail()}"

    expected, failed = set(spec["expect_failed"]), run.failed_cases()
    killed = expected <= failed
    mutant_results({"name": mutant.name, "description": " ".join(spec["description"].split()),
                           "expected_failing": sorted(expected), "actually_failing": sorted(failed),
                           "killed": killed, "messages": run.messages()})
    assert run.returncode == 1, f"mutant {mutant.name}: expected the suite to fail\n{run.tail()}"
    assert killed, f"mutant {mutant.name} survived: {sorted(expected - failed)} passed on the broken stack"
