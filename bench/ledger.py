"""Ledger benchmarks: this machine's raw limits, then the ledger's figures, as one JSON line.

    .venv/bin/python bench/ledger.py [--entries 1000000] [--appends 5000] [--tsa-seconds 10]

SQLite runs on a file database in WAL mode with synchronous=NORMAL (durable against an app
crash; a power cut may lose the last commits), the setting the app uses; durable appends and
the raw insert figure are also given with synchronous=FULL (a power cut loses nothing).
The TSA and export-with-stamps figures use a real RFC 3161 TSA on loopback (the openssl CLI,
tests/tsa_support.py); without openssl they are left out and said so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import peewee  # noqa: E402

from ledger import merkle, note, store  # noqa: E402
from ledger.clock import Clock, ManualClock, Sample, _Snapshot  # noqa: E402
from ledger.entry import rfc3339_ns  # noqa: E402
from ledger.interval import stamp_json  # noqa: E402
from ledger.tiles import TileWriter  # noqa: E402
from ledger.tsa import checkpoint_imprint, request_timestamp, stamp_due  # noqa: E402
from ledger.verify import ChainChecker, verify_export  # noqa: E402
from ledger.witness import CosignatureSigner, generate_witness_key  # noqa: E402
from ledger.witness.client import add_checkpoint_request  # noqa: E402
from ledger.witness.server import Witness  # noqa: E402

TARGETS = {
    "appends_per_s": 5_000,
    "inclusion_proofs_per_s": 20_000,
    "export_verify_entries_per_s": 500_000,
    # The same export with a witness cosignature and a TSA token, all checked (issue 9).
    "export_verify_cosigned_stamped_entries_per_s": 300_000,
    "clock_now_us": 10.0,
    "tiles_on_off_ratio": 0.8,
}
# Bounded by the interval (3600 / 60 s per TSA), not by appends.
TSA_ROUND_TRIPS_MAX = 60
# COOP_CHECKPOINT_INTERVAL's default: the app publishes (signs, writes tiles) at most this often.
CHECKPOINT_INTERVAL_S = 1.0


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


def database(path: Path, synchronous: str = "normal") -> peewee.SqliteDatabase:
    return peewee.SqliteDatabase(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "synchronous": synchronous,
            "busy_timeout": 5000,
            # Proofs read ~20 random stored hashes: let them come from memory, not syscalls.
            "cache_size": -65536,
            "mmap_size": 1 << 30,
        },
    )


def appends(folder: Path, n: int, synchronous: str = "normal") -> int:
    """Append n entries, one transaction each, committed with this synchronous setting."""
    db = database(folder / f"appends_{synchronous}.db", synchronous)
    store.bind(db)
    store.create_tables()
    ledger = store.Ledger(synced_clock())
    sha = hashlib.sha256(b"x").hexdigest()
    with Stopwatch() as watch:
        for i in range(n):
            ledger.append("delivery.submitted", {"delivery": f"d_{i}", "sha256": sha, "cents": i})
    assert ledger.size() == n
    db.close()
    suffix = "" if synchronous == "normal" else f"_{synchronous}_sync"
    CPU_RATES[f"appends{suffix}_per_cpu_s"] = rate(n, watch.cpu)
    return rate(n, watch.wall)


@dataclass
class Published:
    """What a run of published appends did: appends, publications and tiles, and its time."""

    appends: int
    publications: int
    tiles: int
    wall: float
    cpu: float


def published_appends(
    folder: Path, n: int, signer: note.Signer, tiles: bool, interval: float
) -> Published:
    """Append n entries as the app does: one transaction each, and a publication (checkpoint,
    then tiles) after a commit when the last one is at least interval seconds old, as the app's
    throttle (COOP_CHECKPOINT_INTERVAL) does; 0 publishes after every append. The last append
    is always published, as the app's pending timer does."""
    name = f"{'tiles' if tiles else 'no_tiles'}_{interval:g}"
    db = database(folder / f"published_{name}.db")
    store.bind(db)
    store.create_tables()
    ledger = store.Ledger(ManualClock())  # the clock is not what this measures
    writer = TileWriter(folder / f"tiles_{name}")
    sha = hashlib.sha256(b"x").hexdigest()
    publications = written = published_size = 0
    published_at = float("-inf")

    def publish(size: int) -> None:
        nonlocal publications, written, published_at, published_size
        published_at = time.monotonic()
        ledger.checkpoint(signer, "coop.bench/ledger")
        publications, published_size = publications + 1, size
        if tiles:
            written += len(writer.write(size, ledger.stored_hashes))

    with Stopwatch() as watch:
        for i in range(n):
            ledger.append("delivery.submitted", {"delivery": f"d_{i}", "sha256": sha, "cents": i})
            if time.monotonic() - published_at >= interval:
                publish(i + 1)
        if published_size != n:
            publish(n)
    db.close()
    return Published(n, publications, written, watch.wall, watch.cpu)


def tiles_cost(folder: Path, n: int, signer: note.Signer, interval: float, prefix: str) -> dict:
    """Appends/s with tiles off and on at a publication interval, alternated twice so that a
    change of the machine's load hits both; the ratio is of the summed times."""
    runs = {False: [], True: []}
    for round_ in range(2):
        for tiles in (False, True) if round_ == 0 else (True, False):
            sub = folder / f"{prefix}{round_}"
            sub.mkdir(exist_ok=True)
            run = published_appends(sub, n, signer, tiles, interval)
            runs[tiles].append(run)
    off, on = runs[False], runs[True]
    off_wall, on_wall = sum(r.wall for r in off), sum(r.wall for r in on)
    off_cpu, on_cpu = sum(r.cpu for r in off), sum(r.cpu for r in on)
    return {
        "publication_interval_s": interval,
        "appends_per_s_tiles_off": rate(2 * n, off_wall),
        "appends_per_s_tiles_on": rate(2 * n, on_wall),
        "ratio": round(off_wall / on_wall, 2),
        "ratio_cpu": round(off_cpu / on_cpu, 2),
        "publications": on[0].publications + on[1].publications,
        "tiles_written": on[0].tiles + on[1].tiles,
        "tiles_written_per_s": round((on[0].tiles + on[1].tiles) / on_wall, 1),
    }


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


def cosigned_stamped_export(folder: Path, signer: note.Signer, tsa) -> tuple[Path, list]:
    """Copy the big export (a hard link to its entries) with its checkpoint cosigned by a real
    witness and time-stamped by the loopback TSA; return its folder and the witness's key.

    The witness is ledger.witness's own (its rules and state, without HTTP); the token is the
    TSA's answer to the app's request (ledger.tsa.request_timestamp), as the app stores it.
    """
    plain, export = folder / "export", folder / "export_cosigned_stamped"
    export.mkdir()
    os.link(plain / "entries.bin", export / "entries.bin")
    note_text = (plain / "checkpoint").read_text()
    witness_signer = CosignatureSigner.parse(generate_witness_key("witness.bench/w1")[0])
    witness = Witness(witness_signer, folder / "witness.db", [signer.verifier])
    answer = witness.add_checkpoint(add_checkpoint_request(0, [], note_text))
    assert answer.status == 200, answer.body
    (export / "checkpoint").write_text(note_text + answer.body.decode())
    token = request_timestamp(tsa.url, checkpoint_imprint(note_text))
    stamps = [stamp_json(note_text, token, False, [])]
    (export / "timestamps.json").write_text(json.dumps(stamps))
    return export, [witness_signer.verifier]


class LoopbackTsa:
    """The tests' real RFC 3161 TSA (openssl ts -reply) served on loopback, for the bench."""

    def __init__(self, folder: Path):
        sys.path.insert(0, str(ROOT / "tests"))
        from tsa_support import make_tsa, serve_tsa, url_of

        self.files = make_tsa(folder / "tsa")
        self.server = serve_tsa(self.files)
        self.url = url_of(self.server)

    @property
    def requests(self) -> int:
        return self.server.requests

    def trusted(self) -> list:
        from cryptography import x509

        return x509.load_pem_x509_certificates(self.files.ca_cert.read_bytes())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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


def tsa_round_trips_measured(folder: Path, tsa: LoopbackTsa, seconds: float, interval: float):
    """Append through the app at full speed for seconds, one entry per transaction, with the
    loopback TSA configured (COOP_TSA_INTERVAL=interval); count the requests the TSA answered.

    The app's own path does the work: events.record, the publication its throttle allows
    after a commit (COOP_CHECKPOINT_INTERVAL, default 1 s), tiles, and
    coop.audit.timestamps asking the TSA. The count is what the app's rule lets through,
    against a bound of one request at the start and one per interval after.
    """
    from coop import create_app, migrations
    from coop.audit import events
    from coop.audit.keys import ensure_key
    from coop.audit.ledger import pending_publication
    from coop.db import database as app_database
    from coop.db import write_transaction
    from ledger.store import LedgerCheckpoint

    instance = folder / "tsa_app"
    app = create_app({
        "DATABASE_URL": f"sqlite:///{instance}/coop.db",
        "INSTANCE_DIR": str(instance),
        "LEDGER_KEY_FILE": str(folder / "tsa_app-ledger_key"),
        "SECRET_KEY": "bench",
        "NTP_SERVERS": "",
        "TSA_URLS": tsa.url,
        "TSA_INTERVAL": interval,
    })  # fmt: skip
    with app.app_context():
        migrations.upgrade()
        ensure_key(app)
        before, appended = tsa.requests, 0
        with Stopwatch() as watch:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                with write_transaction():
                    events.record("bench.appended", f"bench:{appended}", n=appended)
                appended += 1
            timer = pending_publication()
            if timer is not None:
                timer.join()  # the last commits' publication, as an exiting process does
        requests = tsa.requests - before
        publications = LedgerCheckpoint.select().where(LedgerCheckpoint.size > 0).count()
        app_database.close()
    return {
        "seconds": round(watch.wall, 1),
        "checkpoint_interval_s": app.config["CHECKPOINT_INTERVAL"],
        "tsa_interval_s": interval,
        "appends": appended,
        "appends_per_s": rate(appended, watch.wall),
        "publications": publications,
        "tsa_requests": requests,
        "bound": 1 + int(watch.wall // interval),
    }


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
    parser.add_argument(
        "--tsa-seconds", type=float, default=10.0, help="how long to append counting TSA calls"
    )
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
        tsa = LoopbackTsa(folder) if shutil.which("openssl") else None
        result["raw_sha256_200B_per_s"] = raw_sha256()
        result["raw_sqlite_insert_tx_per_s"] = raw_sqlite_inserts(folder, "NORMAL")
        result["raw_sqlite_insert_tx_full_sync_per_s"] = raw_sqlite_inserts(folder, "FULL")
        result["appends_per_s"] = appends(folder, args.appends)
        # Each commit waits for its WAL frames to reach the disk: a power cut loses nothing.
        result["appends_full_sync_per_s"] = appends(folder, args.appends, "full")
        result["clock_now_us"] = clock_now_us()
        # COOP_TSA_INTERVAL's default (60 s): at most 60 per TSA, not 3.6 million.
        result["tsa_round_trips_per_hour_at_1000_appends_per_s"] = tsa_round_trips_per_hour(
            1000, 60.0
        )
        # Tiles are written at each publication. As the app publishes (at most once per
        # COOP_CHECKPOINT_INTERVAL), and in the worst case, a publication after every append.
        tiles = tiles_cost(folder, args.appends, signer, CHECKPOINT_INTERVAL_S, "throttled")
        result["tiles"] = tiles
        result["tiles_on_off_ratio"] = tiles["ratio"]
        result["tiles_every_append"] = tiles_cost(folder, args.appends // 5, signer, 0.0, "each")
        ledger, build_s = build_big_log(folder, args.entries, signer)
        result["big_log_entries"] = args.entries
        result["big_log_build_s"] = round(build_s, 1)
        # First pass starts with an empty hash cache; the second shows the steady state.
        result["inclusion_proofs_cold_per_s"] = inclusion_proofs(ledger, args.entries, seed=1)
        result["inclusion_proofs_per_s"] = inclusion_proofs(ledger, args.entries, seed=2)
        store.database_proxy.obj.close()
        with Stopwatch() as watch:
            verified = verify_export(folder / "export", signer.verifier)
        assert verified.size == args.entries
        result["export_verify_entries_per_s"] = rate(args.entries, watch.wall)
        # Summed over worker processes: divide by the cores used for a per-core figure.
        CPU_RATES["export_verify_entries_per_cpu_s"] = rate(args.entries, watch.cpu)
        size = (folder / "export" / "entries.bin").stat().st_size
        result["export_bytes_per_entry"] = size // max(args.entries, 1)
        if tsa is not None:
            export, witnesses = cosigned_stamped_export(folder, signer, tsa)
            with Stopwatch() as watch:
                verified = verify_export(
                    export, signer.verifier, witnesses=witnesses, quorum=1,
                    trusted_tsas=tsa.trusted(),
                )  # fmt: skip
            assert verified.size == args.entries and len(verified.stamps) == 1
            assert not verified.flags, verified.flags
            result["export_verify_cosigned_stamped_entries_per_s"] = rate(
                args.entries, watch.wall
            )
            CPU_RATES["export_verify_cosigned_stamped_entries_per_cpu_s"] = rate(
                args.entries, watch.cpu
            )
            result["tsa_round_trips_measured"] = tsa_round_trips_measured(
                folder, tsa, args.tsa_seconds, args.tsa_seconds / 5
            )
            tsa.close()
        else:
            result["skipped"] = "openssl is not installed: no TSA, no cosigned and stamped export"
    result["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["cpu_time_rates"] = CPU_RATES
    result["met"] = {
        key: (result[key] <= target if key == "clock_now_us" else result[key] >= target)
        for key, target in TARGETS.items()
        if key in result
    }
    result["met"]["tsa_round_trips_per_hour_at_1000_appends_per_s"] = (
        result["tsa_round_trips_per_hour_at_1000_appends_per_s"] <= TSA_ROUND_TRIPS_MAX
    )
    if "tsa_round_trips_measured" in result:
        measured = result["tsa_round_trips_measured"]
        result["met"]["tsa_round_trips_measured_within_bound"] = (
            measured["tsa_requests"] <= measured["bound"]
        )
    result["targets"] = dict(TARGETS, tsa_round_trips_per_hour_max=TSA_ROUND_TRIPS_MAX)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
