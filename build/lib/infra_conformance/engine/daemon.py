"""The Docker engine: a client, the health of a project, and removing what a run created."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import docker

from infra_conformance.engine import signals
from infra_conformance.engine.compose import PROJECT_LABEL, SERVICE_LABEL, SUITE_LABEL, Compose, ComposeError
from infra_conformance.errors import EnvironmentProblem, printable


def connect() -> docker.DockerClient:
    """A client for the engine in the environment; EnvironmentProblem saying how to get one."""
    try:
        client = docker.from_env(timeout=30, use_ssh_client=True)
        client.ping()
        return client
    except docker.errors.DockerException as error:
        reason = str(error).split("(")[0].strip() or type(error).__name__
        raise EnvironmentProblem(f"no Docker engine answers ({printable(reason, 120, quote=False)}). Hint: run "
                                 "scripts/ensure-docker.sh as root, start dockerd, or set DOCKER_HOST.") from None


def stats_now(containers) -> list[dict]:
    """Each container's stats at this moment, asked for side by side: engine 20.10 takes about 0.7 s to answer
    one (``one_shot`` included), so four took 3.0 s one after another and 1.0 s side by side."""
    containers = list(containers)
    if not containers:
        return []
    with ThreadPoolExecutor(len(containers)) as pool:
        return list(pool.map(lambda container: container.stats(stream=False, one_shot=True), containers))


def health(container) -> str:
    """``healthy``, or the state that keeps the container from it (``starting``, ``exited`` …)."""
    state = container.attrs["State"]
    if state["Status"] != "running":
        return state["Status"]
    return state.get("Health", {}).get("Status", "healthy")


def labelled(client: docker.DockerClient, project: str) -> dict[str, list]:
    """Every container, network and volume that carries the project's compose label or the suite's."""
    found = {"containers": [], "networks": [], "volumes": []}
    for label in (f"{PROJECT_LABEL}={project}", f"{SUITE_LABEL}={project}"):
        found["containers"] += client.containers.list(all=True, filters={"label": label})
        found["networks"] += client.networks.list(filters={"label": label})
        found["volumes"] += client.volumes.list(filters={"label": label})
    return found


def sweep(client: docker.DockerClient, project: str) -> list[str]:
    """Remove the project's containers, then networks, then volumes, going on past errors; returns the errors."""
    errors = []
    objects = labelled(client, project)
    for kind, remove in (("containers", lambda c: c.remove(force=True, v=True)),
                         ("networks", lambda n: n.remove()), ("volumes", lambda v: v.remove(force=True))):
        for item in objects[kind]:
            try:
                remove(item)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as error:
                errors.append(f"{kind[:-1]} {item.name}: {error.explanation or error}")
    return errors


def take_down(runner: Compose, client: docker.DockerClient, commands: list[list[str]], built: list[str],
              keep_images: bool) -> str | None:
    """Run the cleanup ``commands`` (``down -v``), remove by label whatever is left, then the images the run
    built, with signals held off; one line when objects of the project are still there, else None."""
    with signals.ignored():
        problems = []
        for args in commands:
            try:
                runner.run(*args, timeout_s=180)
            except ComposeError as error:
                problems.append(f"`docker compose {args[0]}`: {error}")
        problems += sweep(client, runner.project)
        if not keep_images:
            problems += remove_images(client, built)
    if problems and any(labelled(client, runner.project).values()):
        return (f"conformance: cleanup of project {runner.project} left objects behind: "
                f"{printable('; '.join(problems), 300, False)}")
    return None


def kept(project: str) -> str:
    """What --keep-stack leaves, and how to use and end it."""
    return (f"--keep-stack: project {project} left running; check it again with --reuse-stack {project}, remove it "
            f"with docker compose -p {project} down -v")


def existing_images(client: docker.DockerClient, references) -> set[str]:
    """The references that name an image on the engine now; one the engine cannot answer for counts as existing,
    so that it is never removed."""
    found = set()
    for reference in references:
        try:
            client.images.get(reference)
        except docker.errors.ImageNotFound:
            continue
        except docker.errors.APIError:
            pass
        found.add(reference)
    return found


def remove_images(client: docker.DockerClient, references) -> list[str]:
    """Remove the images this run built; keep their layers as build cache, and any image still in use."""
    errors = []
    for reference in references:
        try:
            client.images.remove(reference, noprune=True)
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as error:
            errors.append(f"image {reference}: {error.explanation or error}")
    return errors


def logs(container, tail: int) -> str:
    """The container's last ``tail`` lines, or one line saying why the engine cannot give them."""
    try:
        return container.logs(tail=tail).decode(errors="replace")
    except docker.errors.APIError as error:
        return f"[{container.name}: no logs: {error.explanation or error}]\n"


def service_of(container) -> str:
    return container.labels.get(SERVICE_LABEL, container.name)
