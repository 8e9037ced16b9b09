"""Booting a project, one compose command at a time: the images it may build, and a failed step's clear end."""

from __future__ import annotations

from pathlib import Path

from infra_conformance.engine import compose, daemon
from infra_conformance.engine.compose import Compose, ComposeError
from infra_conformance.errors import EnvironmentProblem, StackFinding, printable


def built_images(runner: Compose) -> list[str]:
    """The image references that the run may build, in any compose profile (a service that the booted profile does
    not run is created for the controls that read its configuration): each built service's ``image``, or compose's
    default name. Only those that did not exist before the run are removed after it: an image the user built by
    hand stays."""
    services = runner.in_every_profile().config()["services"]
    return [s.get("image") or f"{runner.project}-{name}" for name, s in services.items() if s.get("build")]


def run_step(runner: Compose, args: list[str], on_error=None) -> None:
    """Run one compose command; on failure, end the run with compose's last line: a finding (exit 1) when
    the stack's own configuration kept a service from starting, else an unusable environment (exit 3)."""
    try:
        runner.run(*args)
    except ComposeError as error:
        where = on_error() if on_error else ""
        said = printable(str(error), 300, False)
        if args[0] == "up" and (service := compose.start_finding(str(error), runner.project)):
            raise StackFinding(f"{said}{where}", service) from None
        raise EnvironmentProblem(f"`docker compose {args[0]}` failed for project {runner.project}: "
                                 f"{said}{where}") from None


def save_unhealthy_logs(client, project: str, reports_dir: Path) -> str:
    """Write the logs of every service that is not healthy; return where, for the message."""
    folder = reports_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for container in client.containers.list(all=True, filters=compose.project_filter(project)):
        if daemon.health(container) != "healthy":
            service = daemon.service_of(container)
            (folder / f"{service}.log").write_text(daemon.logs(container, 500))
            saved.append(service)
    return f" (logs of {', '.join(sorted(saved))} in {folder})" if saved else ""
