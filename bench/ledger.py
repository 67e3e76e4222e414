"""Ledger benchmarks: this machine's raw limits, then the ledger's figures, as one JSON line.

    .venv/bin/python bench/ledger.py [--entries 1000000] [--appends 5000]

SQLite runs on a file database in WAL mode with synchronous=NORMAL (durable against an app
crash; a power cut may lose the last commits), the setting the app uses; the raw insert
figure is also given with synchronous=FULL for comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peewee  # noqa: E402

from ledger import merkle, note, store  # noqa: E402
from ledger.clock import Clock, ManualClock, Sample, _Snapshot  # noqa: E402
from ledger.entry import rfc3339_ns  # noqa: E402
from ledger.tiles import TileWriter  # noqa: E402
from ledger.tsa import stamp_due  # noqa: E402
from ledger.verify import ChainChecker, verify_export  # noqa: E402

TARGETS = {
    "appends_per_s": 5_000,
    "inclusion_proofs_per_s": 20_000,
    "export_verify_entries_per_s": 500_000,
    "clock_now_us": 10.0,
    "tiles_on_off_ratio": 0.8,
}
# Bounded by the interval (3600 / 60 s per TSA), not by appends.
TSA_ROUND_TRIPS_MAX = 60


def rate(count: int, seconds: float) -> int:
    return int(count / seconds) if seconds else 0


def cpu_seconds() -> float:
    """Return CPU time used by this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Stopwatch:
    """Wall and CPU time of a block: on a busy machine, CPU time shows what the code costs."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, cpu_seconds() - self.cpu


CPU_RATES: dict[str, int] = {}


def raw_sha256() -> int:
    data = os.urandom(200)
    n = 300_000
    start = time.perf_counter()
    for _ in range(n):
        hashlib.sha256(data).digest()
    return rate(n, time.perf_counter() - start)


def raw_sqlite_inserts(folder: Path, synchronous: str) -> int:
    con = sqlite3.connect(folder / f"raw-{synchronous}.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=wal")
    con.execute(f"PRAGMA synchronous={synchronous}")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    body = os.urandom(600)
    n = 5_000
    start = time.perf_counter()
    for i in range(n):
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (?, ?)", (i, body))
        con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return rate(n, seconds)


def synced_clock() -> Clock:
    """A Clock holding three recent samples, as after a successful poll of the pool."""
    clock = Clock([])
    mono, wall = time.monotonic_ns(), time.time_ns()
    samples = tuple(
        Sample(f"{i}.pool.ntp.org", 2, 1_200_000, 18_000_000, 9_000_000, 4_000_000, mono, wall)
        for i in range(3)
    )
    # Injected directly: the benchmark must not depend on the network.
    clock._snapshot = _Snapshot(
        1_200_000, samples[0].root_distance_ns, mono, samples, wall + 1_200_000
    )
    return clock


def database(path: Path) -> peewee.SqliteDatabase:
    return peewee.SqliteDatabase(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "synchronous": "normal",
            "busy_timeout": 5000,
            # Proofs read ~20 random stored hashes: let them come from memory, not syscalls.
            "cache_size": -65536,
            "mmap_size": 1 << 30,
        },
    )


def appends(folder: Path, n: int) -> int:
    db = database(folder / "appends.db")
    store.bind(db)
    store.create_tables()
    ledger = store.Ledger(synced_clock())
    sha = hashlib.sha256(b"x").hexdigest()
    with Stopwatch() as watch:
        for i in range(n):
            ledger.append("delivery.submitted", {"delivery": f"d_{i}", "sha256": sha, "cents": i})
    assert ledger.size() == n
    db.close()
    CPU_RATES["appends_per_cpu_s"] = rate(n, watch.cpu)
    return rate(n, watch.wall)


def published_appends(folder: Path, n: int, signer: note.Signer, tiles: bool) -> int:
    """Append n entries as the app does: one transaction, one checkpoint (and tiles) each."""
    name = "tiles" if tiles else "no_tiles"
    db = database(folder / f"published_{name}.db")
    store.bind(db)
    store.create_tables()
    ledger = store.Ledger(ManualClock())  # the clock is not what this measures
    writer = TileWriter(folder / f"tiles_{name}")
    sha = hashlib.sha256(b"x").hexdigest()
    with Stopwatch() as watch:
        for i in range(n):
            ledger.append("delivery.submitted", {"delivery": f"d_{i}", "sha256": sha, "cents": i})
            ledger.checkpoint(signer, "coop.bench/ledger")
            if tiles:
                writer.write(i + 1, ledger.stored_hashes)
    db.close()
    return rate(n, watch.wall)


def fake_entries(n: int):
    """Yield realistic canonical entries quickly (a template, not encode_entry, for speed).

    Like the app's: three NTP sources, each with its own offset, delay and root distance
    (new every 64 s poll) and an age in ms that grows with every entry.
    """
    source = (
        '{{"age_ms":{age},"delay_ns":{delay},"offset_ns":{offset},'
        '"root_distance_ns":{dist},"server":"{k}.pool.ntp.org","stratum":{stratum}}}'
    )
    prev = bytes(32)
    base = 1_763_800_000_000_000_000
    poll = []
    for i in range(n):
        # One entry per ms; the clock polls every 64 s.
        unix_ns = base + i * 1_000_000 + (i * 7919) % 1_000_000
        if i % 64_000 == 0:
            poll = [
                (k, 9_000_000 + (i * 31 + k * 7_777_777) % 40_000_000,
                 -3_000_000 + (i * 17 + k * 1_234_567) % 9_000_000,
                 6_000_000 + (i * 13 + k * 4_444_444) % 30_000_000, 1 + k % 3)
                for k in range(3)
            ]  # fmt: skip
        sources = ",".join(
            source.format(
                age=i % 64_000 + k * 1_013, delay=d, offset=o, dist=r, k=k, stratum=st
            )
            for k, d, o, r, st in poll
        )
        stamp = rfc3339_ns(unix_ns)
        raw = (
            f'{{"data":{{"cents":{i * 37 % 500_000},"delivery":"d_{i:08x}",'
            f'"sha256":"{hashlib.sha256(i.to_bytes(8, "big")).hexdigest()}"}},"index":{i},'
            f'"kind":"delivery.submitted","prev":"{prev.hex()}","time":{{"rfc3339":"{stamp}",'
            f'"sources":[{sources}],"synced":true,"uncertainty_ns":{poll[0][3]},'
            f'"unix_ns":{unix_ns}}},"v":1}}'
        ).encode()
        prev = merkle.leaf_hash(raw)
        yield raw, unix_ns


def build_big_log(folder: Path, n: int, signer: note.Signer) -> tuple[store.Ledger, float]:
    """Bulk-load n entries and their stored hashes (computed in memory) and an export."""
    start = time.perf_counter()
    db = database(folder / "big.db")
    store.bind(db)
    store.create_tables()
    con = db.connection()
    checker = ChainChecker()
    entry_rows, hash_rows, stored = [], [], 0
    export = folder / "export"
    export.mkdir()
    with open(export / "entries.bin", "wb") as out:
        for i, (raw, unix_ns) in enumerate(fake_entries(n)):
            out.write(struct.pack(">I", len(raw)))
            out.write(raw)
            written = checker.push(merkle.leaf_hash(raw))
            entry_rows.append((i, "delivery.submitted", raw, written[0], unix_ns))
            for h in written:
                hash_rows.append((stored, h))
                stored += 1
            if len(entry_rows) >= 50_000:
                flush(con, entry_rows, hash_rows)
    flush(con, entry_rows, hash_rows)
    ledger = store.Ledger()
    note_text = ledger.checkpoint(signer, "coop.bench/ledger")
    (export / "checkpoint").write_text(note_text)
    assert ledger.root() == checker.root()
    return ledger, time.perf_counter() - start


def flush(con, entry_rows, hash_rows) -> None:
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO ledger_entry (idx, kind, bytes, leaf_hash, unix_ns) VALUES (?,?,?,?,?)",
        entry_rows,
    )
    con.executemany("INSERT INTO ledger_hash (stored_index, hash) VALUES (?,?)", hash_rows)
    con.execute("COMMIT")
    entry_rows.clear()
    hash_rows.clear()


def inclusion_proofs(ledger: store.Ledger, n: int, count: int = 20_000, seed: int = 1) -> int:
    import random

    rng = random.Random(seed)
    indexes = [rng.randrange(n) for _ in range(count)]
    with Stopwatch() as watch:
        for i in indexes:
            ledger.inclusion_proof(i, n)
    CPU_RATES[f"inclusion_proofs_seed{seed}_per_cpu_s"] = rate(count, watch.cpu)
    return rate(count, watch.wall)


def tsa_round_trips_per_hour(appends_per_s: int, interval_s: float, tsas: int = 1) -> int:
    """Count the TSA requests the app's rule makes in an hour of appends, each published.

    Simulated time (an hour of appends at this rate, a checkpoint after every one, the worst
    case), the app's own rule (ledger.tsa.stamp_due): the count is bounded by the interval.
    """
    step_ns, interval_ns = 10**9 // appends_per_s, int(interval_s * 1e9)
    stamped_size = stamped_ns = None
    requests = 0
    for size in range(1, appends_per_s * 3600 + 1):
        now_ns = size * step_ns
        if stamp_due(size, stamped_size, stamped_ns, now_ns, interval_ns):
            requests += tsas
            stamped_size, stamped_ns = size, now_ns
    return requests


def clock_now_us() -> float:
    clock = synced_clock()
    n = 200_000
    start = time.perf_counter()
    for _ in range(n):
        clock.now()
    return round((time.perf_counter() - start) / n * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=5_000)
    args = parser.parse_args()
    signer = note.Signer.parse(note.generate_signer_key("coop.bench/ledger")[0])
    result: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version,
            # Other work on the machine skews every figure; say how busy it was.
            "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        },
        "sqlite_mode": "file db, WAL, synchronous=NORMAL, cache_size=64MiB, mmap_size=1GiB",
    }
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        folder = Path(tmp)
        result["raw_sha256_200B_per_s"] = raw_sha256()
        result["raw_sqlite_insert_tx_per_s"] = raw_sqlite_inserts(folder, "NORMAL")
        result["raw_sqlite_insert_tx_full_sync_per_s"] = raw_sqlite_inserts(folder, "FULL")
        result["appends_per_s"] = appends(folder, args.appends)
        result["clock_now_us"] = clock_now_us()
        # COOP_TSA_INTERVAL's default (60 s): at most 60 per TSA, not 3.6 million.
        result["tsa_round_trips_per_hour_at_1000_appends_per_s"] = tsa_round_trips_per_hour(
            1000, 60.0
        )
        # Tiles are written after every publication: what they cost a publishing append.
        published = args.appends // 5
        result["published_appends_per_s"] = published_appends(folder, published, signer, False)
        result["published_appends_with_tiles_per_s"] = published_appends(
            folder, published, signer, True
        )
        result["tiles_on_off_ratio"] = round(
            result["published_appends_with_tiles_per_s"] / result["published_appends_per_s"], 2
        )
        ledger, build_s = build_big_log(folder, args.entries, signer)
        result["big_log_entries"] = args.entries
        result["big_log_build_s"] = round(build_s, 1)
        # First pass starts with an empty hash cache; the second shows the steady state.
        result["inclusion_proofs_cold_per_s"] = inclusion_proofs(ledger, args.entries, seed=1)
        result["inclusion_proofs_per_s"] = inclusion_proofs(ledger, args.entries, seed=2)
        with Stopwatch() as watch:
            verified = verify_export(folder / "export", signer.verifier)
        assert verified.size == args.entries
        result["export_verify_entries_per_s"] = rate(args.entries, watch.wall)
        # Summed over worker processes: divide by the cores used for a per-core figure.
        CPU_RATES["export_verify_entries_per_cpu_s"] = rate(args.entries, watch.cpu)
        size = (folder / "export" / "entries.bin").stat().st_size
        result["export_bytes_per_entry"] = size // max(args.entries, 1)
        store.database_proxy.obj.close()
    result["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["cpu_time_rates"] = CPU_RATES
    result["met"] = {
        key: (result[key] <= target if key == "clock_now_us" else result[key] >= target)
        for key, target in TARGETS.items()
    }
    result["met"]["tsa_round_trips_per_hour_at_1000_appends_per_s"] = (
        result["tsa_round_trips_per_hour_at_1000_appends_per_s"] <= TSA_ROUND_TRIPS_MAX
    )
    result["targets"] = dict(TARGETS, tsa_round_trips_per_hour_max=TSA_ROUND_TRIPS_MAX)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
