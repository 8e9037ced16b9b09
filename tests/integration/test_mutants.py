"""Mutants: overlays that break the reference stack, and the controls that must then fail."""

import contextlib

import docker
import pytest

from infra_conformance.controls.mutants import Mutant, MutantError, all_mutants, apply_patches

ARM64_BASE = "conformance-base/debian:bookworm-slim-arm64"  # scripts/ensure-arm64.sh makes it
SMOKE = ["API-01"]  # the stack still boots (`up --wait`: every service healthy) and serves a login: the mutant broke
# only its target


def _param(mutant: Mutant):
    """A mutant that runs the load judges budgets, so it runs alone (``timing``): beside another boot, the
    Pi calibration itself reads the host as slower, and a CPU budget that should fail can pass. A mutant
    for another platform runs in ``make test-arm64`` (``arm64``)."""
    marks = [pytest.mark.timing] if mutant.load else []
    marks += [pytest.mark.arm64] if mutant.platform == "linux/arm64" else []
    return pytest.param(mutant, id=mutant.name, marks=marks)


@pytest.mark.slow
@pytest.mark.mutant
@pytest.mark.parametrize("mutant", [_param(m) for m in all_mutants()])
def test_mutant_is_killed(mutant, tmp_path, run_suite, run_judged, mutant_results, docker_client):
    try:  # the reference files its patches change, patched: what its overlays mount
        patched = apply_patches(mutant, tmp_path / "patched")
    except MutantError as error:
        pytest.fail(str(error), pytrace=False)
    overlays = [arg for name in mutant.overlays for arg in ("--compose-file", str(mutant.folder / name))]
    # The load run, the kill-and-restart controls and Pi emulation cost time; a mutant opts into them.
    skipped = [marker for marker in ("load", "destructive") if not getattr(mutant, marker)]
    selection = ["-m", " and ".join(f"not {marker}" for marker in skipped)] if skipped else []
    selection += [] if mutant.pi_emulation else ["--pi-emulation", "off"]
    env = {"MUTANT_DIR": str(mutant.folder), "MUTANT_PATCHED": str(patched)}
    if mutant.platform:
        selection += ["--platform", mutant.platform, "--startup-timeout", "900"]
        env["CONFORMANCE_BASE_IMAGE"] = ARM64_BASE
    overrides = [arg for item in mutant.profile_set for arg in ("--profile-set", item)]
    overrides += ["--compose-profile", mutant.compose_profile] if mutant.compose_profile else []
    selection += ["--control", ",".join(sorted(set(mutant.controls) | set(SMOKE)))]
    try:
        run = (run_judged if mutant.load else run_suite)(*overlays, *selection, *overrides, env=env,
                                                         timeout_s=1800)
    finally:
        for tag in mutant.remove_images:  # tags the mutant's own overlay created
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(tag)
    assert run.summary, f"mutant {mutant.name}: the suite wrote no summary\n{run.tail()}"

    expected, failed = set(mutant.expect_failed), run.failed_cases()
    killed = expected <= failed
    mutant_results({"name": mutant.name, "description": " ".join(mutant.description.split()),
                           "expected_failing": sorted(expected), "actually_failing": sorted(failed),
                           "killed": killed, "messages": run.messages()})
    assert run.returncode == 1, f"mutant {mutant.name}: expected the suite to fail\n{run.tail()}"
    assert killed, f"mutant {mutant.name} survived: {sorted(expected - failed)} passed on the broken stack"
