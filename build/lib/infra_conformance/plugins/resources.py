"""The run's own resources and their lifetime: signals, the engine, a private folder, secrets, compose's variables.

Each is cleaned up however the run ends, Ctrl-C during its creation included.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from infra_conformance.engine import daemon, platforms, reuse, runfiles, signals
from infra_conformance.engine.platforms import RunPlatform
from infra_conformance.engine.remote import EngineHost
from infra_conformance.errors import EnvironmentProblem, UsageProblem
from infra_conformance.plugins import workers
from infra_conformance.probes import certificates


def pytest_sessionstart(session):
    """Install the signal handlers before the run creates anything; restore them after the last cleanup."""
    previous = signals.install()
    session.config.add_cleanup(lambda: signals.uninstall(previous))


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo):
    """Ctrl-C or a stop signal: one line from pytest, never a crash in its account of where the signal landed.

    pytest builds that account from ``excinfo.tb`` (its own session frame, which has a line number) and the
    exceptions chained to it, after this hook."""
    signals.drop_unnumbered(excinfo.value)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session):
    """Write every report whole: a further Ctrl-C after the first waits until they are written (a second or
    two), then the cleanup runs, also without interruption."""
    with signals.ignored():
        return (yield)


def on_exit(request, cleanup) -> None:
    """Run ``cleanup`` when pytest ends, however it ends.

    A fixture's own finalizers are skipped when Ctrl-C interrupts its setup (pytest
    runs them only for a fixture that returned or raised an ordinary exception), so
    what a run creates is registered with the config, whose cleanups always run.
    """
    with signals.deferred():
        request.config.add_cleanup(cleanup)


@pytest.fixture(scope="session")
def progress(pytestconfig):
    """``progress(line)``: one line on the terminal now, even while pytest captures output."""
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is None or pytestconfig.option.verbose < 0 and pytestconfig.option.quiet > 1:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"conformance: {line}")
    return say


@pytest.fixture(scope="session")
def engine_host() -> EngineHost:
    """Where the engine runs: this machine, or the host behind ``DOCKER_HOST=ssh://``."""
    host = EngineHost.from_environment()
    yield host
    host.close()


@pytest.fixture(scope="session")
def engine_client():
    """A Docker SDK client for the engine; the run ends with one line when none answers."""
    client = daemon.connect()
    yield client
    client.close()


@pytest.fixture(scope="session")
def engine_security(engine_client) -> set[str]:
    """The confinement the engine's host offers: some of ``seccomp``, ``apparmor``, ``selinux``, ``userns``."""
    options = engine_client.info().get("SecurityOptions") or []
    return {part.removeprefix("name=") for option in options for part in option.split(",") if part.startswith("name=")}


@pytest.fixture(scope="session")
def reused(request, options, engine_client) -> reuse.Running | None:
    """With --reuse-stack, the project that is already up; under ``-n``, the shared stack once a worker has
    booted it (None for the worker that boots it); otherwise None."""
    if options.reuse_stack:
        running = reuse.find(engine_client, options.reuse_stack)
        reuse.check_compose_profile(running, options.compose_profile)
        return running
    share = workers.share_of(request.config)
    return workers.join(request, share, engine_client) if share else None


@pytest.fixture(scope="session")
def run_dir(request, options, engine_client, reused) -> Path:
    """A private 0700 folder for this run's secrets and overlays, made once an engine answers.

    Removed on every exit path, except with --keep-stack for a stack this run booted, whose containers still
    mount the secrets (a run that reuses a stack keeps nothing here that the stack needs).
    """
    with signals.deferred():
        path = Path(tempfile.mkdtemp(prefix="conformance-"))
        if workers.BOOTING_KEY in request.config.stash:  # the controller removes it, after every worker
            workers.share_of(request.config).add(run_dir=str(path))
        else:
            on_exit(request, lambda: _remove_run_dir(path, options.keep_stack and reused is None))
    return path


def _remove_run_dir(path: Path, keep: bool) -> None:
    if keep:
        print(f"\n--keep-stack: the run's secrets and overlays stay in {path}; remove it with the stack")
        return
    with signals.ignored():
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def secrets_dir(request, profile, run_dir, engine_host, reused) -> Path:
    """This run's generated secrets, also copied to the engine's host when it is remote; or the
    secrets of the stack that --reuse-stack names."""
    if reused:
        if reused.secrets_dir is None and profile.secrets:
            raise UsageProblem(f"--reuse-stack {reused.project}: its containers mount no secrets")
        return reused.secrets_dir or run_dir
    tls = profile.api.tls if profile.api else None
    given = dict(zip((tls.cert_secret, tls.key_secret), certificates.self_signed(), strict=True)) if tls else {}
    folder = runfiles.write_secrets(profile.secrets, run_dir / "secrets", given)
    if engine_host.ssh:
        on_exit(request, lambda: engine_host.remove_folder(folder))
        engine_host.copy_folder(folder)
    return folder


@pytest.fixture(scope="session")
def run_platform(options, engine_client) -> RunPlatform:
    """The platform this run builds and runs for (--platform, or the engine's own), and whether it is emulated."""
    try:
        own = platforms.native(engine_client.info())
    except ValueError as error:
        raise EnvironmentProblem(str(error)) from None
    return RunPlatform(options.platform or own, own)


@pytest.fixture(scope="session")
def compose_env(profile, secrets_dir, docker_compose_project_name) -> dict[str, str]:
    """Variables for compose: the profile's [env] as defaults that the environment overrides,
    as compose treats an env file; this run's SECRETS_DIR; CONFORMANCE_IMAGE_TAG, the
    project's name unless set, so that runs side by side on one engine never re-tag or
    remove each other's images; COMPOSE_PROFILES from --compose-profile."""
    variables = {"CONFORMANCE_IMAGE_TAG": docker_compose_project_name, **profile.env}
    return {**variables, **{k: os.environ[k] for k in variables if k in os.environ}, "SECRETS_DIR": str(secrets_dir),
            "COMPOSE_PROFILES": profile.compose_profile or ""}  # --compose-profile, never the user's shell's
