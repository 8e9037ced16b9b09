"""Stack lifecycle on pytest-docker: a unique project, a timed boot, teardown on every exit path.

Override ``docker_compose_file``, ``docker_compose_project_name``, ``docker_setup`` or
``docker_cleanup`` like any pytest-docker fixture; here the commands are argument lists,
never shell strings. ``stack`` is what controls use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_docker.plugin import Services

from infra_conformance.engine import compose, daemon, runfiles
from infra_conformance.engine.compose import Compose, ComposeError
from infra_conformance.engine.project import Stack
from infra_conformance.engine.startup import StartupWatch
from infra_conformance.errors import EnvironmentProblem, StackFinding, UsageProblem, printable
from infra_conformance.measure import emulation, throttling
from infra_conformance.plugins import guard, workers
from infra_conformance.plugins.resources import on_exit
from infra_conformance.probes import accounts
from infra_conformance.profile.schema import Profile


@dataclass(frozen=True)
class Boot:
    """What booting measured; ``services`` is pytest-docker's handle."""

    services: Services
    compose: Compose
    build_s: float = 0.0
    startup_s: dict[str, float] = field(default_factory=dict)
    startup_throttling: dict[str, dict] = field(default_factory=dict)  # each service's, from creation to ready


# When a budget is judged, each poll runs every pending container's healthcheck (a `docker exec`, about 0.1 s of
# host CPU), fast; otherwise the watch reads Docker's health status each second, and starts no process.
STARTUP_POLL_S, IDLE_POLL_S = 0.25, 1.0
STACK_KEY = pytest.StashKey[Stack]()  # for the report, which reads the booted stack from here
PROJECT_KEY = pytest.StashKey[str]()  # and the project's name, from before anything is created


@pytest.fixture(scope="session")
def docker_compose_project_name(pytestconfig, reused) -> str:
    """A new ``conformance-<hex>`` project, the one --reuse-stack names, or the one pytest-xdist's workers share;
    the report names it even when the stack never comes up."""
    share = workers.share_of(pytestconfig)
    name = reused.project if reused else share.project if share else compose.project_name()
    pytestconfig.stash[PROJECT_KEY] = name
    return name


@pytest.fixture(scope="session")
def emulation_plan(request, options, profile, compose_env, docker_compose_project_name, engine_host,
                   reused, run_platform) -> emulation.Plan:
    """The Pi 4 emulation plan, calibrated on this host before anything else runs on it (5 to 15 s of sysbench, only
    when the emulation is on or a budget is judged, unless --pi-host-score gives the score)."""
    if engine_host.ssh or run_platform.emulated:  # the device itself, or timings that mean nothing
        if options.pi_emulation == "on" and run_platform.emulated:
            raise UsageProblem(f"--pi-emulation=on needs the engine's own platform, not an emulated "
                               f"{run_platform.platform}")
        return emulation.Plan(False, 1.0, emulation.Calibration(float("nan")))
    mode = options.pi_emulation
    wanted = not reused and (mode == "on" or (mode == "auto" and not emulation.is_raspberry_pi()))
    if wanted and profile.pi_overlay is None and mode == "on":
        raise UsageProblem("--pi-emulation=on, but the profile has no [pi] overlay")
    enabled = wanted and profile.pi_overlay is not None
    if not enabled and not _judges_budgets(request.session):
        return emulation.Plan(False, 1.0, emulation.Calibration(float("nan")))
    try:
        calibration = emulation.calibrate(options.pi_host_score, on_a_pi=emulation.is_raspberry_pi())
    except emulation.EmulationError as error:
        if enabled:
            raise EnvironmentProblem(f"Pi emulation needs a calibration: {error}") from None
        calibration = emulation.Calibration(float("nan"))
    base = Compose(tuple(str(f) for f in profile.compose_files), docker_compose_project_name, compose_env)
    cpus = _service_cpus(base, profile) if enabled else {}
    return emulation.plan(enabled, cpus, calibration)


@pytest.fixture(scope="session")
def docker_compose_command() -> list[str]:
    """The compose command as an argument list: the docker CLI's compose plugin, run directly."""
    return list(compose.compose_command())


@pytest.fixture(scope="session")
def docker_compose_file(options, profile, run_dir, emulation_plan, reused, compose_env,
                        docker_compose_project_name) -> list[str]:
    """The profile's compose files, the suite's access overlay, the run's overlay (its label on every service, and
    --platform), the Pi overlay, then each --compose-file; or, with --reuse-stack, the files the running project
    was started with."""
    if reused:
        return list(reused.compose_files)
    files = [str(path) for path in profile.compose_files]
    services = _config(Compose(tuple(files), docker_compose_project_name, compose_env))["services"]
    networks_of = {store.service: list(services.get(store.service, {}).get("networks") or ["default"])
                   for store in profile.stores.values()}
    if access := runfiles.write_access_overlay(profile, networks_of, run_dir):
        files.append(str(access))
    names = [*services, *(runfiles.access_service(service) for service in networks_of)]
    files.append(str(runfiles.write_run_overlay(names, docker_compose_project_name, options.platform, run_dir)))
    if emulation_plan.enabled:
        files.append(str(profile.pi_overlay))
    return files + [str(path) for path in options.compose_file]


@pytest.fixture(scope="session")
def docker_setup(options, reused) -> list[list[str]]:
    """Validate, build and start; nothing for a stack that is already up (--reuse-stack, or shared under -n)."""
    return [] if reused else compose.setup_commands(options.startup_timeout)


@pytest.fixture(scope="session")
def docker_cleanup(pytestconfig, options, reused) -> list[list[str]]:
    """``down -v --remove-orphans``; nothing with --keep-stack, for a stack that was already up, or under -n
    (pytest-xdist's controller takes the shared stack down)."""
    if options.keep_stack or reused or workers.share_of(pytestconfig):
        return []
    return compose.cleanup_commands()


@pytest.fixture(scope="session")
def docker_services(request, docker_compose_command, docker_compose_file, docker_compose_project_name,
                    docker_setup, docker_cleanup, compose_env, emulation_plan, engine_client, engine_host,
                    profile, options, progress, run_dir, secrets_dir, reused) -> Boot:
    """pytest-docker's fixture, with argument lists, and a cleanup registered before anything starts."""
    project = docker_compose_project_name
    runner = Compose(tuple(docker_compose_file), project,
                     {**compose_env, **emulation_plan.env, **(reused.env if reused else {})},
                     tuple(docker_compose_command))
    if docker_setup:
        runfiles.write_compose_env(runner.env, run_dir)
    built: list[str] = []
    share = workers.share_of(request.config) if docker_setup else None  # this worker boots the shared stack
    if share:  # pytest-xdist's controller takes it down
        share.add(files=list(runner.files), env=runner.env)
    elif docker_setup:  # a stack this run boots (not one it reuses)
        on_exit(request, lambda: _teardown(runner, engine_client, docker_cleanup, built, options))
    timings: dict = {}
    for args in docker_setup:
        if args[0] == "build":  # once `config` has validated the files: the images it will tag, and which exist
            planned = _built_images(runner)
            preexisting = daemon.existing_images(engine_client, planned)
        started = time.monotonic()
        progress(f"{' '.join(args[:1])}: project {project} …")
        if args[0] == "up":
            judged = _judges_budgets(request.session)
            with StartupWatch(engine_client, project, list(profile.services), via_cli=engine_host.ssh is not None,
                              poll_s=STARTUP_POLL_S if judged else IDLE_POLL_S, run_checks=judged,
                              on_ready=lambda service, s: progress(f"  {service} ready after {s:.1f} s")) as watch:
                _run(runner, args, on_error=lambda: _save_logs(engine_client, project, options.reports_dir))
            timings["startup"] = watch.ready_after
            if judged:  # the counters start at each container's creation
                booted = engine_client.containers.list(filters=compose.project_filter(project))
                timings["startup_throttling"] = throttling.over({}, throttling.per_service(
                    booted, daemon.stats_now(booted)))
            continue
        _run(runner, args)
        timings[args[0]] = time.monotonic() - started
        if args[0] == "build":
            progress(f"  images built in {timings['build']:.1f} s")
            built += [reference for reference in planned if reference not in preexisting]
            if share:
                share.add(built=built)
    if docker_setup or options.reuse_stack:
        _make_logins(request, runner, profile, secrets_dir, options, progress)
    if share:
        workers.booted(request.config, share)
    return Boot(Services(runner), runner, timings.get("build", 0.0), timings.get("startup", {}),
                timings.get("startup_throttling", {}))


@pytest.fixture(scope="session")
def stack(pytestconfig, docker_services, profile, secrets_dir, emulation_plan, engine_client, engine_host,
          options, run_platform) -> Stack:
    """The booted stack under test."""
    conditions = {"arch": run_platform.arch, **emulation_plan.conditions()}
    if run_platform.emulated:
        conditions["emulated_on"] = run_platform.native
    if options.reuse_stack:
        conditions["reused_stack"] = True
    if engine_host.ssh:
        conditions["engine"] = engine_host.name
    booted = Stack(compose=docker_services.compose, profile=profile, client=engine_client, secrets_dir=secrets_dir,
                   host=engine_host, build_s=docker_services.build_s, startup_s=docker_services.startup_s,
                   startup_throttling=docker_services.startup_throttling,
                   access={store.service: runfiles.access_service(store.service) for store in profile.stores.values()},
                   conditions=conditions, platform=run_platform)
    pytestconfig.stash[STACK_KEY] = booted
    return booted


def _make_logins(request, runner: Compose, profile: Profile, secrets_dir: Path, options, progress) -> None:
    """The controls' logins, made with the profile's ``api.accounts`` commands before any control runs; on a
    stack the run did not boot, removed at the end (under ``-n``, by the controller, once every worker is done)."""
    api = profile.api
    if not (api and api.accounts) or guard.is_foreign(request.config):
        return
    made = accounts.make(runner, api, (secrets_dir / api.password_secret).read_text())
    progress(f"  {made} logins made for the controls")
    if options.reuse_stack and not workers.is_conformance_worker(request.config):
        on_exit(request, lambda: workers.remove_logins(runner.project, api, runner))


def _judges_budgets(session) -> bool:
    return any(item.get_closest_marker("pi") for item in session.items)


def _config(base: Compose) -> dict:
    try:
        return base.config()
    except ComposeError as error:
        raise EnvironmentProblem(f"`docker compose config` failed: {printable(str(error), 200, False)}") from None


def _service_cpus(base: Compose, profile: Profile) -> dict[str, float]:
    """Each profile service's compose ``cpus`` (1.0 where it sets none)."""
    services = _config(base)["services"]
    return {name: float(services.get(name, {}).get("cpus") or 1.0) for name in profile.services}


def _built_images(runner: Compose) -> list[str]:
    """The image references that the run may build, in any compose profile (a service that the booted profile does
    not run is created for the controls that read its configuration): each built service's ``image``, or compose's
    default name. Only those that did not exist before the run are removed after it: an image the user built by
    hand stays."""
    services = runner.in_every_profile().config()["services"]
    return [s.get("image") or f"{runner.project}-{name}" for name, s in services.items() if s.get("build")]


def _run(runner: Compose, args: list[str], on_error=None) -> None:
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


def _save_logs(client, project: str, reports_dir: Path) -> str:
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


def _teardown(runner: Compose, client, cleanup: list[list[str]], built: list[str], options) -> None:
    """``down``, then remove by label whatever is left, then the images this run built; signals wait."""
    if not cleanup:  # --keep-stack
        print("\n" + daemon.kept(runner.project))
    elif left := daemon.take_down(runner, client, cleanup, built, options.keep_images):
        print("\n" + left)
