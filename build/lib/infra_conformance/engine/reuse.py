"""A compose project that is already up: its compose files, secrets folder and variables, found from its containers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import docker

from infra_conformance.engine.compose import SUITE_LABEL, project_filter
from infra_conformance.engine.runfiles import ENV_FILE
from infra_conformance.errors import UsageProblem

CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"


@dataclass(frozen=True)
class Running:
    """What the suite needs to check a stack it did not boot."""

    project: str
    compose_files: tuple[str, ...]
    secrets_dir: Path | None
    env: dict[str, str] = field(default_factory=dict)  # the variables the suite started it with, where it kept them
    started_by_suite: bool = False  # every container carries the suite's label for this project


def find(client: docker.DockerClient, project: str) -> Running:
    """The running project's files and secrets folder; a UsageProblem when it is not up."""
    containers = client.containers.list(filters=project_filter(project))
    if not containers:
        raise UsageProblem(f"--reuse-stack {project}: no running container of that compose project "
                           "(start one with --keep-stack)")
    files = tuple(f for f in containers[0].labels.get(CONFIG_FILES_LABEL, "").split(",") if f)
    missing = [f for f in files if not Path(f).is_file()]
    if not files or missing:
        raise UsageProblem(f"--reuse-stack {project}: its compose files are gone ({', '.join(missing) or 'none'})")
    folders = {Path(m["Source"]).parent for c in containers for m in c.attrs.get("Mounts", [])
               if m.get("Destination", "").startswith("/run/secrets/")}
    if len(folders) > 1:
        raise UsageProblem(f"--reuse-stack {project}: its secrets come from {len(folders)} folders, not one")
    secrets_dir = folders.pop() if folders else None
    kept = secrets_dir.parent / ENV_FILE if secrets_dir else None
    env = json.loads(kept.read_text()) if kept and kept.is_file() else {}
    return Running(project, files, secrets_dir, env, started_by_suite(containers, project))


def started_by_suite(containers, project: str) -> bool:
    """True when a run of the suite started every one of these containers (its label names the project)."""
    return bool(containers) and all(c.labels.get(SUITE_LABEL) == project for c in containers)


def check_compose_profile(running: Running, wanted: str | None) -> None:
    """A UsageProblem when the project was started with another compose profile than ``wanted``: the
    controls would expect other services."""
    started = running.env.get("COMPOSE_PROFILES")
    if started is not None and started != (wanted or ""):
        hint = f"pass --compose-profile {started}" if started else "leave out --compose-profile"
        raise UsageProblem(f"--reuse-stack {running.project}: it was started with compose profile "
                           f"{started or 'none'}; {hint}")
