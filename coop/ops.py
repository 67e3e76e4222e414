"""What an operator watches: liveness and readiness probes, and Prometheus metrics.

`/healthz` answers while the process can serve at all (it touches nothing else), `/readyz`
while the database, the job queue and the file store answer too — a load balancer stops
sending requests to a host whose readiness fails. `/metrics` is Prometheus's text format,
served only to a scraper presenting COOP_METRICS_TOKEN (it says how busy the coop is, which is
nobody else's business); without a token set, it does not exist.
"""

import hmac
import os
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from coop.db import database

bp = Blueprint("ops", __name__)

# Buckets in seconds, from a cached page to a month close.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUEST_SECONDS = Histogram(
    "coop_request_seconds",
    "Time to answer a request, by endpoint, method and status class.",
    ["endpoint", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
APPEND_SECONDS = Histogram(
    "coop_ledger_append_seconds",
    "Time to append one entry to the ledger (time-stamping, hashing, inserting).",
    buckets=LATENCY_BUCKETS,
)
# Read at scrape time from the database and the queue, so every process reports the truth.
LEDGER_SIZE = Gauge("coop_ledger_entries", "Entries in the ledger.", multiprocess_mode="max")
PUBLISHED_SIZE = Gauge(
    "coop_ledger_published_entries",
    "Entries covered by the latest published checkpoint.",
    multiprocess_mode="max",
)
QUEUE_DEPTH = Gauge(
    "coop_queue_pending", "Jobs waiting in the queue for a worker.", multiprocess_mode="max"
)


def _database_ready() -> None:
    database.connect(reuse_if_open=True)
    database.execute_sql("SELECT 1").fetchone()


def _queue_ready() -> None:
    from coop import jobs

    jobs.queue().pending_count()


def _storage_ready() -> None:
    from coop import files

    store = files.object_store()
    if store is not None:
        store.client.head_bucket(Bucket=store.bucket)
        return
    # The store makes its folder on the first upload: until then, the folder it would go in.
    folder = Path(current_app.config["UPLOAD_DIR"])
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise OSError("the file store is not a writable folder")


CHECKS = {"database": _database_ready, "queue": _queue_ready, "storage": _storage_ready}


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Check each dependency; name the failing ones, never the error (it may hold a host)."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:  # noqa: BLE001 - any failure means "not ready", logged for the operator
            current_app.logger.exception("readiness check %s failed", name)
            results[name] = "failed"
    ready = all(value == "ok" for value in results.values())
    return jsonify(status="ok" if ready else "unavailable", checks=results), 200 if ready else 503


def _registry():
    """The registry to expose: every process's samples under gunicorn's multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN", "")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        abort(401)
    from coop import jobs
    from coop.audit.ledger import get_ledger, latest_checkpoint

    LEDGER_SIZE.set(get_ledger().size())
    published = latest_checkpoint()
    PUBLISHED_SIZE.set(published.size if published else 0)
    QUEUE_DEPTH.set(jobs.queue().pending_count())
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _observe(response):
        started = g.get("request_started")  # set by coop.logs, registered first
        if started is not None and request.endpoint not in {"static", "ops.metrics"}:
            REQUEST_SECONDS.labels(
                request.endpoint or "unmatched", request.method, f"{response.status_code // 100}xx"
            ).observe(time.perf_counter() - started)
        return response
