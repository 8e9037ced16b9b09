"""The control areas: each one's ID prefix, its title in reports, and the suite modules that hold its controls.

Adding an area is one entry here and its module in ``suites/``; a unit test fails when a control's prefix and its
module disagree with this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    prefix: str
    title: str
    modules: tuple[str, ...]  # in suites/, without .py
    budgets: bool = False  # its controls judge the budgets: the report explains a run where none was measured


AREAS = (
    Area("CTR", "Container runtime", ("test_01_container_runtime", "test_01_container_isolation",
                                      "test_01_container_images", "test_01_container_logs",
                                      "test_01_container_limits", "test_01_container_inventory")),
    Area("NET", "Network exposure", ("test_02_network_exposure",)),
    Area("PG", "PostgreSQL", ("test_03_postgres", "test_03_postgres_audit", "test_03_postgres_durability",
                              "test_03_postgres_roles", "test_03_postgres_schema")),
    Area("RLS", "Row-level security", ("test_04_row_level_security", "test_04_tenant_writes", "test_04_tenant_api",
                                       "test_04_tenant_data_paths")),
    Area("RDS", "Redis", ("test_05_redis",)),
    Area("API", "API", ("test_06_api", "test_06_api_hostile", "test_06_api_tokens")),
    Area("GW", "Gateway", ("test_07_gateway", "test_07_gateway_limits")),
    Area("ARCH", "Architecture", ("test_08_architecture",)),
    Area("BUD", "Raspberry Pi 4 budgets", ("test_09_budgets",), budgets=True),
    Area("RES", "Resilience", ("test_11_resilience", "test_11_restart")),
    Area("BAK", "Backups", ("test_12_backups",)),
    Area("PRF", "Compose profiles", ("test_13_compose_profiles",)),
)
BY_PREFIX = {area.prefix: area for area in AREAS}
ID_PATTERN = re.compile(rf"^({'|'.join(area.prefix for area in AREAS)})-\d{{2}}$")


def prefix(control_id: str) -> str:
    """The area prefix of a control ID.

    >>> prefix("CTR-01")
    'CTR'
    """
    return control_id.split("-")[0]


def judges_budgets(control_id: str) -> bool:
    found = BY_PREFIX.get(prefix(control_id))
    return bool(found and found.budgets)


def title(control_id: str) -> str:
    """The title of a control's area, for the report.

    >>> title("RLS-03")
    'Row-level security'
    """
    found = BY_PREFIX.get(prefix(control_id))
    return found.title if found else prefix(control_id)
