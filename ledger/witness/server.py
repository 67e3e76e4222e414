"""A small C2SP tlog-witness: cosigns a log's checkpoints only while the log stays consistent.

``POST /add-checkpoint`` takes (c2sp.org/tlog-witness)::

    old <size the client believes the witness last cosigned>
    <consistency proof hash, base64>     (one line each, none when old is 0 or unchanged)
    <blank line>
    <signed checkpoint note>

and answers 200 with this witness's ``cosignature/v1`` line, or: 400 malformed, 403 the log's
signature does not verify, 404 unknown log, 409 ``old`` is not the size last cosigned (the body,
``text/x.tlog.size``, says which is), 422 the proof does not lead from the last cosigned root to
the new one. The state (per log: size and root last cosigned) is in SQLite and committed before a
cosignature leaves, so the witness never goes backwards across restarts; each refused request is
kept with its reason as evidence of what the log tried.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..merkle import InvalidProof, verify_consistency
from ..note import InvalidNote, Verifier, open_checkpoint
from .cosignature import CosignatureSigner

__all__ = ["MAX_BODY", "Refusal", "Witness", "WitnessResponse", "make_server"]

# A proof has at most 63 hashes and a checkpoint a few signatures: far below this.
MAX_BODY = 64 * 1024
MAX_PROOF = 63
SIZE_TYPE = "text/x.tlog.size"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_log (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_refused (
    id INTEGER PRIMARY KEY,
    received_ns INTEGER NOT NULL,
    origin TEXT,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class WitnessResponse:
    """What the witness answers: HTTP status, content type and body."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Refusal:
    """A refused request kept as evidence."""

    received_ns: int
    origin: str | None
    status: int
    reason: str
    request: bytes


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, reason: str, body: bytes | None = None):
        super().__init__(reason)
        self.status, self.reason, self.body = status, reason, body


class Witness:
    """The witness's rules and state, apart from HTTP (so tests and tools can call it)."""

    def __init__(self, signer: CosignatureSigner, db_path: str | Path, logs: Iterable[Verifier]):
        self.signer = signer
        # A log is known by its checkpoints' origin, which is its key's name.
        self.logs = {v.name: v for v in logs}
        self.db_path = str(db_path)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.db_path, timeout=30, isolation_level=None)) as db:
            # FULL: a cosigned size must survive a power cut, or the witness could go backwards.
            db.execute("PRAGMA journal_mode=wal")
            db.execute("PRAGMA synchronous=FULL")
            yield db

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        """Return (size, root) last cosigned for a log, or None."""
        with self._connect() as db:
            row = db.execute(
                "SELECT size, root FROM witness_log WHERE origin = ?", [origin]
            ).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def refusals(self) -> list[Refusal]:
        """Return the refused requests, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT received_ns, origin, status, reason, request FROM witness_refused "
                "ORDER BY id"
            ).fetchall()
        return [Refusal(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def add_checkpoint(self, request: bytes) -> WitnessResponse:
        """Handle one add-checkpoint request body."""
        origin = None
        try:
            if len(request) > MAX_BODY:
                raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
            old, proof, note = _parse_request(request)
            origin = note.split("\n", 1)[0]
            verifier = self.logs.get(origin)
            if verifier is None:
                raise _Refused(HTTPStatus.NOT_FOUND, f"unknown log {origin!r}")
            try:
                checkpoint = open_checkpoint(note, verifier, origin)
            except InvalidNote as exc:
                raise _Refused(HTTPStatus.FORBIDDEN, f"log signature: {exc}") from None
            if old > checkpoint.size:
                raise _Refused(HTTPStatus.BAD_REQUEST, "old size is larger than the checkpoint")
            body = note[: note.index("\n\n") + 1]
            line = self._advance(origin, old, proof, checkpoint.size, checkpoint.root, body)
            return WitnessResponse(200, "text/plain; charset=utf-8", line.encode())
        except _Refused as exc:
            self._keep(origin, exc, request)
            body = exc.body if exc.body is not None else (exc.reason + "\n").encode()
            ctype = SIZE_TYPE if exc.status == HTTPStatus.CONFLICT else "text/plain; charset=utf-8"
            return WitnessResponse(int(exc.status), ctype, body)

    def _advance(
        self, origin: str, old: int, proof: list[bytes], size: int, root: bytes, body: str
    ) -> str:
        # One writer at a time in this process, and BEGIN IMMEDIATE against other processes:
        # two requests must not both advance from the same state.
        with self._lock, self._connect() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT size, root FROM witness_log WHERE origin = ?", [origin]
                ).fetchone()
                last_size, last_root = (0, b"") if row is None else (row[0], bytes(row[1]))
                if old != last_size:
                    raise _Refused(
                        HTTPStatus.CONFLICT,
                        f"old size {old} is not the size last cosigned ({last_size})",
                        f"{last_size}\n".encode(),
                    )
                if old == size and old > 0:
                    if proof or not hmac.compare_digest(root, last_root):
                        raise _Refused(
                            HTTPStatus.CONFLICT,
                            f"a different root for size {size}: the log forked",
                            f"{last_size}\n".encode(),
                        )
                elif old > 0:
                    try:
                        verify_consistency(old, size, last_root, root, proof)
                    except InvalidProof as exc:
                        raise _Refused(
                            HTTPStatus.UNPROCESSABLE_ENTITY,
                            f"not consistent with size {old}: {exc}",
                        ) from None
                elif proof:
                    raise _Refused(HTTPStatus.BAD_REQUEST, "a proof from size 0 must be empty")
                db.execute(
                    "INSERT INTO witness_log (origin, size, root, note, updated_ns) "
                    "VALUES (?,?,?,?,?) ON CONFLICT (origin) DO UPDATE SET size = excluded.size, "
                    "root = excluded.root, note = excluded.note, updated_ns = excluded.updated_ns",
                    [origin, size, root, body, time.time_ns()],
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        # Signed only once the new state is durable.
        return self.signer.cosign(body).line()

    def _keep(self, origin: str | None, refused: _Refused, request: bytes) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO witness_refused (received_ns, origin, status, reason, request) "
                "VALUES (?,?,?,?,?)",
                [time.time_ns(), origin, int(refused.status), refused.reason, request[:MAX_BODY]],
            )


def _parse_request(request: bytes) -> tuple[int, list[bytes], str]:
    try:
        text = request.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(HTTPStatus.BAD_REQUEST, "request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        raise _Refused(HTTPStatus.BAD_REQUEST, "request must start with 'old <size>'")
    size = lines[0][4:]
    if not size.isdigit() or (size != "0" and size.startswith("0")) or len(size) > 20:
        raise _Refused(HTTPStatus.BAD_REQUEST, "old size is not a canonical decimal")
    if len(lines) - 1 > MAX_PROOF:
        raise _Refused(HTTPStatus.BAD_REQUEST, "consistency proof is too long")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            h = b""
        if len(h) != 32:
            raise _Refused(HTTPStatus.BAD_REQUEST, "proof lines must be base64 SHA-256 hashes")
        proof.append(h)
    return int(size), proof, note


class _Handler(BaseHTTPRequestHandler):
    server_version = "coop-witness/1"
    witness: Witness

    def do_POST(self):  # noqa: N802 - http.server's naming
        if self.path != "/add-checkpoint":
            return self._send(WitnessResponse(404, "text/plain", b"not found\n"))
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._send(WitnessResponse(411, "text/plain", b"Content-Length required\n"))
        if not 0 <= length <= MAX_BODY:
            return self._send(WitnessResponse(413, "text/plain", b"request too large\n"))
        return self._send(self.witness.add_checkpoint(self.rfile.read(length)))

    def do_GET(self):  # noqa: N802
        self._send(WitnessResponse(405, "text/plain", b"use POST /add-checkpoint\n"))

    def _send(self, response: WitnessResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


def make_server(witness: Witness, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Return an HTTP server for the witness (call serve_forever); port 0 picks a free one."""
    handler = type("WitnessHandler", (_Handler,), {"witness": witness})
    return ThreadingHTTPServer((host, port), handler)
