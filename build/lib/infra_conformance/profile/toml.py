"""Reading a TOML file safely, and setting a ``table.key=VALUE`` override in its data."""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

from infra_conformance.errors import UsageProblem, printable

KEY_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_BYTES = 1 << 20


def read_toml(path: Path, hint: str = "") -> dict:
    """The parsed file; a missing, special, oversized, non-UTF-8 or invalid file is a UsageProblem."""
    shown = printable(str(path), 200, quote=False)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageProblem(f"{shown}: no such file" + (f"; {hint}" if hint else "")) from None
    except OSError as error:
        raise UsageProblem(f"{shown}: cannot read it ({printable(error.strerror or '', quote=False)})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageProblem(f"{shown}: not a regular file" + (f"; {hint}" if hint else ""))
    if info.st_size > MAX_BYTES:
        raise UsageProblem(f"{shown}: larger than {MAX_BYTES} bytes")
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise UsageProblem(f"{shown}: not UTF-8 (byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageProblem(f"{shown}: not valid TOML ({printable(str(error), quote=False)})") from None
    except RecursionError:
        raise UsageProblem(f"{shown}: nested too deep to be a profile") from None
    except OSError as error:
        raise UsageProblem(f"{shown}: cannot read it ({printable(error.strerror or '', quote=False)})") from None


def set_key(data: dict, item: str, option: str) -> None:
    """Set ``table.key=VALUE`` (VALUE in TOML: ``16``, ``true``, ``"text"``) in ``data``.

    >>> data = {"postgres": {"min_version": 15}}
    >>> set_key(data, "postgres.min_version=16", "--profile-set")
    >>> data
    {'postgres': {'min_version': 16}}
    """
    key, equals, value = item.partition("=")
    parts = key.strip().split(".")
    if not equals or not all(KEY_PART.match(part) for part in parts):
        raise UsageProblem(f"{option} {printable(item)}: expected KEY=VALUE with a dotted key of letters, digits, "
                           "_ and -, such as postgres.min_version=16")
    try:
        parsed = tomllib.loads(f"value = {value}")["value"]
    except (tomllib.TOMLDecodeError, RecursionError):
        raise UsageProblem(f"{option} {printable(item)}: the value is not TOML, such as 16, true or "
                           '"text"') from None
    target = data
    for index, part in enumerate(parts[:-1]):
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            where = ".".join(parts[:index + 1])
            raise UsageProblem(f"{option} {printable(item)}: '{where}' is not a table")
    target[parts[-1]] = parsed
