"""`coop backup` and `coop restore`: a backup restores into an empty instance whose ledger then
verifies, with its files; a restore older than what was published says so loudly; a backup
that was altered, or a restore over live data, is refused."""

import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
import pytest
from flask import current_app

from coop import create_app
from coop.audit.keys import key_file
from coop.audit.ledger import latest_checkpoint
from coop.db import close_all, database
from coop.models import DeliveryFile, User


@pytest.fixture
def empty_database_url(backend, tmp_path):
    """A second, empty database of the same kind to restore into."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'coop.db'}"
        return
    import os

    parts = urlsplit(os.environ["COOP_TEST_POSTGRES_URL"])
    admin = peewee.PostgresqlDatabase(
        parts.path.lstrip("/") or "postgres", host=parts.hostname, port=parts.port or 5432,
        user=parts.username, password=parts.password,
    )
    admin.connect()
    admin.connection().autocommit = True
    name = f"coop_restore_{uuid.uuid4().hex[:12]}"
    admin.execute_sql(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        close_all()
        admin.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _fresh_app(url, tmp_path, tiles_dir=""):
    """An instance initialised as `coop init` leaves it (empty database, own folders), with the
    original's signing key restored apart, as docs/deployment.md tells the operator to."""
    app = create_app({
        "TESTING": True, "SECRET_KEY": "restore-secret", "DATABASE_URL": url,
        "INSTANCE_DIR": str(tmp_path / "restored"), "UPLOAD_DIR": str(tmp_path / "restored-files"),
        "TILES_DIR": tiles_dir, "NTP_SERVERS": "", "QUEUE_URL": "immediate://",
        "RENDER_PROCESSES": 1,
    })
    app.config["LEDGER_KEY_FILE"] = str(key_file(current_app))
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    return app


def _backup(runner, folder):
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    return json.loads((folder / "manifest.json").read_text())


def test_a_backup_restores_into_an_empty_instance_and_its_ledger_verifies(
    app, runner, make_delivery, empty_database_url, tmp_path
):
    _task, delivery = make_delivery()
    stored = DeliveryFile.get(DeliveryFile.delivery == delivery.id).sha256
    users = User.select().count()
    manifest = _backup(runner, tmp_path / "backup")
    assert manifest["ledger_size"] >= 2  # claimed, delivered
    assert manifest["files_copied"] == manifest["files_indexed"] == 1
    assert (tmp_path / "backup" / "files.txt").read_text().split()[0] == stored

    restored = _fresh_app(empty_database_url, tmp_path)
    with restored.app_context():
        result = restored.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
        assert result.exit_code == 0, result.output
        assert f"Restored {manifest['ledger_size']} ledger entries" in result.output
        verify = restored.test_cli_runner().invoke(args=["ledger", "verify"])
        assert verify.exit_code == 0, verify.output
        assert f"OK: {manifest['ledger_size']} entries" in verify.output
        with database.connection_context():
            assert User.select().count() == users
        assert (Path(restored.config["UPLOAD_DIR"]) / stored[:2] / stored).is_file()


def test_a_backup_older_than_what_was_published_says_so_loudly(
    app, runner, make_delivery, make_member, empty_database_url, tmp_path
):
    make_delivery()
    _backup(runner, tmp_path / "backup")
    make_delivery()  # published after the backup: tiles and a checkpoint the world has seen
    later = latest_checkpoint()
    note = tmp_path / "seen-checkpoint"
    note.write_text(later.note)
    from coop.audit.tiles import tiles_dir

    published_tiles = str(tiles_dir())

    restored = _fresh_app(empty_database_url, tmp_path, tiles_dir=published_tiles)
    with restored.app_context():
        result = restored.test_cli_runner().invoke(
            args=["restore", str(tmp_path / "backup"), "--checkpoint", str(note)]
        )
    assert result.exit_code == 3, result.output
    assert f"The published tiles cover {later.size} entries" in result.output
    assert f"A published checkpoint has {later.size} entries" in result.output


def test_an_altered_backup_and_a_restore_over_live_data_are_refused(
    app, runner, make_delivery, tmp_path
):
    make_delivery()
    _backup(runner, tmp_path / "backup")
    # Over this very instance, which holds members and entries: refused, nothing changed.
    result = runner.invoke(args=["restore", str(tmp_path / "backup")])
    assert result.exit_code == 1
    assert "already holds members or ledger entries" in result.output

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    part = next(name for name in manifest["sha256"] if name.startswith("database"))
    with open(tmp_path / "backup" / part, "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\xff")
    result = runner.invoke(args=["restore", str(tmp_path / "backup"), "--force"])
    assert result.exit_code == 1
    assert f"{part} is missing or altered since the backup" in result.output

    assert runner.invoke(args=["backup", str(tmp_path / "backup")]).exit_code == 1

