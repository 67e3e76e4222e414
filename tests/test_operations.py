"""What an operator relies on: probes, metrics, request ids in JSON logs, no connection where none
is needed, pooled PostgreSQL connections and statement time-outs."""

import json
import logging
import shutil
from pathlib import Path

import peewee
import pytest

from coop import create_app
from coop.db import close_all, database, open_database
from coop.logs import JsonFormatter


@pytest.fixture
def connections(monkeypatch):
    """Count the connections the requests open (the database object's connect calls)."""
    opened = []
    real = database.obj.connect

    def counting(*args, **kwargs):
        if database.is_closed():
            opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(database.obj, "connect", counting)
    return opened


def test_static_files_and_liveness_open_no_connection(client, connections):
    if not database.is_closed():
        database.close()
    static = client.get("/static/coop.css")
    assert static.status_code == 200
    static.close()  # the file response holds the file open until closed
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert connections == []
    assert client.get("/").status_code == 200
    assert connections == [1]


def test_readiness_names_each_dependency(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "queue": "ok", "storage": "ok"}

    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)
    Path(app.config["UPLOAD_DIR"]).write_text("not a folder")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"] == "failed"
    assert body["checks"]["database"] == "ok"


def test_metrics_only_for_the_configured_token(app, client, make_member):
    assert client.get("/metrics").status_code == 404  # no token configured: no metrics

    app.config["METRICS_TOKEN"] = "scrape-secret-2026"
    assert client.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", headers=wrong).status_code == 401

    make_member()  # admitting a member appends to the ledger
    client.get("/")
    right = {"Authorization": "Bearer scrape-secret-2026"}
    response = client.get("/metrics", headers=right)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'coop_request_seconds_count{endpoint="market.home",method="GET",status="2xx"}' in text
    assert "coop_ledger_append_seconds_count" in text
    entries = [line for line in text.splitlines() if line.startswith("coop_ledger_entries ")]
    from coop.audit.ledger import get_ledger

    assert entries == [f"coop_ledger_entries {float(get_ledger().size())}"]
    assert "coop_queue_pending" in text


def test_request_ids_are_kept_when_sane_and_made_otherwise(client):
    given = client.get("/healthz", headers={"X-Request-Id": "edge-7f3a9c21"})
    assert given.headers["X-Request-Id"] == "edge-7f3a9c21"
    for bad in ("short", "x" * 65, "id with spaces; <script>"):
        made = client.get("/healthz", headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert made != bad and len(made) == 16


def test_request_lines_are_json_with_the_id_and_no_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="coop.request")
    response = client.get("/reset?token=do-not-log-me")
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "coop.request"]
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["status"] == response.status_code
    assert line["method"] == "GET"
    assert "do-not-log-me" not in lines[0]
    assert line["level"] == "info" and line["time"].endswith("Z")


def test_postgres_requests_reuse_pooled_connections(app, client, backend):
    if backend != "postgres":
        pytest.skip("connection pooling applies to PostgreSQL")
    pids = set()
    for _ in range(5):
        client.get("/")
        database.connect(reuse_if_open=True)
        pids.add(database.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
        database.close()
    assert len(pids) == 1, "each request opened a new PostgreSQL connection"


def test_postgres_statement_timeout_cancels_a_long_statement(app, backend):
    if backend != "postgres":
        pytest.skip("statement time-outs are set on PostgreSQL connections")
    db = open_database(app.config["DATABASE_URL"], pool_size=2, statement_timeout_ms=200)
    try:
        db.connect()
        with pytest.raises(peewee.OperationalError, match="statement timeout"):
            db.execute_sql("SELECT pg_sleep(2)")
    finally:
        db.close_all()


def test_pool_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COOP_DATABASE_POOL_SIZE", "3")
    monkeypatch.setenv("COOP_STATEMENT_TIMEOUT_MS", "1500")
    monkeypatch.setenv("COOP_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SECRET_KEY": "x", "NTP_SERVERS": "", "QUEUE_URL": "immediate://"})
    try:
        assert app.config["DATABASE_POOL_SIZE"] == 3
        assert app.config["STATEMENT_TIMEOUT_MS"] == 1500
    finally:
        close_all()
