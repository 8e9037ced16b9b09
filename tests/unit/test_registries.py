"""Each registry is the one source of its concept, and every user of it agrees: the control areas, the budget kinds,
the data stores and the instances a control covers. Leave an entry out, or add a user that the registry does not
know, and one of these fails."""

import inspect
import re
import typing
from pathlib import Path

import pytest

from infra_conformance.controls.areas import AREAS, BY_PREFIX, prefix
from infra_conformance.controls.catalogue import controls, suite_modules
from infra_conformance.controls.instances import INSTANCES, TOOLS
from infra_conformance.controls.metadata import control_of
from infra_conformance.engine.runfiles import ACCESS_LABEL, access_overlay
from infra_conformance.measure import budgets
from infra_conformance.profile.file import load_profile
from infra_conformance.profile.schema import Budgets, Profile
from infra_conformance.profile.schema_errors import model_of
from infra_conformance.profile.stores import STORES

ROOT = Path(__file__).parents[2]
SUITES = ROOT / "suites"


def test_every_suite_module_belongs_to_one_area():
    modules = sorted(path.stem for path in SUITES.glob("test_*.py"))
    owners = {module: [a.prefix for a in AREAS if module in a.modules] for module in modules}
    assert {m: o for m, o in owners.items() if len(o) != 1} == {}
    assert {m for a in AREAS for m in a.modules} == set(modules), "an area names a module that is not in suites/"


@pytest.mark.parametrize("module", sorted(path.stem for path in SUITES.glob("test_*.py")))
def test_each_control_lives_in_a_module_of_its_area(module):
    found = {c.id for title, c in controls() if _module_of(c.id) == module}
    wrong = sorted(i for i in found if module not in BY_PREFIX[prefix(i)].modules)
    assert not wrong, f"{module} holds controls of another area: {wrong}"


def _module_of(control_id: str) -> str:
    for path in SUITES.glob("test_*.py"):
        if f'mark.control("{control_id}"' in path.read_text():
            return path.stem
    raise AssertionError(control_id)


def test_every_budget_limit_belongs_to_a_kind_and_every_kind_has_a_control():
    limit_keys = {kind.limit_key for kind in budgets.KINDS.values()}
    assert limit_keys == set(Budgets.model_fields), "a [budgets] key without a kind, or a kind without its key"
    source = (SUITES / "test_09_budgets.py").read_text()
    constants = {name for name, value in vars(budgets).items() if isinstance(value, budgets.Kind)}
    assert {value.name for name, value in vars(budgets).items() if name in constants} == set(budgets.KINDS)
    unused = sorted(name for name in constants if f"budgets.{name}," not in source)
    assert not unused, f"budget kinds no control records: {unused}"
    for kind in budgets.KINDS.values():
        for key in kind.needs:  # a section, or a key inside one
            section, _, inner = key.partition(".")
            assert section in Profile.model_fields, kind
            assert not inner or inner in model_of(Profile.model_fields[section].annotation).model_fields, kind


def test_every_budget_control_is_marked_pi_and_has_its_line_in_budgets_md():
    """A control of a budgets area without ``@pytest.mark.pi`` is left out of `make pi` and shares the stack with
    other controls under -n; one that asks for ``load_run`` without ``@pytest.mark.load`` runs the load under
    ``-m 'not load'``; one without its row in docs/budgets.md is in no table of how the budgets are measured.
    Nothing else fails on any of them (issue 22)."""
    unmarked, ids = [], set()  # (control, marker it lacks); every control of a budgets area
    budget_modules = {f"suites.{module}" for area in AREAS if area.budgets for module in area.modules}
    for loaded in (module for module in suite_modules() if module.__name__ in budget_modules):
        for function in vars(loaded).values():
            if callable(function) and (control := control_of(function)):
                ids.add(control.id)
                marks = {mark.name for mark in function.pytestmark}
                unmarked += [(control.id, "pi")] * ("pi" not in marks)
                unmarked += [(control.id, "load")] * ("load_run" in control.arguments and "load" not in marks)
    assert sorted(unmarked) == [], "budget controls without a marker they need"
    table = set(re.findall(r"^\| ([A-Z]+-\d{2}) \|", (ROOT / "docs" / "budgets.md").read_text(), re.MULTILINE))
    assert sorted(ids - table) == [], "budget controls without their row in docs/budgets.md"


def test_every_data_store_is_a_profile_section_that_the_suite_reaches():
    for name, model in STORES.items():
        field = Profile.model_fields[name]
        assert model in typing.get_args(field.annotation), f"[{name}] is not a {model.__name__} section"
        assert {"service", "port"} <= set(model.model_fields), model
    sections = {name for name, field in Profile.model_fields.items()
                if any(inspect.isclass(arg) and "port" in getattr(arg, "model_fields", {})
                       and "service" in arg.model_fields for arg in typing.get_args(field.annotation))}
    assert sections == set(STORES), f"sections with a service and a port that STORES does not list: {sections}"
    profile = load_profile(ROOT / "compose")
    networks = {store.service: ["default"] for store in profile.stores.values()}
    overlay = access_overlay(profile, networks, lambda: 1)
    reached = {spec["labels"][ACCESS_LABEL] for spec in overlay["services"].values()}
    assert reached == {store.service for store in profile.stores.values()}


def test_every_argument_of_a_control_is_an_instance_or_a_tool():
    """A new fixture or parameter that a control ranges over needs a line in controls/instances.py, so that
    docs/coverage.md says what the control covers; one that only reaches the stack goes into TOOLS."""
    used = {argument for _, control in controls() for argument in control.arguments}
    assert used - INSTANCES.keys() - TOOLS == set(), "neither an instance nor a tool"
    assert INSTANCES.keys() & TOOLS == set()
    assert (INSTANCES.keys() | TOOLS) - used == set(), "named in controls/instances.py, used by no control"
