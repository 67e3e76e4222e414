"""Load benchmark: a 60-second mixed load of 50 simulated users against `coop serve`, beside the
same server's trivial endpoint as the ceiling, on SQLite and (when COOP_BENCH_POSTGRES_URL is
set) on PostgreSQL + Redis with 4 workers; one JSON line.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--trivial-seconds 20]
    COOP_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres
    COOP_BENCH_REDIS_URL=redis://127.0.0.1:6379/15   (rate limits and the queue, PostgreSQL run)

Each run: a fresh database with the demo (`coop init`, `coop demo`), 1,000 members, a client
and a published project of 20,000 comments (bench/projects.py's setup), `coop serve` on
loopback, then locust (bench/load_users.py) headless: first only /healthz for
--trivial-seconds (the ceiling), then the mixed load for --seconds — members browsing the
board, opening tasks and answering project items (6 of 10 users), clients reviewing (2),
anonymous ledger readers (2). Each user signs in once as it starts (scrypt, on purpose slow):
those requests are in the totals, and the figures without them are given beside. Not run by
`make test`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import projects as projects_bench  # noqa: E402 - the project setup steps, shared

TARGETS = {
    "sqlite_vs_trivial": 0.5,  # at least
    "p95_ms": 150,  # at most, both runs
    "postgresql_vs_sqlite": 0.9,  # at least
    "errors": 0,
}
ITEMS, MEMBERS = 20_000, 1_000


def environment(url: str, instance: Path, redis: str | None) -> dict:
    env = dict(os.environ, COOP_DATABASE_URL=url, COOP_INSTANCE_DIR=str(instance),
               COOP_SECRET_KEY="bench", COOP_NTP_SERVERS="", COOP_SECURE_COOKIES="0",
               COOP_LOGIN_RATE_LIMIT="100000 per minute", COOP_LOG_FORMAT="text",
               PYTHONPATH=str(ROOT))  # fmt: skip
    if redis:
        env.update(COOP_RATELIMIT_STORAGE_URI=redis, COOP_QUEUE_URL=redis,
                   COOP_RATELIMIT_KEY_PREFIX=f"bench-{secrets.token_hex(4)}")  # fmt: skip
    return env


def prepare(url: str, instance: Path, env: dict) -> int:
    """Demo data, members, a client and a published project; return the project's id."""
    coop = str(Path(sys.executable).with_name("coop"))
    for command in (["init"], ["demo"]):
        subprocess.run([coop, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    run = projects_bench.Run(url, instance)
    ids = run("setup", ITEMS, MEMBERS)
    projects_bench.write_csv(instance / "items.csv", ITEMS, "load")
    run("upload", ids["project"], str(instance / "items.csv"))
    run("publish", ids["project"])
    return ids["project"]


def locust(port: int, users: int, seconds: float, classes: list[str], prefix: Path,
           env: dict) -> dict:
    """Run locust headless; return throughput, latency percentiles and failures (all requests
    but the sign-ins, which happen while users start)."""
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(BENCH / "load_users.py"),
               "--headless", "--users", str(users), "--spawn-rate", str(users),
               "--run-time", f"{int(seconds)}s", "--host", f"http://127.0.0.1:{port}",
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout",
               "5", *classes]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, check=False, capture_output=True, text=True)
    if not Path(f"{prefix}_stats.csv").exists():
        sys.exit(f"locust failed:\n{done.stderr[-2000:]}")
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    def ms(value: str) -> float | None:
        return None if value == "N/A" else float(value)

    by_name = {r["Name"]: {"requests": int(r["Request Count"]), "errors": int(r["Failure Count"]),
                           "p50_ms": ms(r["50%"]), "p95_ms": ms(r["95%"])}
               for r in rows if r["Name"] != "Aggregated"}  # fmt: skip
    count, rate = int(total["Request Count"]), float(total["Requests/s"])
    duration = count / rate if rate else seconds
    working = {name: row for name, row in by_name.items() if name != "/login"}
    return {"users": users, "seconds": seconds,
            "requests": count, "errors": int(total["Failure Count"]),
            "per_s": round(rate, 1), "p50_ms": ms(total["50%"]), "p95_ms": ms(total["95%"]),
            "per_s_without_sign_in": round(
                sum(row["requests"] for row in working.values()) / duration, 1),
            "worst_p95_ms_without_sign_in": max(
                (row["p95_ms"] or 0 for row in working.values()), default=None),
            "by_request": by_name}  # fmt: skip


def wait_until_up(port: int, server: subprocess.Popen, log_path: Path) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    server.kill()
    sys.exit("coop serve did not start:\n" + log_path.read_text()[-2000:])


def bench(url: str, instance: Path, args, workers: int, redis: str | None) -> dict:
    env = environment(url, instance, redis)
    project = prepare(url, instance, env)
    env.update(LOAD_PROJECT=str(project), LOAD_PASSWORD=projects_bench.PASSWORD)
    port = projects_bench.free_port()
    coop = str(Path(sys.executable).with_name("coop"))
    # The server logs a line per request: to a file, since an unread pipe fills and blocks it.
    log_path = instance / "server.log"
    threads = args.pg_threads if redis else 8
    server = subprocess.Popen([coop, "serve", "--port", str(port), "--workers", str(workers),
                               "--threads", str(threads)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=open(log_path, "wb"))  # fmt: skip
    try:
        wait_until_up(port, server, log_path)
        out = {"workers": workers, "threads": threads}
        out["trivial"] = locust(port, args.users, args.trivial_seconds, ["Trivial"],
                                instance / "trivial", env)
        out["mixed"] = locust(port, args.users, args.seconds, ["Member", "Client", "Reader"],
                              instance / "mixed", env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    out["mixed_vs_trivial"] = round(out["mixed"]["per_s"] / max(out["trivial"]["per_s"], 1), 2)
    out["mixed_without_sign_in_vs_trivial"] = round(
        out["mixed"]["per_s_without_sign_in"] / max(out["trivial"]["per_s"], 1), 2
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--trivial-seconds", type=float, default=20)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-threads", type=int, default=8,
                        help="threads per process of the PostgreSQL run's 4 (coop serve --threads)")
    args = parser.parse_args()
    result: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_1m_at_start": round(os.getloadavg()[0], 2)},  # fmt: skip
        "targets": TARGETS,
    }
    postgres = os.environ.get("COOP_BENCH_POSTGRES_URL")
    redis = os.environ.get("COOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        if not args.no_sqlite:
            instance = Path(tmp) / "sqlite"
            instance.mkdir()
            result["sqlite"] = bench(f"sqlite:///{instance}/coop.db", instance, args, 1, None)
        if postgres:
            name = f"coop_load_{secrets.token_hex(4)}"
            url = projects_bench.postgres_database(postgres, "CREATE", name)
            instance = Path(tmp) / "postgresql"
            instance.mkdir()
            try:
                result["postgresql"] = bench(url, instance, args, 4, redis)
            finally:
                projects_bench.postgres_database(postgres, "DROP", name)
        shutil.rmtree(tmp, ignore_errors=True)
    if "sqlite" in result and "postgresql" in result:
        result["postgresql_vs_sqlite"] = round(
            result["postgresql"]["mixed"]["per_s"] / max(result["sqlite"]["mixed"]["per_s"], 1), 2
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
