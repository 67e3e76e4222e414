"""Benchmark: 1,000 member statements through the statements pipeline vs WeasyPrint alone.

The pipeline is what `coop statements render` runs: Jinja templates in the parent (in the
member's language), then HTML -> PDF/A-3b with the JSON attachment in a pool of os.cpu_count()
worker processes, each replaced after WORKER_TASKS PDFs so memory stays flat. The reference is
WeasyPrint alone rendering the very same HTML to the same PDF variant with the same
attachment, in the same number of processes, measured in the same run (half before, half
after the pipeline). Memory: resident set size of the parent and of each worker at the
start, middle and end.

Prints one JSON line. Run: `make bench` or `.venv/bin/python bench/statements.py [count]`.
"""

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop import create_app  # noqa: E402
from coop.statements.render import (  # noqa: E402
    ATTACHMENT_NAME,
    PDF_VARIANT,
    STATIC_DIR,
    WORKER_TASKS,
    Bar,
    Checkpoint,
    StatementValues,
    render_jobs,
    statement_job,
)

CATEGORIES = ["moderation", "transcription", "image_labelling", "data_entry"]


def rss_kib(pid: int) -> int:
    """Return a process's resident set size in KiB, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def sample(label: str) -> dict:
    workers = children(os.getpid())
    return {
        "at": label,
        "parent_kib": rss_kib(os.getpid()),
        "workers_kib": sorted(rss_kib(p) for p in workers),
    }


def values_for(i: int) -> StatementValues:
    """A plausible member statement: 4 to 9 tasks, twelve months of history."""
    tasks = [
        {
            "task_id": i * 10 + k,
            "ledger_index": 100_000 + i * 10 + k,
            "unix_ns": 1_740_000_000_000_000_000 + (i * 10 + k) * 60_000_000_000,
            "category": CATEGORIES[(i + k) % 4],
            "minutes": 30 + 15 * k,
            "price_cents": 2500 + 333 * k,
            "earnings_cents": 2300 + 306 * k,
        }
        for k in range(4 + i % 6)
    ]
    earnings = sum(t["earnings_cents"] for t in tasks)
    figures = {
        "member_id": i, "pseudonym": f"w-{i:06d}", "tasks": len(tasks),
        "minutes": sum(t["minutes"] for t in tasks),
        "gross_cents": sum(t["price_cents"] for t in tasks), "earnings_cents": earnings,
        "work_share_cents": 337 + i % 100, "dividend_cents": 103, "capital_cents": 30000,
        "total_cents": earnings + 440 + i % 100,
    }
    totals = {"surplus_cents": 171300, "work_share_cents": 77100, "dividends_cents": 17130,
              "loss_carried_cents": 0, "basis_pct": {"earnings": 50, "hours": 30, "equal": 20}}
    data = {"kind": "member", "month": "2025-03", "draft": False, "member": {
        "id": i, "pseudonym": f"w-{i:06d}"}, "figures": figures, "tasks": tasks,
        "totals": totals, "totals_sha256": "ab" * 32, "period_ledger_index": 99_999,
        "checkpoint": {"size": 100_000, "root": "q" * 43 + "="}}
    history = tuple(Bar(f"2024-{m:02d}", 9000 + 97 * m * (i % 7)) for m in range(4, 13)) + (
        Bar("2025-01", 8000), Bar("2025-02", 12000), Bar("2025-03", figures["total_cents"]))
    return StatementValues(
        kind="member", month="2025-03", draft=False, locale="fr" if i % 3 == 0 else "en",
        timezone="Europe/Paris", data=data, member_name=f"Member {i}",
        year_to_date_cents=figures["total_cents"] * 3, history=history,
        checkpoint=Checkpoint(100_000, "q" * 43 + "=", "coop.example/ledger\n100000\n"
                              + "q" * 43 + "=\n\n— coop.example/ledger abcdEFGH\n"),
    )


def weasyprint_alone(job) -> int:
    """Reference: WeasyPrint's own API, default fetcher, same HTML, variant, tags and attachment."""
    import warnings

    from weasyprint import HTML, Attachment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string=job.html, base_url=str(STATIC_DIR) + "/").write_pdf(
            pdf_variant=PDF_VARIANT,
            pdf_tags=True,  # as the statements are: tagging is part of the work
            attachments=[Attachment(string=job.attachment, name=ATTACHMENT_NAME)],
        )
    return len(pdf)


def reference(jobs, workers: int) -> tuple[float, int]:
    """Time WeasyPrint alone over jobs in a pool of the same size."""
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        list(pool.map(weasyprint_alone, jobs[:workers]))  # start the workers untimed
        start = time.perf_counter()
        size = sum(pool.map(weasyprint_alone, jobs, chunksize=4))
        return time.perf_counter() - start, size


def main(count: int) -> None:
    workers = os.cpu_count() or 1
    instance = tempfile.mkdtemp(prefix="coop-bench-")
    app = create_app({"INSTANCE_DIR": instance, "SECRET_KEY": "bench",
                      "DATABASE_URL": f"sqlite:///{instance}/coop.db", "NTP_SERVERS": ""})
    with app.app_context():
        html_jobs = [statement_job(values_for(i)) for i in range(count)]
    # WeasyPrint alone on the same HTML, half before and half after the pipeline, so that a
    # change in the machine's load during the run weighs on both sides alike.
    half = count // 2
    before_s, before_bytes = reference(html_jobs[:half], workers)

    with app.app_context():
        # The pipeline: templates in the parent, PDFs in the pool, results streamed.
        samples, pdf_bytes = [], 0
        start = time.perf_counter()
        jobs = (statement_job(values_for(i)) for i in range(count))
        for n, (_key, pdf) in enumerate(render_jobs(jobs, workers), 1):
            pdf_bytes += len(pdf)
            if n in (min(20, count), count // 2, count):
                samples.append(sample(str(n)))
        pipeline_s = time.perf_counter() - start

    after_s, after_bytes = reference(html_jobs[half:], workers)
    reference_s = before_s + after_s
    ratio = pipeline_s / reference_s
    print(json.dumps({
        "bench": "statements",
        "statements": count,
        "workers": workers,
        "worker_tasks": WORKER_TASKS,
        "pipeline_s": round(pipeline_s, 2),
        "weasyprint_alone_s": round(reference_s, 2),
        "ratio": round(ratio, 3),
        "limit": 1.25,
        "ok": ratio <= 1.25,
        "per_statement_ms": round(pipeline_s * 1000 / count, 1),
        "pdf_mib": round(pdf_bytes / 2**20, 1),
        "reference_pdf_mib": round((before_bytes + after_bytes) / 2**20, 1),
        "rss": samples,
    }))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
