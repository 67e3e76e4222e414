"""Projects benchmark: import, next item + answer, answers over HTTP, results export, one JSON line.

    .venv/bin/python bench/projects.py [--items 100000] [--members 2000] [--http-seconds 60]
    COOP_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres  (also on PostgreSQL)

One project of --items items with overlap 3 and --members members, built through the app's
code, on a temporary SQLite database (and on a PostgreSQL database made and dropped here when
COOP_BENCH_POSTGRES_URL is set). Each step runs in a fresh process, so its peak memory (max
RSS) is its own:

- import: the client's CSV through `operations.upload_items`, at a quarter and at all of the
  rows (two projects), so memory can be compared across sizes;
- ops: next item + submit answer (`next_assignment`, `submit_answer`: one ledger append
  each), server side, on the project once most of its items are answered;
- http: `coop serve` (gunicorn, its defaults) on loopback; client processes (http.client,
  keep-alive) first fetch /static/coop.css for --trivial-seconds, then each signs in as its
  own member and answers for --http-seconds, one POST per answer whose page carries the next
  item;
- export: the results (CSV, JSONL) and proof files through `coop.projects.results`, at a
  checkpoint covering a third of the answers and at one covering all (about 3 × items), then
  `verify-results` offline.

Answers other than those the ops and http steps give are bulk-loaded: Assignment and Answer
rows inserted in batches and one real ledger append per answer (the app's Ledger, same entry
as `submit_answer`), so the proof covers real entries. Not run by `make test`.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import multiprocessing
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {
    "import_rows_per_s": 20_000,
    "ops_p95_ms": 30,  # at most
    "http_answers_vs_trivial": 0.5,
    "export_with_proof_rows_per_s": 100_000,
    "verify_rows_per_s": 200_000,
}
TEMPLATE = {"kind": "classify", "text_field": "comment", "labels": ["keep", "remove"],
            "reason_for": ["remove"]}  # fmt: skip
OVERLAP = 3
PRICE = 20  # cents per answer: 18 net, 21.60 €/h for 30 s
SECONDS = 30
PASSWORD = "bench-password-1234"
# Members by step, so that no member is given the same item twice across steps.
OPS_MEMBERS, HTTP_MEMBERS = 500, 200


# -- inside a child process: the app ----------------------------------------------------------


def app_for(url: str, instance: str):
    from coop import create_app

    return create_app({
        "DATABASE_URL": url,
        "INSTANCE_DIR": instance,
        "LEDGER_KEY_FILE": f"{instance}-ledger_key",  # apart from the data, as in production
        "UPLOAD_DIR": f"{instance}/files",
        "SECRET_KEY": "bench",
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "NTP_SERVERS": "",
    })


def setup(items: int, members: int) -> dict:
    """Migrate, add members and a client, create the two projects (drafts)."""
    from datetime import timedelta

    from flask import current_app

    from coop import migrations
    from coop.audit.keys import ensure_key
    from coop.auth.passwords import hash_password
    from coop.db import database
    from coop.models import User, utcnow
    from coop.projects import operations as ops

    migrations.upgrade()
    ensure_key(current_app)  # as `coop init`: checkpoints are signed
    hashed = hash_password(PASSWORD)  # one scrypt hash shared: only http members sign in
    rows = [{"email": f"member{n}@bench.test", "name": f"Member {n}", "password_hash": hashed,
             "role": "member", "member_status": "active", "pseudonym": f"w-{n:08x}"}
            for n in range(members)]  # fmt: skip
    rows.append({"email": "client@bench.test", "name": "Client", "password_hash": hashed,
                 "role": "client", "member_status": None, "pseudonym": "c-bench"})  # fmt: skip
    with database.atomic():
        for start in range(0, len(rows), 500):
            User.insert_many(rows[start : start + 500]).execute()
    client = User.get(User.email == "client@bench.test")
    ids = []
    for n in (items, items // 4):
        project = ops.create_project(
            client, title="Moderate comments", instructions="Remove insults and spam.",
            template=TEMPLATE, price_cents=PRICE, estimated_seconds=SECONDS, overlap=OVERLAP,
            deadline=utcnow() + timedelta(days=30), budget_cents=PRICE * n * OVERLAP * 2,
        )  # fmt: skip
        ids.append(project.id)
    return {"project": ids[0], "small_project": ids[1]}


def upload(project_id: int, path: str) -> dict:
    from coop.models import User
    from coop.projects import operations as ops
    from coop.projects.models import Project

    client = User.get(User.email == "client@bench.test")
    project = Project.get_by_id(project_id)
    start = time.perf_counter()
    with open(path, "rb") as stream:
        report = ops.upload_items(client, project, stream, "items.csv")
    seconds = time.perf_counter() - start
    assert report.ok and not report.unchanged, report.errors[:3]
    return {"rows": report.imported, "s": round(seconds, 2),
            "rows_per_s": int(report.imported / seconds)}  # fmt: skip


def publish(project_id: int) -> dict:
    from coop.models import User
    from coop.projects import operations as ops
    from coop.projects.models import Project

    client = User.get(User.email == "client@bench.test")
    ops.publish_project(client, Project.get_by_id(project_id))
    return {}


def fill(project_id: int, first: int, count: int, pool_from: int) -> dict:
    """Answer every free slot of `count` items from the first-th, as submit_answer would.

    Members come from the pool starting at member pool_from, which no other step uses.
    Ends by publishing a checkpoint, whose size is returned.
    """
    import hashlib

    from peewee import Case, fn

    from coop.audit.ledger import get_ledger, publish_checkpoint
    from coop.db import write_transaction
    from coop.models import User, utcnow
    from coop.projects.models import (
        Answer,
        AnswerState,
        Assignment,
        AssignmentState,
        Item,
        Project,  # fmt: skip
    )
    from coop.projects.templates import answer_bytes, parse_answer, validate_config

    template = validate_config(TEMPLATE)
    ledger = get_ledger()
    pool = list(User.select(User.id, User.pseudonym).where(User.role == "member")
                .order_by(User.id).offset(pool_from).tuples())  # fmt: skip
    pseudonym = dict(pool)
    pool_ids = [member_id for member_id, _ in pool]
    answers = []
    for k in range(4):
        chosen = {"label": ["remove"], "reason": ["spam"]} if k == 3 else {"label": ["keep"]}
        canonical = answer_bytes(parse_answer(template, chosen))
        answers.append((canonical.decode(), hashlib.sha256(canonical).hexdigest()))
    items = list(
        Item.select(Item.id, Item.external_id, Item.free)
        .where((Item.project == project_id) & (Item.free > 0) & (Item.active_count == 0))
        .order_by(Item.id).offset(first).limit(count).tuples()
    )  # fmt: skip
    done = 0
    for start in range(0, len(items), 200):
        batch = items[start : start + 200]
        now = utcnow()
        with write_transaction():
            last_lease = Assignment.select(fn.MAX(Assignment.id)).scalar() or 0
            leases = []
            for position, (item_id, _external, free) in enumerate(batch, start):
                for k in range(free):
                    member = pool_ids[(position * OVERLAP + k) % len(pool_ids)]
                    leases.append({"item": item_id, "project": project_id, "member": member,
                                   "started_at": now, "expires_at": now,
                                   "state": AssignmentState.ANSWERED, "ended_at": now})  # fmt: skip
            Assignment.insert_many(leases).execute()
            made = list(
                Assignment.select(Assignment.id, Assignment.item, Assignment.member)
                .where(Assignment.id > last_lease).order_by(Assignment.id).tuples()
            )  # fmt: skip
            last_answer = Answer.select(fn.MAX(Answer.id)).scalar() or 0
            Answer.insert_many([
                {"assignment": lease_id, "item": item_id, "project": project_id,
                 "member": member, "data": answers[lease_id % 4][0],
                 "sha256": answers[lease_id % 4][1], "seconds": 20 + lease_id % 25,
                 "submitted_at": now, "unix_ns": 0, "state": AnswerState.PENDING}
                for lease_id, item_id, member in made
            ]).execute()  # fmt: skip
            external = {item_id: external_id for item_id, external_id, _ in batch}
            stored = list(Answer.select(Answer.id, Answer.item, Answer.member, Answer.sha256,
                                        Answer.seconds)
                          .where(Answer.id > last_answer).order_by(Answer.id).tuples())  # fmt: skip
            entries = [
                (answer_id, ledger.append("answer.submitted", {
                    "project": project_id,
                    "item": hashlib.sha256(external[item_id].encode()).hexdigest(),
                    "answer_sha256": digest, "member": pseudonym[member], "seconds": seconds,
                    "subject": f"answer:{answer_id}"}))
                for answer_id, item_id, member, digest, seconds in stored
            ]  # fmt: skip
            Answer.update(
                ledger_index=Case(Answer.id, [(a, e.index) for a, e in entries]),
                unix_ns=Case(Answer.id, [(a, e.time.unix_ns) for a, e in entries]),
                uncertainty_ns=Case(Answer.id, [(a, e.time.uncertainty_ns) for a, e in entries]),
            ).where(Answer.id.in_([a for a, _ in entries])).execute()
            Item.update(answers_count=Item.answers_count + Item.free, free=0).where(
                Item.id.in_([item_id for item_id, _, _ in batch])
            ).execute()
            Project.update(answers_count=Project.answers_count + len(entries)).where(
                Project.id == project_id
            ).execute()
            done += len(entries)
    return {"answers": done, "checkpoint": publish_checkpoint().size}


def answer_ops(project_id: int, runs: int) -> dict:
    """Time next_assignment + submit_answer, each with its own transaction, server side."""
    from coop.models import User
    from coop.projects import operations as ops
    from coop.projects.models import Project

    members = list(User.select().where(User.role == "member").order_by(User.id)
                   .limit(OPS_MEMBERS))  # fmt: skip
    project = Project.get_by_id(project_id)
    both, nexts, submits = [], [], []
    for n in range(runs):
        member = members[n % len(members)]
        start = time.perf_counter()
        lease = ops.next_assignment(member, project)
        middle = time.perf_counter()
        assert lease is not None
        ops.submit_answer(member, lease, {"label": ["keep"]})
        end = time.perf_counter()
        if n >= runs // 10:  # the first tenth warms caches
            nexts.append((middle - start) * 1000)
            submits.append((end - middle) * 1000)
            both.append((end - start) * 1000)
    return {"runs": len(both), "next_and_submit": percentiles(both),
            "next": percentiles(nexts), "submit": percentiles(submits)}


def export(project_id: int, size: int, folder: str, tag: str) -> dict:
    """Write the results (CSV, JSONL) and proof files at the checkpoint of that size.

    As the app serves a large project: the aggregates are computed once by the job the
    client queues (`aggregate_s`, off the request path), and each download reads them back
    (`read_aggregates_s`, counted in the CSV's and JSON Lines' times).
    """
    from coop.projects import results
    from coop.projects.models import Project
    from coop.quality import aggregate_cache
    from coop.quality.results import choose_method
    from ledger.results import ResultsFormat

    project = Project.get_by_id(project_id)
    cut = results.cut_at(size)
    method = choose_method(project, None)
    out = {}
    start = time.perf_counter()
    # The job's own handler, called here rather than through the queue.
    job = SimpleNamespace(subject=aggregate_cache.key_of(project, method, cut.size).subject)
    aggregate_cache._aggregate_job(job, lambda *_: None)
    out["aggregate_s"] = round(time.perf_counter() - start, 2)

    def download(fmt: ResultsFormat):
        start = time.perf_counter()
        votes = aggregate_cache.ready_votes(project, method, cut.size)
        assert votes is not None, "the aggregates were not kept"
        out["read_aggregates_s"] = round(time.perf_counter() - start, 2)
        return results.results_file(project, fmt, cut, method, votes)

    for name, chunks in (
        ("csv", lambda: download(ResultsFormat.CSV)),
        ("jsonl", lambda: download(ResultsFormat.JSONL)),
        ("proof", lambda: results.proof_file(project, cut)),
    ):
        start = time.perf_counter()
        with open(f"{folder}/{tag}.{name}", "wb") as f:
            for block in chunks():
                f.write(block)
        out[f"{name}_s"] = round(time.perf_counter() - start, 2)
    with open(f"{folder}/{tag}.checkpoint", "w") as f:
        f.write(cut.note)
    out["rows"] = sum(1 for _ in open(f"{folder}/{tag}.jsonl", "rb"))
    from coop.audit.ledger import verifier_key

    out["verifier"] = verifier_key()
    return out


def verify(folder: str, tag: str, key: str) -> dict:
    from ledger.results import verify_results

    out = {}
    for fmt in ("csv", "jsonl"):
        start = time.perf_counter()
        checked = verify_results(f"{folder}/{tag}.{fmt}", f"{folder}/{tag}.proof", key)
        out[f"{fmt}_s"] = round(time.perf_counter() - start, 2)
        out["rows"] = checked.rows
    return out


STEPS = {"setup": setup, "upload": upload, "publish": publish, "fill": fill, "ops": answer_ops,
         "export": export, "verify": verify}  # fmt: skip
NO_APP = {"verify"}


def child(url: str, instance: str, step: str, args: list) -> None:
    start = time.perf_counter()
    if step in NO_APP:
        out = STEPS[step](*args)
    else:
        from coop.db import database

        app = app_for(url, instance)
        with app.app_context(), database.connection_context():
            out = STEPS[step](*args)
    out["wall_s"] = round(time.perf_counter() - start, 2)
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(out))


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    if not times:
        return {}
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(int(len(times) * 0.95) - 1, 0)], 2),
            "max_ms": round(times[-1], 2)}  # fmt: skip


# -- in the parent ----------------------------------------------------------------------------


class Run:
    """The steps on one database, each in a fresh process."""

    def __init__(self, url: str, instance: Path):
        self.url, self.instance = url, instance

    def __call__(self, step: str, *args) -> dict:
        command = [sys.executable, __file__, "--child", self.url, str(self.instance), step,
                   json.dumps(args)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            sys.exit(f"step {step} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def write_csv(path: Path, rows: int, prefix: str) -> None:
    words = ("Great article, thanks.", "This is spam, buy now!!!", "I disagree with the mayor.",
             "Où est la source de ces chiffres ?", "Quelle honte, \"vraiment\".")  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["external_id", "comment"])
        for i in range(rows):
            out.writerow([f"{prefix}-{i:07d}", f"{words[i % 5]} (#{i})"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One keep-alive connection with a session cookie, for one client process."""

    def __init__(self, port: int):
        self.port, self.cookie, self.conn = port, "", None

    def request(self, method: str, path: str, form: dict | None = None):
        body = None if form is None else urllib.parse.urlencode(form, doseq=True)
        headers = {"Cookie": self.cookie, "User-Agent": "coop-bench"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                self.cookie = header.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, data.decode("utf-8", "replace")


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = re.compile(r'action="(/assignments/\d+/answer)"')


def http_client(port: int, kind: str, member: int, project: int, begin: float, until: float,
                queue) -> None:
    """Loop until the given time: GET the trivial page, or sign in and answer items."""
    web, times, errors = Browser(port), [], 0
    if kind == "answers":
        _status, page = web.request("GET", "/login")
        web.request("POST", "/login", {"csrf_token": TOKEN.search(page).group(1),
                                       "email": f"member{member}@bench.test",
                                       "password": PASSWORD})  # fmt: skip
        _status, page = web.request("GET", f"/projects/{project}")
        status, page = web.request("POST", f"/projects/{project}/start",
                                   {"csrf_token": TOKEN.search(page).group(1)})  # fmt: skip
        assert status == 200 and ANSWER.search(page), (status, page[:500])
    time.sleep(max(0.0, begin - time.time()))
    while time.time() < until:
        start = time.perf_counter()
        if kind == "trivial":
            status, page = web.request("GET", "/static/coop.css")
        else:
            status, page = web.request("POST", ANSWER.search(page).group(1),
                                       {"csrf_token": TOKEN.search(page).group(1),
                                        "label": "keep"})  # fmt: skip
            if status != 200 or not ANSWER.search(page):
                errors += 1
                break
        if status == 200:
            times.append((time.perf_counter() - start) * 1000)
        else:
            errors += 1
    queue.put((times, errors))


def load(port: int, kind: str, clients: int, seconds: float, project: int) -> dict:
    queue = multiprocessing.Queue()
    # Sign-ins happen before the clock starts: each client answers from `begin` on.
    begin = time.time() + (10 if kind == "answers" else 1)
    workers = [multiprocessing.Process(target=http_client, args=(
        port, kind, OPS_MEMBERS + n, project, begin, begin + seconds, queue))
        for n in range(clients)]
    for w in workers:
        w.start()
    found = [queue.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    times = [t for got, _ in found for t in got]
    return {"clients": clients, "seconds": seconds, "requests": len(times),
            "per_s": round(len(times) / seconds, 1), "errors": sum(e for _, e in found),
            **percentiles(times)}  # fmt: skip


def serve(url: str, instance: Path, port: int):
    env = dict(os.environ, COOP_DATABASE_URL=url, COOP_INSTANCE_DIR=str(instance),
               COOP_LEDGER_KEY_FILE=f"{instance}-ledger_key", COOP_SECRET_KEY="bench",
               COOP_NTP_SERVERS="", COOP_SECURE_COOKIES="0",
               COOP_LOGIN_RATE_LIMIT="100000 per minute", PYTHONPATH=str(ROOT))  # fmt: skip
    coop = Path(sys.executable).with_name("coop")
    # The server logs a line per request: to a file, since an unread pipe fills and blocks it.
    log = open(instance / "server.log", "wb")
    server = subprocess.Popen([str(coop), "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("coop serve did not start:\n" + (instance / "server.log").read_text()[-2000:])


def bench(url: str, instance: Path, args) -> dict:
    run, items = Run(url, instance), args.items
    folder = instance / "out"
    folder.mkdir()
    out: dict = {"items": items, "overlap": OVERLAP, "members": args.members}
    ids = run("setup", items, args.members)
    project = ids["project"]
    small = items // 4
    write_csv(folder / "small.csv", small, "s")
    write_csv(folder / "all.csv", items, "a")
    out["import_quarter"] = run("upload", ids["small_project"], str(folder / "small.csv"))
    out["import_all"] = run("upload", project, str(folder / "all.csv"))
    out["import_rows_per_s"] = out["import_all"]["rows_per_s"]
    run("publish", project)
    # Answered before the timed steps: all but the items those steps need.
    reserve = args.ops_runs + args.reserve
    third = (items - reserve) // 3
    pool = OPS_MEMBERS + HTTP_MEMBERS
    out["fill_third"] = run("fill", project, 0, third, pool)
    out["fill_rest"] = run("fill", project, 0, items - reserve - third, pool)
    out["ops"] = run("ops", project, args.ops_runs)
    port = free_port()
    server = serve(url, instance, port)
    try:
        out["http_trivial"] = load(port, "trivial", args.clients, args.trivial_seconds, project)
        out["http_answers"] = load(port, "answers", args.clients, args.http_seconds, project)
    finally:
        server.terminate()
        server.wait(timeout=30)
    out["http_answers_vs_trivial"] = round(
        out["http_answers"]["per_s"] / max(out["http_trivial"]["per_s"], 1), 2
    )
    out["fill_last"] = run("fill", project, 0, items, pool)
    for tag, size in (("third", out["fill_third"]["checkpoint"]),
                      ("all", out["fill_last"]["checkpoint"])):  # fmt: skip
        made = run("export", project, size, str(folder), tag)
        made["verify"] = run("verify", str(folder), tag, made.pop("verifier"))
        out[f"export_{tag}"] = made
    made = out["export_all"]
    out["answers_exported"] = made["rows"]
    out["export_with_proof_rows_per_s"] = int(made["rows"] / (made["csv_s"] + made["proof_s"]))
    out["verify_rows_per_s"] = int(made["rows"] / made["verify"]["csv_s"])
    out["met"] = {
        "import_rows_per_s": out["import_rows_per_s"] >= TARGETS["import_rows_per_s"],
        "ops_p95_ms": out["ops"]["next_and_submit"]["p95_ms"] < TARGETS["ops_p95_ms"],
        "http_answers_vs_trivial": out["http_answers_vs_trivial"]
        >= TARGETS["http_answers_vs_trivial"],
        "export_with_proof_rows_per_s": out["export_with_proof_rows_per_s"]
        >= TARGETS["export_with_proof_rows_per_s"],
        "verify_rows_per_s": out["verify_rows_per_s"] >= TARGETS["verify_rows_per_s"],
    }
    return out


def postgres_database(base: str, action: str, name: str) -> str:
    import psycopg2

    parts = urllib.parse.urlsplit(base)
    con = psycopg2.connect(base)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'{action} DATABASE "{name}"')  # noqa: S608 - our own name
    con.close()
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--ops-runs", type=int, default=1_000)
    parser.add_argument("--reserve", type=int, default=5_000,
                        help="items left unanswered for the http step")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--trivial-seconds", type=float, default=20)
    parser.add_argument("--http-seconds", type=float, default=60)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", nargs=4)
    args = parser.parse_args()
    if args.members < OPS_MEMBERS + HTTP_MEMBERS + OVERLAP:
        parser.error(f"--members must be at least {OPS_MEMBERS + HTTP_MEMBERS + OVERLAP}")
    if args.child:
        url, instance, step, params = args.child
        child(url, instance, step, json.loads(params))
        return
    result: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "sqlite": sqlite3.sqlite_version,
                    "loadavg_1m_at_start": round(os.getloadavg()[0], 2)},  # fmt: skip
        "targets": TARGETS,
    }
    postgres = os.environ.get("COOP_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="projects-bench-") as tmp:
        if not args.no_sqlite:
            instance = Path(tmp) / "sqlite"
            instance.mkdir()
            result["sqlite"] = bench(f"sqlite:///{instance}/coop.db", instance, args)
            result["machine"]["loadavg_1m_after_sqlite"] = round(os.getloadavg()[0], 2)
        if postgres:
            name = f"coop_bench_{secrets.token_hex(4)}"
            url = postgres_database(postgres, "CREATE", name)
            instance = Path(tmp) / "postgresql"
            instance.mkdir()
            try:
                result["postgresql"] = bench(url, instance, args)
            finally:
                postgres_database(postgres, "DROP", name)
            result["machine"]["loadavg_1m_after_postgresql"] = round(os.getloadavg()[0], 2)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
