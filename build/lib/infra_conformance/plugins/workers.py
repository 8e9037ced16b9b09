"""pytest-xdist: one stack for every worker. The first to need it boots it, the others check it as it is,
and the controller takes it down once every worker is done.

Controls that kill, restart or restore services (``destructive``), judge a budget (``pi``) or
exhaust a rate limit the others share (``floods``) need the stack alone, so with ``-n`` they do
not run: the run ends with exit 4 and one line naming them, after the others have run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from infra_conformance.engine import compose, daemon, reuse
from infra_conformance.engine.compose import Compose
from infra_conformance.engine.share import Share
from infra_conformance.errors import USAGE_EXIT, Problem
from infra_conformance.plugins.collection import CONTROL_KEY
from infra_conformance.plugins.exits import PREFIX
from infra_conformance.plugins.options import OPTIONS_KEY, PROFILE_KEY, is_conformance_run
from infra_conformance.probes import accounts

ALONE = ("destructive", "pi", "floods")  # markers of the controls that need the stack to themselves
ALONE_OUTPUT = "conformance_alone"  # a worker's output: {"nodeids": […], "ids": […]} of the controls it left out
SHARE_INPUT = "conformance_share"
SHARE_KEY = pytest.StashKey[Share]()  # on the controller
BOOTING_KEY = pytest.StashKey[object]()  # on the worker that boots: the held lock
LEFT_OUT_KEY = pytest.StashKey[set[str]]()  # on the controller: the IDs of the controls left out
LEFT_OUT_LINE_KEY = pytest.StashKey[str]()  # on the controller: the line that ends such a run
STOP_OUTPUT = "conformance_stop"  # a worker's output: the line and exit code that ended it


def share_of(config) -> Share | None:
    """The stack this process shares: on the controller from its stash, on a worker from the controller."""
    if hasattr(config, "workerinput"):
        found = config.workerinput.get(SHARE_INPUT)
        return Share(found["project"], Path(found["folder"])) if found else None
    return config.stash.get(SHARE_KEY, None)


def is_controller(config) -> bool:
    """pytest-xdist's controller of a conformance run: its workers run the controls, it writes the reports."""
    return (not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no"
            and is_conformance_run(config))


def is_conformance_worker(config) -> bool:
    """An xdist worker of a conformance run: its stack is the other workers' too (shared, or --reuse-stack)."""
    return hasattr(config, "workerinput") and is_conformance_run(config)


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """On the controller of ``-n``: name the shared project, and take it down at the very end."""
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(WorkerStop(config), "conformance-worker-stop")
        return
    options = config.stash[OPTIONS_KEY]
    if not is_controller(config) or config.option.collectonly:
        return
    if options.reuse_stack:  # its workers made the controls' logins on it
        if (api := config.stash[PROFILE_KEY].api) and api.accounts:
            config.add_cleanup(lambda: remove_logins(options.reuse_stack, api))
        return
    share = Share(compose.project_name(), Path(tempfile.mkdtemp(prefix="conformance-share-")))
    config.stash[SHARE_KEY] = share
    config.add_cleanup(lambda: _take_down(share, options))


class WorkerStop:
    """On a worker: a run that ends with one line (``fixtures.exits``) hands the line and its exit code to the
    controller, which ends the same way (xdist would take it for a crash)."""

    def __init__(self, config):
        self.config = config

    def pytest_keyboard_interrupt(self, excinfo):
        message = str(getattr(excinfo.value, "msg", ""))
        if isinstance(excinfo.value, pytest.exit.Exception) and message.startswith(PREFIX):
            self.config.workeroutput[STOP_OUTPUT] = {"line": message, "code": excinfo.value.returncode}


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    if share := node.config.stash.get(SHARE_KEY, None):
        node.workerinput[SHARE_INPUT] = {"project": share.project, "folder": str(share.folder)}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """On a worker: leave out the controls that need the stack alone, and tell the controller which."""
    if not is_conformance_worker(config):
        return
    alone = [item for item in items if any(item.get_closest_marker(marker) for marker in ALONE)]
    if alone:
        items[:] = [item for item in items if item not in alone]
        config.hook.pytest_deselected(items=alone)
        config.workeroutput[ALONE_OUTPUT] = {
            "nodeids": sorted(item.nodeid for item in alone),
            "ids": sorted({item.stash[CONTROL_KEY].id for item in alone if CONTROL_KEY in item.stash})}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    output = getattr(node, "workeroutput", {})
    if left_out := output.get(ALONE_OUTPUT):
        node.config.stash[LEFT_OUT_KEY] = set(left_out["ids"])
    if stop := output.get(STOP_OUTPUT):
        pytest.exit(stop["line"], returncode=stop["code"])


def pytest_sessionfinish(session):
    """On the controller: a run that left controls out is not a full run (exit 4)."""
    if left_out := session.config.stash.get(LEFT_OUT_KEY, None):
        shown = ", ".join(sorted(left_out)[:6]) + (", …" if len(left_out) > 6 else "")
        session.config.stash[LEFT_OUT_LINE_KEY] = (
            f"{PREFIX}-n shares one stack between its workers, so {len(left_out)} controls that need it alone did "
            f"not run ({shown}); run them without -n: pytest -m '{' or '.join(ALONE)}'")
        session.exitstatus = USAGE_EXIT


def pytest_terminal_summary(terminalreporter, config):
    if line := config.stash.get(LEFT_OUT_LINE_KEY, None):
        terminalreporter.write_line(line)


def join(request, share: Share, client) -> reuse.Running | None:
    """Wait while another worker boots the stack, then check it as it is; or, first, boot it (None), holding the
    lock until it is up (``booted``) or this worker ends. A boot that failed ends this worker with its line."""
    lock = share.lock()
    lock.acquire()
    if problem := share.problem():
        lock.release()
        raise problem
    if share.note().get("booted"):
        lock.release()
        return reuse.find(client, share.project)
    request.config.stash[BOOTING_KEY] = lock
    request.config.add_cleanup(lock.release)
    return None


def booted(config, share: Share) -> None:
    """The booting worker is done: the others may check the stack."""
    share.add(booted=True)
    config.stash[BOOTING_KEY].release()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_fixture_setup(fixturedef, request):
    """While this worker boots the shared stack, a problem that ends it ends the others too."""
    try:
        return (yield)
    except Problem as problem:
        share = share_of(request.config)
        if BOOTING_KEY in request.config.stash and share and not share.note().get("booted"):
            share.add_problem(problem)
        raise


def remove_logins(project: str, api, runner: Compose | None = None) -> None:
    """Remove the controls' logins from a stack the run leaves up (found by its project without ``runner``); a
    failure is one line, not a traceback."""
    try:
        if runner is None:
            running = reuse.find(daemon.connect(), project)
            runner = Compose(running.compose_files, project, running.env)
        accounts.remove(runner, api)
    except Problem as problem:
        print(f"\n{PREFIX}the controls' logins are still on project {project}: {problem}")


def _take_down(share: Share, options) -> None:
    """Take the shared project down as ``fixtures.lifecycle`` does for its own, then remove the run's folders."""
    note = share.note()
    if options.keep_stack:  # with its run folder, which its containers mount
        shutil.rmtree(share.folder, ignore_errors=True)
        print("\n" + daemon.kept(share.project))
        return
    if note.get("files"):  # noted before the first compose command: without them, nothing was created
        runner = Compose(tuple(note["files"]), share.project, note.get("env", {}))
        try:
            left = daemon.take_down(runner, daemon.connect(), compose.cleanup_commands(), note.get("built", []),
                                    options.keep_images)
        except Problem as problem:
            left = f"{PREFIX}cleanup of project {share.project}: {problem}"
        if left:
            print("\n" + left)
    for folder in (note.get("run_dir"), share.folder):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
