"""Results benchmark: proof file generation and offline verify-results, as one JSON line.

    .venv/bin/python bench/results.py [--answers 300000] [--every 10]

Builds a SQLite ledger (file, WAL, synchronous=NORMAL, as the app) holding --answers
``answer.submitted`` entries, one other entry before every --every-th answer so indexes are
not contiguous; entries carry three NTP sources like the app's. Then it times, each in a
fresh process so peak memory (max RSS) is its own: making the proof file (reading entries and
stored hashes from the store, writing the file), and verifying CSV and JSON Lines results
against it. The same runs on a third of the rows show whether memory grows with the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peewee  # noqa: E402

from ledger import merkle, note, results, store  # noqa: E402
from ledger.entry import TimeBlock, TimeSource, encode_entry  # noqa: E402
from ledger.verify import ChainChecker  # noqa: E402

TARGETS = {"proof_rows_per_s": 100_000, "verify_csv_rows_per_s": 200_000,
           "verify_jsonl_rows_per_s": 200_000}  # fmt: skip
BASE_NS = 1_763_800_000_000_000_000
ORIGIN = "coop.bench/results"


def database(path: Path) -> peewee.SqliteDatabase:
    return peewee.SqliteDatabase(
        str(path),
        pragmas={"journal_mode": "wal", "synchronous": "normal", "cache_size": -65536},
    )


def answer(i: int) -> dict:
    return {"label": ("cat", "dog", "bird")[i % 3], "sure": i % 4 != 0, "boxes": i % 7,
            "tags": ["outdoor", "blurry"][: i % 3]}  # fmt: skip


def time_block(index: int) -> TimeBlock:
    # One entry per ms; the clock polls three servers every 64 s.
    poll = index // 64_000
    sources = tuple(
        TimeSource(f"{k}.pool.ntp.org", 1 + k % 3, -3_000_000 + (poll * 17 + k * 1_234_567)
                   % 9_000_000, 9_000_000 + (poll * 31 + k * 7_777_777) % 40_000_000,
                   6_000_000 + (poll * 13 + k * 4_444_444) % 30_000_000,
                   index % 64_000 + k * 1_013)
        for k in range(3)
    )  # fmt: skip
    unix_ns = BASE_NS + index * 1_000_000 + (index * 7919) % 1_000_000
    return TimeBlock(unix_ns, sources[0].root_distance_ns + 1_200_000, True, sources)


def answer_index(i: int, every: int) -> int:
    """The ledger index of answer i: one other entry precedes every every-th answer."""
    return i + i // every + 1


def answer_data(i: int) -> tuple[str, dict]:
    external_id = f"batch-7/img_{i:07d}.jpg"
    return external_id, {
        "answer_sha256": results.answer_sha256(answer(i)),
        "item": results.item_sha256(external_id),
        "member": f"m_{(i * 7) % 997:03x}",
        "project": 42,
        "seconds": 3 + i % 90,
        "subject": f"answer:{i + 1}",
    }


def build(path: Path, n: int, every: int) -> float:
    """Bulk-load the ledger: entries and stored hashes computed here, inserted in batches."""
    start = time.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=wal")
    db = database(path)
    store.bind(db)
    store.create_tables()
    checker, prev, index, stored = ChainChecker(), bytes(32), 0, 0
    entries, hashes = [], []

    def add(kind: str, data: dict) -> None:
        nonlocal prev, index, stored
        raw = encode_entry(index, kind, prev, time_block(index), data).raw
        prev = merkle.leaf_hash(raw)
        written = checker.push(prev)
        entries.append((index, kind, raw, prev, time_block(index).unix_ns))
        hashes.extend((stored + k, h) for k, h in enumerate(written))
        stored += len(written)
        index += 1

    for i in range(n):
        if i % every == 0:
            add("answers.reviewed", {"project": 42, "action": "accept", "first": i, "count": 9})
        add("answer.submitted", answer_data(i)[1])
        if len(entries) >= 20_000:
            flush(con, entries, hashes)
    add("project.closed", {"project": 42})
    flush(con, entries, hashes)
    con.close()
    db.close()
    return time.perf_counter() - start


def flush(con, entries, hashes) -> None:
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO ledger_entry (idx, kind, bytes, leaf_hash, unix_ns) VALUES (?,?,?,?,?)",
        entries,
    )
    con.executemany("INSERT INTO ledger_hash (stored_index, hash) VALUES (?,?)", hashes)
    con.execute("COMMIT")
    entries.clear()
    hashes.clear()


def rows(n: int, every: int):
    """Yield the results rows the app would write, recomputed (not held) one by one."""
    for i in range(n):
        external_id, data = answer_data(i)
        index = answer_index(i, every)
        stamp = time_block(index)
        yield results.ResultRow(
            external_id,
            answer(i),
            data["member"],
            data["seconds"],
            results.AnswerStatus(("pending", "accepted", "rejected")[i % 3]),
            index,
            stamp.rfc3339,
            results.uncertainty_ms(stamp.uncertainty_ns),
            data["answer_sha256"],
        )


def child(args: list[str]) -> None:
    """Run one measured step in this fresh process; print its time and peak memory."""
    what = args[0]
    start, cpu = time.perf_counter(), time.process_time()
    if what == "prove":
        db_path, n, every, note_path, out = args[1:]
        db = database(Path(db_path))
        store.bind(db)
        ledger = store.Ledger()
        indexes = (answer_index(i, int(every)) for i in range(int(n)))
        with open(out, "wb") as f:
            results.write_proof(ledger, indexes, Path(note_path).read_text(), f)
    elif what == "write":
        n, every, fmt, out = args[1:]
        with open(out, "wb") as f:
            results.write_results(rows(int(n), int(every)), fmt, f)
    else:
        results_path, proof_path, key = args[1:]
        checked = results.verify_results(results_path, proof_path, key)
        assert checked.rows > 0
    wall = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall_s": wall,
        "cpu_s": time.process_time() - cpu + children.ru_utime + children.ru_stime,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "worker_max_rss_mib": children.ru_maxrss // 1024,
    }))  # fmt: skip


def run(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def raw_costs_us(raw: bytes) -> dict:
    """This machine's cost now of the two C steps no verifier can skip, per entry (µs)."""
    import binascii
    import hashlib

    text, n = binascii.b2a_base64(raw, newline=False), 50_000
    start = time.process_time()
    for _ in range(n):
        hashlib.sha256(raw).digest()
    middle = time.process_time()
    for _ in range(n):
        binascii.a2b_base64(text, strict_mode=True)
    end = time.process_time()
    return {"sha256_entry_us": round((middle - start) / n * 1e6, 2),
            "base64_decode_entry_us": round((end - middle) / n * 1e6, 2)}  # fmt: skip


def rate(count: int, seconds: float) -> int:
    return int(count / seconds) if seconds else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=300_000)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    signer = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
    n, every = args.answers, args.every
    result: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version,
            "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        },
        "answers": n,
        "other_entries_every": every,
    }
    with tempfile.TemporaryDirectory(prefix="results-bench-") as tmp:
        folder = Path(tmp)
        result["build_s"] = round(build(folder / "ledger.db", n, every), 1)
        sample = encode_entry(5, "answer.submitted", bytes(range(32)), time_block(5),
                              answer_data(4)[1]).raw  # fmt: skip
        result["raw_at_start"] = raw_costs_us(sample)
        db = database(folder / "ledger.db")
        store.bind(db)
        (folder / "checkpoint").write_text(store.Ledger().checkpoint(signer, ORIGIN))
        db.close()
        for count, tag in ((n // 3, "third"), (n, "all")):
            proof = folder / f"proof-{tag}.jsonl"
            made = run("prove", str(folder / "ledger.db"), str(count), str(every),
                       str(folder / "checkpoint"), str(proof))  # fmt: skip
            result[f"proof_{tag}"] = made
            for fmt in ("csv", "jsonl"):
                path = folder / f"results-{tag}.{fmt}"
                result[f"write_{fmt}_{tag}"] = run("write", str(count), str(every), fmt, str(path))
                result[f"verify_{fmt}_{tag}"] = run("verify", str(path), str(proof),
                                                    str(signer.verifier))  # fmt: skip
                result[f"{fmt}_bytes_per_row"] = path.stat().st_size // count
            result["proof_bytes_per_row"] = proof.stat().st_size // count
        result["proof_rows_per_s"] = rate(n, result["proof_all"]["wall_s"])
        for fmt in ("csv", "jsonl"):
            result[f"write_{fmt}_rows_per_s"] = rate(n, result[f"write_{fmt}_all"]["wall_s"])
            result[f"verify_{fmt}_rows_per_s"] = rate(n, result[f"verify_{fmt}_all"]["wall_s"])
            result[f"verify_{fmt}_rows_per_cpu_s"] = rate(n, result[f"verify_{fmt}_all"]["cpu_s"])
        result["proof_rows_per_cpu_s"] = rate(n, result["proof_all"]["cpu_s"])
        result["raw_at_end"] = raw_costs_us(sample)
    result["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["targets"] = TARGETS
    result["met"] = {key: result[key] >= target for key, target in TARGETS.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
