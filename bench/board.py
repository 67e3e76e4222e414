"""Benchmark the members' task board on 100,000 tasks (not a test; run it by hand).

    .venv/bin/python bench/board.py [postgresql://…/an_empty_database]

Builds a temporary SQLite database with 2,000 members and 100,000 tasks in a realistic mix of
categories, pricing modes, sensitive flags, states and English and French texts, signs in a
member with Flask's test client, then requests the board's first page, a filtered, sorted
third page, the first page sorted by deadline and two text searches 200 times each (after a
warm-up), and prints one JSON line: p50, p95 and max in milliseconds, server side. The board's
indexes come from the migrations (m0004, and m0026 for search), as on a deployed database.
"""

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_login import FlaskLoginClient  # noqa: E402
from flask_login.utils import _create_identifier  # noqa: E402

from coop import create_app, migrations  # noqa: E402
from coop.db import database  # noqa: E402
from coop.models import CATEGORIES, Task, User, utcnow  # noqa: E402

TASKS = 100_000
MEMBERS = 2_000
CLIENTS = 300
CHUNK = 1_000
RUNS = 200
WARMUP = 20
URLS = {
    "first_page": "/tasks",
    "filtered": "/tasks?category=transcription&pricing=fixed&sensitive=no&sort=pay&page=3",
    "by_deadline": "/tasks?sort=deadline",
    # Text search (m0026's index) combined with filters: a common word, and two rarer words.
    "search": "/tasks?q=interview&sort=pay",
    "search_filtered": "/tasks?q=facture+scann&category=data_entry&sort=deadline",
}
# Task texts in English and French: words of the trade (each in about 3% of tasks, some in
# both languages' forms) among a long tail of other words, so searches hit a realistic share.
TAIL_WORDS = 5_000
TRADE_SHARE = 0.15
WORDS = (
    "interview audio transcribe meeting podcast label photos bicycles boxes cars receipts "
    "invoice scanned forms addresses check identity documents moderate comments forum images "
    "relevance search results rank products clip background shoes furniture entretien "
    "transcrire réunion étiqueter vélos factures facture scannées formulaires adresses vérifier "
    "identité modérer commentaires images pertinence résultats détourer meubles chaussures"
).split()
# Every board filter inside the index that gives the order: no row is read to count or filter.
# Share of tasks in each state: most of a live board is open, the rest is history.
STATES = [("open", 55), ("assigned", 10), ("delivered", 5), ("completed", 25), ("cancelled", 5)]


def users(rng: random.Random) -> list[dict]:
    rows = []
    for n in range(MEMBERS):
        rows.append({
            "email": f"member{n}@bench.test", "name": f"Member {n}", "password_hash": "x",
            "role": "member", "member_status": "active", "pseudonym": f"w-{n:08x}",
            "sensitive_opt_in": rng.random() < 0.3,
        })
    for n in range(CLIENTS):
        rows.append({
            "email": f"client{n}@bench.test", "name": f"Client {n}", "password_hash": "x",
            "role": "client", "member_status": None, "pseudonym": f"c-{n:08x}",
        })
    return rows


def tail_words(rng: random.Random) -> list[str]:
    syllables = "ba be bi bo da de di do ka ke ki ko la le li lo ma me mi mo ra re ri ro".split()
    return ["".join(rng.choices(syllables, k=3)) for _ in range(TAIL_WORDS)]


def text(rng: random.Random, tail: list[str], k: int) -> str:
    return " ".join(
        rng.choice(WORDS) if rng.random() < TRADE_SHARE else rng.choice(tail) for _ in range(k)
    )


def tasks(rng: random.Random, member_ids: list[int], client_ids: list[int]):
    now = utcnow()
    tail = tail_words(rng)
    states = [s for s, weight in STATES for _ in range(weight)]
    for n in range(TASKS):
        minutes = rng.choice([5, 10, 15, 30, 45, 60, 90, 120, 240])
        amount = -(-1200 * minutes // 60) + rng.randrange(0, 3000)
        bids = rng.random() < 0.3
        state = rng.choice(states)
        created = now - timedelta(minutes=TASKS - n)
        yield {
            "client": rng.choice(client_ids),
            "title": f"Task {n}: " + text(rng, tail, 3),
            "description": text(rng, tail, 12) + ".",
            "instructions": "",
            "category": rng.choice(CATEGORIES),
            "estimated_minutes": minutes,
            "deadline": now + timedelta(hours=rng.randrange(2, 24 * 14)),
            "sensitive": rng.random() < 0.1,
            "content_note": "",
            "pricing": "bids" if bids else "fixed",
            "price_cents": None if bids and state == "open" else amount,
            "budget_cents": amount if bids else None,
            "bidding_deadline": now + timedelta(hours=1) if bids else None,
            "pay_per_hour_cents": amount * 60 // minutes,
            "state": state,
            "member": None if state in ("open", "cancelled") else rng.choice(member_ids),
            "assigned_at": None if state in ("open", "cancelled") else created,
            "created_at": created,
        }


def populate() -> User:
    rng = random.Random(42)  # the same board on every run
    with database.atomic():
        rows = users(rng)
        for start in range(0, len(rows), CHUNK):
            User.insert_many(rows[start : start + CHUNK]).execute()
        member_ids = [u.id for u in User.select(User.id).where(User.role == "member")]
        client_ids = [u.id for u in User.select(User.id).where(User.role == "client")]
        batch = []
        for row in tasks(rng, member_ids, client_ids):
            batch.append(row)
            if len(batch) == CHUNK:
                Task.insert_many(batch).execute()
                batch = []
        if batch:
            Task.insert_many(batch).execute()
    database.execute_sql("ANALYZE")
    return User.get(User.sensitive_opt_in == True)  # noqa: E712 (sees every open task)


def signed_in(app, user):
    web = app.test_client(user=user)
    # The app's "strong" session protection wants the session's identifier too.
    with app.test_request_context(environ_base=web.environ_base):
        ident = _create_identifier()
    with web.session_transaction() as session:
        session["_id"] = ident
    return web


def measure(web, url: str) -> dict:
    for _ in range(WARMUP):
        assert web.get(url).status_code == 200
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = web.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
    }


def main() -> None:
    # An empty PostgreSQL database's URL as the argument runs the same board on PostgreSQL.
    url = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "DATABASE_URL": url or f"sqlite:///{tmp}/bench.db",
            "INSTANCE_DIR": tmp,
            "UPLOAD_DIR": f"{tmp}/files",
            "SECRET_KEY": "bench",
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False,
            "NTP_SERVERS": "",
        })
        app.test_client_class = FlaskLoginClient
        with app.app_context():
            with database.connection_context():
                migrations.upgrade()
                started = time.perf_counter()
                member = populate()
                built = time.perf_counter() - started
            web = signed_in(app, member)
            results = {name: measure(web, url) for name, url in URLS.items()}
        database.close()
    print(json.dumps({
        "database": "postgresql" if url else "sqlite", "tasks": TASKS, "members": MEMBERS,
        "runs": RUNS, "build_s": round(built, 1),
        **results,
    }))


if __name__ == "__main__":
    main()
