"""Where a run's results come from: the stack it checked, and the versions of the engine, the suite and the stack."""

from __future__ import annotations

import platform
import shlex
import subprocess
from importlib import metadata
from pathlib import Path

from infra_conformance.engine.project import Stack
from infra_conformance.profile.schema import Profile


def stack_section(profile: Profile, stack: Stack | None, project: str | None) -> dict:
    """The summary's ``stack``: what was booted, on which platform, under which emulation, and how fast."""
    return {
        "name": profile.name,
        "compose_profile": profile.compose_profile,
        "project": stack.project if stack else project,
        "compose_files": stack.compose_files if stack else [],
        "arch": stack.platform.arch if stack else platform.machine(),
        "platform": stack.platform.platform if stack else None,
        "emulated_arch": bool(stack and stack.platform.emulated),
        "host_arch": platform.machine(),
        "pi_emulation": bool(stack and stack.conditions.get("pi_emulation")),
        "emulation": stack.conditions if stack else {},
        "build_s": round(stack.build_s, 2) if stack else None,
        "startup_s": stack.startup_s if stack else {},
    }


def versions(stack: Stack | None, profile: Profile, suite: Path, args: tuple[str, ...]) -> dict:
    """Engine and compose versions, the suite's version (and commit, run from a checkout), the checked stack's own
    revision, and the command line."""
    found = stack.versions() if stack else {}
    commit = revision(suite) if (suite / ".git").exists() else None
    found["suite"] = metadata.version("infra-conformance") + (f" ({commit})" if commit else "")
    found["stack_revision"] = revision(profile.directory) or "none (not in a git repository)"
    found["command"] = shlex.join(["pytest", *args])
    return found


def revision(folder: Path) -> str | None:
    """The short commit of the git checkout that holds ``folder``, ``-dirty`` when its files there changed."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""
    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return None
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no", "--", ".") else "")
