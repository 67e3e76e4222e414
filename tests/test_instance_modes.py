"""`coop init` in a fresh folder leaves nothing readable by others, whatever the umask: the
instance folder is 0700; the database (and its -wal and -shm), the secret key and the ledger
key are 0600; files an older version left world-readable are tightened by the next init."""

import os
import stat
from pathlib import Path

import pytest

from coop import create_app
from coop.db import database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _fresh_app(folder: Path):
    instance = folder / "instance"
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'coop.db'}",
            "UPLOAD_DIR": str(instance / "files"),
            "NTP_SERVERS": "",
        }
    ), instance


def test_init_in_a_fresh_folder_makes_everything_private(tmp_path, loose_umask, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    app, instance = _fresh_app(tmp_path)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert _mode(instance) == 0o700
        for name in ("coop.db", "secret_key", "ledger_key"):
            assert _mode(instance / name) == 0o600, name
        # While a connection writes, SQLite's side files exist: they take the database's mode.
        with database.connection_context():
            database.execute_sql("CREATE TABLE scratch (x INTEGER)")
            for name in ("coop.db-wal", "coop.db-shm"):
                assert _mode(instance / name) == 0o600, name


def test_init_tightens_files_left_world_readable(tmp_path, loose_umask, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    app, instance = _fresh_app(tmp_path)
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        instance.chmod(0o755)
        for name in ("coop.db", "secret_key", "ledger_key"):
            (instance / name).chmod(0o644)
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "readable by its owner only" in result.output
        assert _mode(instance) == 0o700
        for name in ("coop.db", "secret_key", "ledger_key"):
            assert _mode(instance / name) == 0o600, name
