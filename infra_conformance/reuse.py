"""A compose project that is already up: its compose files and its secrets folder, read from its containers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import docker

from infra_conformance.compose import project_filter
from infra_conformance.errors import UsageProblem

CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"


@dataclass(frozen=True)
class Running:
    """What the suite needs to check a stack it did not boot."""

    project: str
    compose_files: tuple[str, ...]
    secrets_dir: Path | None


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
    return Running(project, files, folders.pop() if folders else None)
