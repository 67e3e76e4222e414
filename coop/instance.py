"""The instance folder and its secrets: created private, and made private again by `coop init`.

The folder holds the SQLite database and the session secret; anyone who can read one of them
can forge sessions or read every account. (The ledger's signing key lives outside it, so a copy
of the folder cannot re-sign a rewritten ledger: coop/audit/keys.py.) Each is
created with an explicit owner-only mode (never left to the umask), and `coop init` tightens
files an older version left world-readable.
"""

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_private_folder(path: Path) -> Path:
    """Create path (and missing parents) readable by its owner only."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return path


def sqlite_path(url: str) -> Path | None:
    """Return the file of a sqlite:/// URL, None for other databases and :memory:."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path == ":memory:" else Path(path)


def create_private_file(path: Path) -> None:
    """Create an empty owner-only file unless one exists (SQLite takes an empty file as a new
    database, and gives its -wal and -shm files the database file's mode)."""
    make_private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def tighten(folder: Path, files: list[Path], database_url: str) -> list[Path]:
    """Make the folder 0700 and each existing secret or database file 0600; return those changed."""
    changed = []
    paths = [(folder, FOLDER_MODE)] + [(f, FILE_MODE) for f in files]
    database = sqlite_path(database_url)
    if database is not None:
        paths += [(Path(f"{database}{suffix}"), FILE_MODE) for suffix in SQLITE_SUFFIXES]
    for path, mode in paths:
        if path.exists() and (path.stat().st_mode & 0o777) != mode:
            path.chmod(mode)
            changed.append(path)
    return changed
