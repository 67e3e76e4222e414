"""A content-addressed file store: each file lives at <root>/<sha[:2]>/<sha>, written once.

Uploads stream to a temporary file while being hashed, then move into place atomically, so a
process killed mid-upload leaves no partial file under a real hash.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from coop.errors import DomainError
from coop.inputs import safe_media_type

CHUNK = 1024 * 1024


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


def path_for(sha256: str) -> Path:
    """Return where the file with this SHA-256 is stored."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return _root() / sha256[:2] / sha256


def clean_filename(name: str) -> str:
    """Keep only the base name, without path separators or control characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:255] or "file"


def save(stream, filename: str, content_type: str | None = None) -> StoredFile:
    """Store a file-like object; raise FileTooLarge past the configured per-file limit."""
    limit = current_app.config["MAX_FILE_BYTES"]
    digest, size = hashlib.sha256(), 0
    root = _root()
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
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
        final = path_for(sha)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredFile(sha, size, clean_filename(filename), safe_media_type(content_type))


def save_uploads(uploads) -> list[StoredFile]:
    """Store every non-empty upload from a form's FileStorage list."""
    return [save(u.stream, u.filename, u.mimetype) for u in uploads if u and u.filename]
