"""Collection: every test in ``suites/`` is a control with complete metadata, kept in ``item.stash``."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import NoReturn

import pytest

from infra_conformance.controls.metadata import Control, control_of, problems
from infra_conformance.plugins.options import OPTIONS_KEY
from infra_conformance.report.summary import not_applicable

CONTROL_KEY = pytest.StashKey[Control]()
# JUnit properties that carry a control's metadata; any other property is what the case measured.
METADATA_PROPERTIES = ("control_id", "severity", "claims", "title", "fix", "references")
CATALOGUE_KEY = pytest.StashKey[dict[str, Control]]()  # every collected control by ID, --control or not
CASES_KEY = pytest.StashKey[dict[str, set[str | None]]]()  # every collected control's cases, --control or not


MARKERS = (
    "control(id, severity, claims): a conformance control with a stable ID, a severity and the claims it covers",
    "pi: a Raspberry Pi 4 budget (start-up, memory, latency, CPU); select with -m pi",
    "destructive: changes the running stack (restarts, kills); gets its own stack or restores it; runs after the "
    "others",
    "running: judges what a running service does (sockets, logs); covers the services the booted compose profile "
    "runs",
    "last: reads what the other controls left behind (the logs); runs after them, before the destructive ones",
    "floods: exhausts a rate limit that other controls share (the login limit per address); with -n it needs the "
    "stack alone",
    "load: runs the profile's locust load (about 70 s); deselect with -m 'not load'",
)


def pytest_configure(config):
    """The controls' markers, declared by the plugin so that they hold wherever the suite runs."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Reject controls without metadata or with a duplicate ID; give JUnit its properties. First, so that every
    case that ``-m``, ``-k`` or ``--control`` deselects is known as a control's case, not checked."""
    errors, owners = [], {}
    for item in items:
        function = getattr(item, "function", None)
        control = control_of(function) if function else None
        if control is None:
            if item.nodeid.startswith("suites/"):
                errors.append(f"{item.nodeid}: every test in suites/ needs a control marker")
            continue
        where = f"{item.module.__name__}.{function.__name__}"
        errors += problems(control, where)
        if owners.setdefault(control.id, where) != where:
            errors.append(f"control ID {control.id} is used by both {owners[control.id]} and {where}")
        item.stash[CONTROL_KEY] = control
        item.extra_keyword_matches.add(control.id)  # -k CTR-01 selects it
        item.user_properties += zip(METADATA_PROPERTIES, (control.id, control.severity, ",".join(control.claims),
                                                          control.title, control.fix, "; ".join(control.references)),
                                    strict=True)
    if errors:
        raise pytest.UsageError("; ".join(sorted(set(errors))))
    items.sort(key=run_order)
    config.stash[CATALOGUE_KEY] = {item.stash[CONTROL_KEY].id: item.stash[CONTROL_KEY]
                                   for item in items if CONTROL_KEY in item.stash}
    cases = config.stash[CASES_KEY] = {}
    for item in items:
        if CONTROL_KEY in item.stash:
            cases.setdefault(item.stash[CONTROL_KEY].id, set()).add(item.nodeid.partition("[")[2].rstrip("]") or None)
    _select(config, items)


def run_order(item) -> tuple[bool, bool]:
    """Controls that kill, restart or restore services (``destructive``) run after every other, since the
    connections and published ports they break are the others' too; just before them run those that read what the
    others left behind (``last``: the logs, which a service recreated by a restore would lose). Otherwise the order
    is the modules'."""
    return item.get_closest_marker("destructive") is not None, item.get_closest_marker("last") is not None


def pytest_report_collectionfinish(config, items):
    """With --collect-only, a line per case: its control ID, severity and title."""
    if not config.option.collectonly:
        return []
    return [f"{item.stash[CONTROL_KEY].id:<7} {item.stash[CONTROL_KEY].severity:<8} {item.nodeid}"
            for item in items if CONTROL_KEY in item.stash]


def _select(config, items) -> None:
    """Keep only the controls that ``--control`` names, when it is given."""
    options = config.stash.get(OPTIONS_KEY, None)
    patterns = options.control if options else ()
    if not patterns:
        return
    chosen = [i for i in items if CONTROL_KEY in i.stash and any(fnmatchcase(i.stash[CONTROL_KEY].id, p)
                                                                 for p in patterns)]
    config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
    items[:] = chosen


def skip_not_applicable(key: str, text: str) -> NoReturn:
    """Skip a case that the profile says does not apply, naming the key that says so; any other skip is a case
    not checked, which makes the verdict partial."""
    pytest.skip(not_applicable(key, text))
