"""The central promise, checked in seconds without Docker: every control has a mutant that it kills, and every
mutant is well made: known keys, its overlays there, its patches applying to the reference stack as it is now, no
copied reference file, and a name that says which area it breaks."""

import difflib
import functools
from pathlib import Path

import pytest

from infra_conformance.controls import mutants
from infra_conformance.controls.areas import prefix
from infra_conformance.controls.catalogue import controls

ALL = mutants.all_mutants()
NEAR_COPY_RATIO, NEAR_COPY_LINES = 0.5, 20  # a file this like a reference file, and this long, is a copy of it


def _mutant_params(chosen=ALL):
    return [pytest.param(mutant, id=mutant.name) for mutant in chosen]


def test_every_mutant_toml_is_read():
    """A folder without a readable mutant.toml would silently not run; load names the key that is wrong."""
    folders = sorted(p for p in mutants.MUTANTS.iterdir() if p.is_dir())
    assert [m.name for m in ALL] == [p.name for p in folders], "a folder in tests/mutants/ has no mutant.toml"


@pytest.mark.parametrize("mutant", _mutant_params())
def test_a_mutant_has_its_overlays(mutant):
    missing = [o for o in mutant.overlays if not (mutant.folder / o).is_file()]
    assert not missing, f"mutant {mutant.name} names overlays that do not exist: {missing}"


@pytest.mark.parametrize("mutant", _mutant_params())
def test_a_mutant_is_named_after_an_area_it_breaks(mutant):
    areas = sorted({prefix(control).lower() for control in mutant.controls})
    assert mutant.name.split("-")[0] in areas and "-" in mutant.name, (
        f"mutant {mutant.name}: its name starts with the area it breaks, one of {', '.join(f'{a}-' for a in areas)}")


@pytest.mark.parametrize("mutant", _mutant_params([m for m in ALL if m.patches]))
def test_every_patch_applies_to_the_reference_stack(mutant, tmp_path):
    try:
        mutants.apply_patches(mutant, tmp_path / "patched", check=True)
    except mutants.MutantError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.mark.parametrize("mutant", _mutant_params())
def test_no_mutant_holds_a_copy_of_a_reference_file(mutant):
    """A copy drifts from the reference it was taken from; a patch fails to apply instead (tests/mutants/README.md)."""
    copies = []
    for own in (path for path in mutant.folder.rglob("*") if _text(path) and path.suffix != ".patch"):
        lines = own.read_text().splitlines()
        if len(lines) > NEAR_COPY_LINES:
            copies += [f"{own.name} is {ratio:.0%} {path.relative_to(mutants.ROOT)}"
                       for path, reference in _references().items()
                       if (ratio := difflib.SequenceMatcher(None, lines, reference).ratio()) > NEAR_COPY_RATIO]
    assert not copies, f"mutant {mutant.name} holds copies of reference files, make them patches: {copies}"


def test_every_control_has_a_mutant_and_every_expected_id_exists():
    ids = {control.id for _, control in controls()}
    expected = {control for mutant in ALL for control in mutant.controls}
    assert sorted(ids - expected) == [], "controls that no mutant kills"
    assert sorted(expected - ids) == [], "mutants expect controls that do not exist"


def test_the_readme_names_every_key_of_mutant_toml():
    readme = (mutants.MUTANTS / "README.md").read_text()
    assert [key for key in mutants.Mutant.model_fields if f"`{key}`" not in readme] == []


def test_a_patch_that_no_longer_applies_ends_in_one_line_naming_the_mutant_and_the_file(tmp_path):
    folder = tmp_path / "api-broken"
    folder.mkdir()
    (folder / "mutant.toml").write_text('description = "x"\nexpect_failed = ["API-01"]\noverlays = ["compose.yaml"]\n')
    (folder / "roles.py.patch").write_text("--- a/api/crm_api/roles.py\n+++ b/api/crm_api/roles.py\n@@ -1 +1 @@\n"
                                           "-no such line\n+anything\n")
    with pytest.raises(mutants.MutantError) as raised:
        mutants.apply_patches(mutants.load(folder), tmp_path / "patched")
    assert str(raised.value).startswith("mutant api-broken: roles.py.patch no longer applies to "
                                        "compose/api/crm_api/roles.py (")
    assert "\n" not in str(raised.value)


def test_an_unknown_key_is_named(tmp_path):
    (tmp_path / "mutant.toml").write_text('description = "x"\nexpect_failed = ["API-01"]\noverlays = ["a.yaml"]\n'
                                          'loud = true\n')
    with pytest.raises(mutants.MutantError, match=r"^mutant .*: mutant.toml, key loud: Extra inputs are not permitted"):
        mutants.load(tmp_path)


@functools.cache
def _references() -> dict[Path, list[str]]:
    return {path: path.read_text().splitlines() for path in mutants.COMPOSE.rglob("*") if _text(path)}


def _text(path: Path) -> bool:
    if not path.is_file() or "__pycache__" in path.parts:
        return False
    try:
        path.read_text()
    except UnicodeDecodeError:
        return False
    return True
