"""Reading a stack's ``conformance.toml`` into a Profile: overrides applied, every path checked.

>>> profile = load_profile(Path("compose"))
>>> profile.services["postgres"].user
999
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from infra_conformance.errors import UsageProblem, printable
from infra_conformance.profile.checks import problems
from infra_conformance.profile.schema import SET_BY_SUITE, Profile
from infra_conformance.profile.schema_errors import problem
from infra_conformance.profile.toml import read_toml, set_key

PROFILE_NAME = "conformance.toml"


def _tuples(value):
    """TOML arrays as tuples, so that the strict schema takes them."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def load_profile(directory: Path, overrides=(), allow_outside: bool = False) -> Profile:
    """Read ``directory/conformance.toml`` with ``overrides`` (``KEY=TOML``) applied.

    Raises UsageProblem with one line that names the file and the key.
    """
    directory = Path(directory)
    path = directory / PROFILE_NAME
    data = read_toml(path, f"--stack-dir must name a folder with a {PROFILE_NAME}")
    for item in overrides:
        set_key(data, item, "--profile-set")
    profile = validate(data, directory, printable(str(path), 200, quote=False))
    for key, file in profile.paths().items():
        _check_file(path, key, file, profile.directory, allow_outside)
    return profile


def validate(data: dict, directory: Path, source: str) -> Profile:
    """A profile's parsed TOML checked against the schema and the rules across its values, but not the files it
    names; ``directory`` is the stack folder. Raises UsageProblem with one line: ``source: the problem``."""
    data = {key: value for key, value in data.items() if key not in SET_BY_SUITE}
    try:
        profile = Profile.model_validate({**_tuples(data), "directory": Path(directory).resolve()})
    except ValidationError as error:
        raise UsageProblem(f"{source}: {problem(error, Profile)}") from None
    if broken := problems(profile):
        raise UsageProblem(f"{source}: {broken[0]}")
    return profile


def _check_file(profile_path: Path, key: str, file: Path, directory: Path, allow_outside: bool) -> None:
    resolved = file.resolve()
    where = f"{printable(str(profile_path), 200, quote=False)}: key '{key}'"
    if not allow_outside and not resolved.is_relative_to(directory):
        raise UsageProblem(f"{where} names {printable(str(file), 200)}, outside the stack folder "
                           "(pass --allow-outside-paths to permit it)")
    if not resolved.is_file():
        raise UsageProblem(f"{where} names {printable(str(file), 200)}, which is not a file")

