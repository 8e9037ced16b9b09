"""The one reader of the mutants in ``tests/mutants/``: each folder's ``mutant.toml``, and its patches applied.

A mutant changes a reference file by a patch (``<file>.patch``, a unified diff with paths relative to ``compose/``),
never by a copy: ``apply_patches`` copies the files it changes into a fresh folder, the overlays'
``${MUTANT_PATCHED}``, and applies it there with ``git apply``. ``tests/mutants/README.md`` tells how to add one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

ROOT = Path(__file__).parents[2]
MUTANTS = ROOT / "tests" / "mutants"
COMPOSE = ROOT / "compose"


class MutantError(ValueError):
    """A mutant that cannot be used as it is; the message is one line that names it."""


class Mutant(BaseModel):
    """The keys a ``mutant.toml`` may hold."""

    model_config = ConfigDict(extra="forbid", strict=True)

    description: str = Field(description="what the mutant breaks, in a sentence or a few")
    expect_failed: list[str] = Field(min_length=1, description="the control cases that must fail: `ID` or `ID[case]`")
    overlays: list[str] = Field(min_length=1, description="compose files in the folder, laid over the reference's")
    remove_images: list[str] = Field([], description="image tags that the overlays create, removed after the run")
    profile_set: list[str] = Field([], description="`--profile-set` overrides of the reference profile")
    compose_profile: str | None = Field(None, description="the compose profile the run boots (`--compose-profile`)")
    load: bool = Field(False, description="run the load and judge the budgets; the test runs alone (`timing`)")
    destructive: bool = Field(False, description="run the destructive controls (kills, restarts, restores) too")
    pi_emulation: bool = Field(False, description="keep the Raspberry Pi emulation on")
    platform: Literal["linux/arm64"] | None = Field(None, description="build and run for it (`make test-arm64`)")
    peer_findings: dict[str, str] = Field({}, description="a compose-lint finding (`CL-0020[postgres]`) -> the "
                                                          "control of ours that catches it")
    _folder: Path = PrivateAttr()

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def name(self) -> str:
        return self._folder.name

    @property
    def controls(self) -> list[str]:
        """The IDs of the controls it expects to fail, in order, each once."""
        return list(dict.fromkeys(case.split("[")[0] for case in self.expect_failed))

    @property
    def patches(self) -> list[Path]:
        return sorted(self._folder.glob("*.patch"))


def load(folder: Path) -> Mutant:
    """The mutant in `folder`, read from its ``mutant.toml``."""
    path = folder / "mutant.toml"
    try:
        mutant = Mutant.model_validate(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise MutantError(f"mutant {folder.name}: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        raise MutantError(f"mutant {folder.name}: mutant.toml, key {'.'.join(map(str, first['loc']))}: "
                          f"{first['msg']}") from None
    mutant._folder = folder
    return mutant


def all_mutants(root: Path = MUTANTS) -> list[Mutant]:
    """Every folder under `root` that holds a ``mutant.toml``, by name."""
    return [load(path.parent) for path in sorted(root.glob("*/mutant.toml"))]


def by_control(root: Path = MUTANTS) -> dict[str, list[str]]:
    """Control ID -> the names of the mutants that expect it to fail."""
    found: dict[str, list[str]] = {}
    for mutant in all_mutants(root):
        for control in mutant.controls:
            found.setdefault(control, []).append(mutant.name)
    return found


def apply_patches(mutant: Mutant, into: Path, *, check: bool = False, compose: Path = COMPOSE) -> Path:
    """Copy each file that the mutant's patches change from `compose` into `into`, a new folder, at the same path,
    and apply the patches there (or, with `check`, only check that they apply); returns `into`."""
    into.mkdir(parents=True)
    for patch in mutant.patches:
        targets = _targets(mutant, patch, into)
        for target in targets:
            if not (compose / target).is_file():
                raise MutantError(f"mutant {mutant.name}: {patch.name} changes {target}, which is not in "
                                  f"{compose.name}/: a new file is one of the mutant's own, not a patch")
            if (into / target).exists():
                raise MutantError(f"mutant {mutant.name}: {target} is changed by two patches; make them one")
            (into / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(compose / target, into / target)
        done = _git(["apply", *(["--check"] if check else []), str(patch.resolve())], into)
        if done.returncode:
            why = (done.stderr.strip().splitlines() or ["git apply failed"])[0]
            raise MutantError(f"mutant {mutant.name}: {patch.name} no longer applies to "
                              f"{', '.join(f'{compose.name}/{t}' for t in targets)} ({why}); "
                              "refresh it as tests/mutants/README.md says")
    return into


def _targets(mutant: Mutant, patch: Path, cwd: Path) -> list[str]:
    """The paths that `patch` changes, relative to ``compose/``."""
    done = _git(["apply", "--numstat", str(patch.resolve())], cwd)
    targets = [line.split("\t", 2)[2] for line in done.stdout.splitlines()]
    if done.returncode or not targets:
        raise MutantError(f"mutant {mutant.name}: {patch.name} is not a patch that git apply reads")
    unsafe = [t for t in targets if PurePosixPath(t).is_absolute() or ".." in PurePosixPath(t).parts]
    if unsafe:
        raise MutantError(f"mutant {mutant.name}: {patch.name} changes {unsafe[0]}, outside compose/")
    return targets


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``git`` in `cwd` as a folder of plain files: the repository around it, if any, is not looked for."""
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.resolve().parent)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
