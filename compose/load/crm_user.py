"""A CRM user: logs in once, then lists, reads, creates and updates through the gateway.

    CRM_PASSWORD=... locust -f compose/load/crm_user.py --host http://127.0.0.1:8080

The suite runs it headless (docs/budgets.md). The logins (CRM_LOGINS, tenant=e-mail pairs; by
default the development seed's admins) and their password come from the environment, never from
the command line.
"""

import os
import random
import uuid

from locust import HttpUser, between, task

LOGINS = dict(pair.split("=", 1) for pair in
              os.environ.get("CRM_LOGINS", "acme=admin@acme.test,globex=admin@globex.test").split(","))


class CrmUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        tenant = random.choice(list(LOGINS))
        response = self.client.post("/auth/login", name="/auth/login", json={
            "tenant": tenant, "email": LOGINS[tenant], "password": os.environ["CRM_PASSWORD"]})
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        self.client_ids = [c["id"] for c in self.client.get("/api/clients", name="/api/clients").json()["items"]]

    @task(6)
    def list_clients(self):
        self.client.get("/api/clients?limit=20", name="/api/clients")

    @task(4)
    def get_client(self):
        self.client.get(f"/api/clients/{random.choice(self.client_ids)}", name="/api/clients/{id}")

    @task(2)
    def list_tasks(self):
        self.client.get("/api/tasks?limit=20", name="/api/tasks")

    @task(1)
    def create_task(self):
        self.client.post("/api/tasks", name="/api/tasks", json={"title": f"call back {uuid.uuid4().hex[:8]}"})

    @task(1)
    def update_client(self):
        self.client.patch(f"/api/clients/{random.choice(self.client_ids)}", name="/api/clients/{id}",
                          json={"notes": f"updated {uuid.uuid4().hex[:8]}"})
