"""Backups that restore: a consistent copy of the database (the ledger lives in it), the file
store's index and, unless told otherwise, its files; and a restore that checks what it brings
back against what the world has already seen.

A backup folder holds `manifest.json` (what, when, the ledger's size and root at the copy, the
SHA-256 of each part), `database.sqlite` (SQLite's online backup API: a consistent copy while the
site serves) or `database.dump` (pg_dump's custom format, taken on an exported snapshot so the
recorded ledger size is exactly the dump's), `files.txt` (one "<sha256> <size>" line per stored
file), `files/` (the files, content-addressed as in the store) and `ledger_keys.pub` (the
verifier keys retired by a rotation: public).

The signing keys and the secret key are not in it: a backup of the data must not allow anyone
to sign in the coop's name (back them up apart, see docs/deployment.md).
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from coop.db import database, is_sqlite
from coop.instance import sqlite_path

FORMAT = "coop-backup/1"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what to do."""


@dataclass
class RestoreReport:
    ledger_size: int
    files: int
    # What the restored ledger lacks or contradicts of what was published: said loudly.
    warnings: list[str] = field(default_factory=list)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_environment(url: str) -> dict[str, str]:
    """Connection settings for pg_dump/pg_restore in their environment, not on the command line
    (where `ps` would show a password)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(
        PGHOST=parts.hostname or "127.0.0.1",
        PGPORT=str(parts.port or 5432),
        PGDATABASE=unquote(parts.path.lstrip("/")),
    )
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).") from None
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-500:]}")


def _ledger_state() -> tuple[int, str]:
    from coop.audit.ledger import get_ledger

    ledger = get_ledger()
    size = ledger.size()
    return size, ledger.root(size).hex()


def _copy_sqlite(destination: Path) -> None:
    """Copy the live SQLite database page by page (readers and writers go on meanwhile)."""
    source = sqlite_path(current_app.config["DATABASE_URL"])
    live, copy = sqlite3.connect(source), sqlite3.connect(destination)
    try:
        live.backup(copy)
    finally:
        copy.close()
        live.close()


def _dump_postgres(destination: Path) -> tuple[int, str]:
    """pg_dump on a snapshot exported by a transaction that also reads the ledger's state."""
    url = current_app.config["DATABASE_URL"]
    database.connect(reuse_if_open=True)
    with database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        snapshot = database.execute_sql("SELECT pg_export_snapshot()").fetchone()[0]
        size, root = _ledger_state()
        _run(
            ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
             f"--file={destination}"],
            _pg_environment(url),
        )
    return size, root


def make_backup(folder: Path, with_files: bool = True) -> dict:
    """Write a backup into folder (which must not exist, or be empty); return its manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder.")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if is_sqlite():
        part = folder / "database.sqlite"
        _copy_sqlite(part)
        size, root = _ledger_state_of_copy(part)
        kind = "sqlite"
    else:
        part = folder / "database.dump"
        size, root = _dump_postgres(part)
        kind = "postgresql"
    os.chmod(part, 0o600)

    from coop import files

    # Files in a bucket stay there (use the bucket's versioning or replication); only the
    # index is taken. Files in the local folder are copied unless told otherwise.
    copy_files = with_files and files.object_store() is None
    index_lines, copied = [], 0
    for sha, blob_size in files.blobs():
        index_lines.append(f"{sha} {blob_size}\n")
        if copy_files:
            target = folder / "files" / sha[:2] / sha
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files.path_for(sha), target)
            copied += 1
    (folder / "files.txt").write_text("".join(index_lines), encoding="utf-8")
    # The retired verifier keys (public) live beside the data: without them a restored ledger
    # signed before a key rotation would not verify.
    from coop.audit.keys import RETIRED_KEYS_FILE, retired_keys_file

    retired = retired_keys_file(current_app)
    if retired.exists():
        shutil.copyfile(retired, folder / RETIRED_KEYS_FILE)

    from coop.audit.ledger import latest_checkpoint

    published = latest_checkpoint()
    manifest = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "ledger_size": size,
        "ledger_root": root,
        "published_checkpoint": published.note if published else None,
        "files_indexed": len(index_lines),
        "files_copied": copied,
        "sha256": {part.name: _sha256_file(part), "files.txt": _sha256_file(folder / "files.txt")},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return manifest


def _ledger_state_of_copy(path: Path) -> tuple[int, str]:
    """The ledger's size and Merkle root as the copy holds them, read from the copy itself."""
    from ledger import merkle

    copy = sqlite3.connect(path)
    try:
        size = copy.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entry").fetchone()[0]

        def read(indexes):  # the O(log n) hashes of the root's subtrees, one query each
            query = "SELECT hash FROM ledger_hash WHERE stored_index = ?"
            return [bytes(copy.execute(query, (i,)).fetchone()[0]) for i in indexes]

        return size, merkle.tree_hash(size, read).hex()
    finally:
        copy.close()


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{folder} holds no readable manifest.json: not a Coop backup.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    for name, expected in manifest["sha256"].items():
        part = folder / name
        if not part.is_file() or _sha256_file(part) != expected:
            raise BackupError(f"{name} is missing or altered since the backup (SHA-256 differs).")
    return manifest


def _target_is_empty() -> bool:
    from coop.audit.ledger import get_ledger
    from coop.models import User

    return get_ledger().size() == 0 and not User.select().exists()


def _restore_sqlite(part: Path) -> None:
    target = sqlite_path(current_app.config["DATABASE_URL"])
    from coop.db import close_all

    close_all()  # the pool's idle connections too: none may hold the old pages
    copy, live = sqlite3.connect(part), sqlite3.connect(target)
    try:
        copy.backup(live)
    finally:
        live.close()
        copy.close()


def _restore_postgres(part: Path) -> None:
    if not database.is_closed():
        database.close()
    from coop.db import close_all

    close_all()
    env = _pg_environment(current_app.config["DATABASE_URL"])
    _run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--exit-on-error", f"--dbname={env['PGDATABASE']}", str(part)],
        env,
    )


def _restore_files(folder: Path) -> int:
    source = folder / "files"
    if not source.is_dir():
        return 0
    root = Path(current_app.config["UPLOAD_DIR"])
    restored = 0
    for path in sorted(source.glob("??/*")):
        if _sha256_file(path) != path.name:
            raise BackupError(f"The backed-up file {path.name} does not hash to its name.")
        target = root / path.parent.name / path.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(".restore-" + path.name)
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        restored += 1
    return restored


def published_warnings(known_checkpoints: list[str]) -> list[str]:
    """Compare the restored ledger with what was published: tiles left in the tiles folder (they
    outlive a lost database when a CDN or another disk serves them) and checkpoints given by the
    operator (a monitor's or a witness's). Return what the restore lost or contradicts."""
    from coop.audit.ledger import get_ledger
    from coop.audit.tiles import tiles_dir
    from ledger import merkle
    from ledger.note import parse_checkpoint
    from ledger.tiles import TILE_WIDTH, parse_tile_path

    ledger = get_ledger()
    size = ledger.size()
    warnings = []
    covered, first_difference = 0, None
    level0 = tiles_dir() / "tile" / "0"
    for path in sorted(level0.rglob("*")) if level0.is_dir() else []:
        if not path.is_file():
            continue
        try:
            tile = parse_tile_path(path.relative_to(tiles_dir()).as_posix())
        except ValueError:
            continue
        start = tile.index * TILE_WIDTH
        data = path.read_bytes()
        hashes = [data[i:i + 32] for i in range(0, len(data), 32)]
        covered = max(covered, start + len(hashes))
        mine = ledger.stored_hashes(
            [merkle.stored_hash_index(0, n) for n in range(start, min(start + len(hashes), size))]
        )
        for offset, (published, restored) in enumerate(zip(hashes, mine, strict=False)):
            if published != restored and first_difference is None:
                first_difference = start + offset
    if covered > size:
        warnings.append(
            f"The published tiles cover {covered} entries but the restored ledger holds {size}: "
            f"entries {size}–{covered - 1} were published and are lost. Appending now would "
            "fork the public log; restore a newer backup."
        )
    if first_difference is not None:
        warnings.append(
            f"Entry {first_difference} of the restored ledger differs from the published tiles."
        )
    for note in known_checkpoints:
        checkpoint = parse_checkpoint(note.split("\n\n", 1)[0] + "\n")
        if checkpoint.size > size:
            warnings.append(
                f"A published checkpoint has {checkpoint.size} entries; the restored ledger holds "
                f"{size}: entries {size}–{checkpoint.size - 1} are lost."
            )
        elif ledger.root(checkpoint.size) != checkpoint.root:
            warnings.append(
                f"The restored ledger's root at size {checkpoint.size} differs from a published "
                "checkpoint's: this is not the history the coop published."
            )
    return warnings


def restore_backup(
    folder: Path, known_checkpoints: list[str], force: bool = False
) -> RestoreReport:
    """Bring a backup back into this instance's (empty) database and file store, upgrade it,
    verify the ledger, and compare it with what was published."""

    folder = Path(folder)
    manifest = _read_manifest(folder)
    try:
        return _restore(folder, manifest, known_checkpoints, force)
    finally:
        if not database.is_closed():
            database.close()


def _restore(folder: Path, manifest: dict, known_checkpoints: list[str], force: bool):
    from coop import migrations
    from coop.audit.verify import verify_live

    wanted = "sqlite" if is_sqlite() else "postgresql"
    if manifest["database"] != wanted:
        raise BackupError(
            f"This backup is of a {manifest['database']} database; this instance uses {wanted}."
        )
    database.connect(reuse_if_open=True)
    if not force and not _target_is_empty():
        raise BackupError(
            "This instance's database already holds members or ledger entries: restore into an "
            "empty instance (or pass --force to replace everything in it)."
        )
    if wanted == "sqlite":
        _restore_sqlite(folder / "database.sqlite")
    else:
        _restore_postgres(folder / "database.dump")
    files = _restore_files(folder)
    from coop.audit.keys import RETIRED_KEYS_FILE, retired_keys_file

    retired = retired_keys_file(current_app)
    if (folder / RETIRED_KEYS_FILE).exists() and not retired.exists():
        shutil.copyfile(folder / RETIRED_KEYS_FILE, retired)
    database.connect(reuse_if_open=True)
    migrations.upgrade()
    size = verify_live()
    if size != manifest["ledger_size"]:
        raise BackupError(
            f"The restored ledger holds {size} entries; the backup recorded "
            f"{manifest['ledger_size']}."
        )
    return RestoreReport(size, files, published_warnings(known_checkpoints))
