"""The simulated people of bench/load.py (a locustfile): members browsing the board, opening
tasks and doing project items; clients reviewing; anonymous ledger readers; and, run apart, a
trivial endpoint's caller for the server's ceiling. Settings come from bench/load.py through
the environment (LOAD_PROJECT, LOAD_PASSWORD). Nobody waits between requests: a closed loop
of 50 users finds the server's throughput, and the latency it costs."""

import itertools
import os
import random
import re

from locust import HttpUser, constant, task

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = re.compile(r'action="(/assignments/\d+/answer)"')
TASK_LINK = re.compile(r'href="/tasks/(\d+)"')
PROJECT = os.environ.get("LOAD_PROJECT", "1")
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
_members = itertools.count()


def _sign_in(user: HttpUser, email: str) -> None:
    page = user.client.get("/login", name="/login").text
    user.client.post("/login", {"csrf_token": TOKEN.search(page).group(1), "email": email,
                                "password": PASSWORD}, name="/login")  # fmt: skip


class Member(HttpUser):
    weight = 6
    wait_time = constant(0)

    def on_start(self):
        _sign_in(self, f"member{next(_members)}@bench.test")
        self.page = ""
        self.tasks_seen: list[str] = []

    @task(3)
    def board(self):
        page = self.client.get("/", name="/ (board)").text
        self.tasks_seen = TASK_LINK.findall(page) or self.tasks_seen

    @task(2)
    def open_task(self):
        if self.tasks_seen:
            self.client.get(f"/tasks/{random.choice(self.tasks_seen)}", name="/tasks/<id>")

    @task(5)
    def answer_item(self):
        form = ANSWER.search(self.page)
        if form is None:  # not started yet, or the last page held no next item
            page = self.client.get(f"/projects/{PROJECT}", name="/projects/<id>").text
            self.page = self.client.post(
                f"/projects/{PROJECT}/start", {"csrf_token": TOKEN.search(page).group(1)},
                name="/projects/<id>/start",
            ).text
            return
        self.page = self.client.post(
            form.group(1), {"csrf_token": TOKEN.search(self.page).group(1), "label": "keep"},
            name="/assignments/<id>/answer",
        ).text


class Client(HttpUser):
    weight = 2
    wait_time = constant(0)

    def on_start(self):
        _sign_in(self, "client@bench.test")

    @task(2)
    def dashboard(self):
        self.client.get("/client", name="/client")

    @task(1)
    def project(self):
        self.client.get(f"/projects/{PROJECT}", name="/projects/<id> (client)")


class Reader(HttpUser):
    weight = 2
    wait_time = constant(0)

    @task(2)
    def ledger_page(self):
        self.client.get("/ledger", name="/ledger")

    @task(3)
    def checkpoint(self):
        self.client.get("/ledger/checkpoint", name="/ledger/checkpoint")


class Trivial(HttpUser):
    """The ceiling: the same server's cheapest answer, asked as fast as the mixed users ask."""

    weight = 1
    wait_time = constant(0)

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz")
