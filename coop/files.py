"""A content-addressed file store: each file lives at <root>/<sha[:2]>/<sha>, written once.

Uploads stream to a temporary file in the store's folder while being hashed, and move into
place atomically only after the transaction that records them commits (`staged_uploads`): a
refused, failed or killed upload leaves no file under a real hash, and `coop tick` removes the
temporary files it left.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, request, send_file
from flask_babel import gettext as _

from coop.errors import DomainError
from coop.inputs import safe_media_type

CHUNK = 1024 * 1024
UPLOAD_PREFIX = ".upload-"  # being written
STAGED_PREFIX = ".staged-"  # complete, hashed, waiting for its transaction to commit


class FileTooLarge(DomainError):
    status = 413


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    filename: str
    content_type: str


def format_size(size: int) -> str:
    """Return a byte count for people: '25 MiB', '512 KiB', '900 bytes'."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def _root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def path_for(sha256: str) -> Path:
    """Return where the file with this SHA-256 is stored."""
    if not _is_sha256(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return _root() / sha256[:2] / sha256


def clean_filename(name: str) -> str:
    """Keep only the base name, without path separators or control characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:255] or "file"


@dataclass
class _Staged:
    stored: StoredFile
    temp: Path


class Staging:
    """Files written and hashed under temporary names, published only when told to.

    A temporary file lives in the store's own folder (same filesystem, so publishing is one
    atomic rename) and is named after its hash once complete (`.staged-<sha>-…`), so that a
    process killed between the database commit and the rename leaves a file `coop tick` can
    still publish; an incomplete one (`.upload-…`) is only ever deleted.
    """

    def __init__(self):
        self._files: list[_Staged] = []

    def add(self, stream, filename: str, content_type: str | None = None) -> StoredFile:
        """Write a file-like object to a temporary file; raise FileTooLarge past the limit."""
        limit = current_app.config["MAX_FILE_BYTES"]
        digest, size = hashlib.sha256(), 0
        root = _root()
        fd, tmp = tempfile.mkstemp(dir=root, prefix=UPLOAD_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise FileTooLarge(
                            _(
                                "%(name)s is larger than the limit of %(limit)s per file.",
                                name=clean_filename(filename),
                                limit=format_size(limit),
                            )
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            staged = root / f"{STAGED_PREFIX}{sha}-{Path(tmp).name.removeprefix(UPLOAD_PREFIX)}"
            os.replace(tmp, staged)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stored = StoredFile(sha, size, clean_filename(filename), safe_media_type(content_type))
        self._files.append(_Staged(stored, staged))
        return stored

    def publish(self) -> None:
        """Move every staged file to its content address (an address already there is kept)."""
        for staged in self._files:
            _publish(staged.temp, staged.stored.sha256)
        self._files = []

    def discard(self) -> None:
        """Delete every staged file: nothing of a refused or failed upload stays behind."""
        for staged in self._files:
            staged.temp.unlink(missing_ok=True)
        self._files = []


def init_app(app) -> None:
    """Refuse to start with a mistyped COOP_STORAGE_URL rather than fail on the first upload."""
    if app.config.get("STORAGE_URL"):
        from coop.object_store import parse_storage_url

        parse_storage_url(app.config["STORAGE_URL"])


def object_store():
    """The S3-compatible bucket named by COOP_STORAGE_URL, or None for the local folder."""
    url = current_app.config.get("STORAGE_URL", "")
    if not url:
        return None
    store = current_app.extensions.get("coop.object_store")
    if store is None:
        from coop.object_store import ObjectStore

        store = current_app.extensions.setdefault("coop.object_store", ObjectStore(url))
    return store


def is_stored(sha256: str) -> bool:
    store = object_store()
    return store.exists(sha256) if store else path_for(sha256).exists()


def blobs() -> Iterator[tuple[str, int]]:
    """Every file at its address, as (sha256, size): the store's index."""
    store = object_store()
    if store is not None:
        yield from ((sha, size) for sha, size in store.blobs() if _is_sha256(sha))
        return
    for blob in sorted(_root().glob("[0-9a-f][0-9a-f]/*")):
        if _is_sha256(blob.name):
            yield blob.name, blob.stat().st_size


def _disposition(kind: str, filename: str) -> str:
    """A Content-Disposition header value; non-ASCII names as RFC 6266's filename*."""
    safe = clean_filename(filename)
    ascii_name = safe.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != safe:
        value += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return value


def send_stored(
    sha256: str,
    mimetype: str,
    download_name: str,
    as_attachment: bool = True,
    max_age: int | None = None,
):
    """Answer a download of a stored file, from the local folder or streamed from the bucket."""
    store = object_store()
    if store is None:
        return send_file(
            path_for(sha256), mimetype=mimetype, as_attachment=as_attachment,
            download_name=download_name, max_age=max_age, conditional=True,
        )
    headers = {
        "Content-Disposition": _disposition("attachment" if as_attachment else "inline",
                                            download_name),
        "ETag": f'"{sha256}"',  # content-addressed: the hash is the version
        "Cache-Control": f"private, max-age={max_age}" if max_age else "no-cache",
    }
    if request.if_none_match.contains(sha256):
        return Response(status=304, headers=headers)
    return store.response(sha256, mimetype, headers)


def _publish(temp: Path, sha256: str) -> None:
    store = object_store()
    if store is not None:
        store.publish(temp, sha256)
        return
    final = path_for(sha256)
    if final.exists():
        temp.unlink(missing_ok=True)
        return
    final.parent.mkdir(exist_ok=True)
    os.replace(temp, final)
    # The rename is durable only once the folder holding it is.
    fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def staged_uploads(uploads) -> Iterator[list[StoredFile]]:
    """Stage every non-empty upload of a form; publish them if the block ends normally.

    The block runs the operation that records the files, which commits its own transaction:
    the files reach their content address only after that commit, and a refusal or any other
    exception (also one raised while staging) deletes every temporary file.
    """
    staging = Staging()
    try:
        stored = [
            staging.add(u.stream, u.filename, u.mimetype) for u in uploads if u and u.filename
        ]
        yield stored
    except BaseException:
        staging.discard()
        raise
    staging.publish()


def save(stream, filename: str, content_type: str | None = None) -> StoredFile:
    """Store a file-like object at once (scripts and tests; uploads use staged_uploads)."""
    staging = Staging()
    try:
        stored = staging.add(stream, filename, content_type)
    except BaseException:
        staging.discard()
        raise
    staging.publish()
    return stored


@dataclass(frozen=True)
class Sweep:
    """What `coop tick` found in the store: temporary files removed or published, and blobs
    no task or delivery refers to (reported, never deleted)."""

    temporary_removed: int
    staged_published: int
    unreferenced: int
    unreferenced_bytes: int


def sweep(referenced: set[str], older_than: float) -> Sweep:
    """Remove temporary files older than the given POSIX time and count unreferenced blobs.

    A complete staged file whose hash a committed row refers to, but which never reached its
    address (the process died between commit and rename), is published instead.
    """
    root = _root()
    removed = published = 0
    for temp in [*root.glob(UPLOAD_PREFIX + "*"), *root.glob(STAGED_PREFIX + "*")]:
        sha = temp.name.removeprefix(STAGED_PREFIX)[:64]
        if temp.name.startswith(STAGED_PREFIX) and sha in referenced:
            if not is_stored(sha):
                _publish(temp, sha)
                published += 1
                continue
        try:
            if temp.stat().st_mtime < older_than:
                temp.unlink()
                removed += 1
        except FileNotFoundError:  # another sweep or the upload itself got there first
            continue
    unreferenced = unreferenced_bytes = 0
    for sha, size in blobs():
        if sha not in referenced:
            unreferenced += 1
            unreferenced_bytes += size
    return Sweep(removed, published, unreferenced, unreferenced_bytes)
