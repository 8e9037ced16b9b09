"""The reference stack's CRM user, plus a count of the requests each locust worker reported to the master.

At the end the master prints one line, ``conformance-load-count {"per_worker": {...}, "total": N}``,
counted from the same moment as the master's statistics (locust resets both after the ramp).
"""

import json
import sys
from collections import Counter
from pathlib import Path

from locust import events
from locust.runners import MasterRunner

sys.path.insert(0, str(Path(__file__).parents[2] / "compose" / "load"))
from crm_user import CrmUser  # noqa: E402,F401  (locust runs the User classes this module holds)

per_worker: Counter = Counter()


@events.worker_report.add_listener
def count(client_id, data, **_):
    per_worker[client_id] += data["stats_total"]["num_requests"]


@events.spawning_complete.add_listener
def restart(**_):
    """The master resets its statistics here too (--reset-stats): count from the same moment."""
    per_worker.clear()


@events.quitting.add_listener
def tell(environment, **_):
    if isinstance(environment.runner, MasterRunner):
        print("conformance-load-count " + json.dumps({"per_worker": dict(per_worker),
                                                      "total": environment.runner.stats.total.num_requests}),
              flush=True)
