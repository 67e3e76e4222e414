"""`coop init` in a fresh folder leaves nothing readable by others, whatever the umask: the
instance folder is 0700; the database (and its -wal and -shm) and the secret key are 0600, and
so is the ledger key, which lives outside the instance folder (a backup of the folder alone
cannot re-sign); files an older version left world-readable are tightened by the next init;
production mode refuses a ledger key inside the instance folder."""

import os
import shutil
import stat
from pathlib import Path

import pytest

from coop import create_app
from coop.audit import keys
from coop.audit.keys import KeyLocationError
from coop.db import database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _fresh_app(folder: Path, **overrides):
    instance = folder / "instance"
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'coop.db'}",
            "UPLOAD_DIR": str(instance / "files"),
            "NTP_SERVERS": "",
            **overrides,
        }
    ), instance


def test_init_in_a_fresh_folder_makes_everything_private(tmp_path, loose_umask, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    app, instance = _fresh_app(tmp_path)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert _mode(instance) == 0o700
        for name in ("coop.db", "secret_key"):
            assert _mode(instance / name) == 0o600, name
        key = keys.key_file(app)
        assert not key.is_relative_to(instance) and _mode(key) == 0o600
        assert _mode(key.parent) == 0o700
        assert not (instance / "ledger_key").exists()
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
        private = [instance / "coop.db", instance / "secret_key", keys.key_file(app)]
        for path in private:
            path.chmod(0o644)
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "readable by its owner only" in result.output
        assert _mode(instance) == 0o700
        for path in private:
            assert _mode(path) == 0o600, path


def _private_keys_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and b"PRIVATE+KEY" in p.read_bytes()]


def test_a_backup_of_the_instance_folder_alone_cannot_re_sign(tmp_path, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    app, instance = _fresh_app(tmp_path / "live")
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        assert app.test_cli_runner().invoke(args=["ledger", "checkpoint"]).exit_code == 0
    backup = tmp_path / "stolen" / "instance"
    shutil.copytree(instance, backup)
    assert _private_keys_in(backup) == []
    # On another machine (another user's configuration folder), the copy has data but no key.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    copy, _ = _fresh_app(tmp_path / "stolen")
    with copy.app_context():
        result = copy.test_cli_runner().invoke(args=["ledger", "checkpoint"])
        assert result.exit_code != 0
        assert "no ledger key" in str(result.exception)


def test_production_refuses_a_key_inside_the_instance_folder(tmp_path):
    inside = str(tmp_path / "instance" / "ledger_key")
    with pytest.raises(KeyLocationError, match="inside the instance folder"):
        _fresh_app(tmp_path, MODE="production", LEDGER_KEY_FILE=inside)
    # The demo says so in its log, and starts.
    app, _ = _fresh_app(tmp_path, LEDGER_KEY_FILE=inside)
    assert keys.misplaced_key(app) == Path(inside)
    with pytest.raises(KeyLocationError, match="COOP_MODE"):
        _fresh_app(tmp_path, MODE="prod")


def test_init_moves_a_key_an_older_version_left_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    outside = tmp_path / "keys" / "ledger_key"
    app, instance = _fresh_app(tmp_path, LEDGER_KEY_FILE=str(outside))
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        vkey = app.test_client().get("/ledger/key").text
    outside.rename(instance / "ledger_key")  # as versions before this one kept it
    with pytest.raises(KeyLocationError):
        _fresh_app(tmp_path, LEDGER_KEY_FILE=str(outside), MODE="production")
    app, _ = _fresh_app(tmp_path, LEDGER_KEY_FILE=str(outside))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert f"out of the instance folder to {outside}" in result.output
        assert app.test_client().get("/ledger/key").text == vkey  # the same key, moved
    assert not (instance / "ledger_key").exists() and _mode(outside) == 0o600
    _fresh_app(tmp_path, LEDGER_KEY_FILE=str(outside), MODE="production")  # now it starts


def test_the_key_may_come_from_the_environment(tmp_path, monkeypatch):
    from ledger.note import Signer, generate_signer_key

    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    secret, vkey = generate_signer_key("coop.example/ledger")
    app, instance = _fresh_app(tmp_path, LEDGER_KEY=secret, MODE="production")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert "signing key" not in result.output
        assert not keys.key_file(app).exists()
        assert app.test_client().get("/ledger/key").text == vkey + "\n"
        note = app.test_client().get("/ledger/checkpoint").text
        assert note.endswith(f"\u2014 coop.example/ledger {note.rsplit(' ', 1)[1]}")
    assert Signer.parse(secret).verifier.name == "coop.example/ledger"
    assert _private_keys_in(instance) == []
