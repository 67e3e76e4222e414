"""Watch a log from outside: what a client or a journalist runs from cron.

Each run fetches the log's checkpoint over HTTP, checks its signature (by a key known from
earlier runs or given) and its origin line, the witnesses' cosignatures when a policy is given,
and that the tree extends the one seen last time: the state file keeps that tree's compact
range (the hashes of the complete subtrees covering it), and the new root must be reached from
it with the new leaves' hashes read from the public tiles. A log that rewrote history, even
re-signed with its own key, cannot pass. Anything wrong raises `MonitorAlarm` and leaves the
state as it was, with the refused checkpoint kept beside it as evidence.

Standard library and ``cryptography`` only, like the verifiers.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .interval import check_stamps
from .merkle import InvalidProof, compact_root
from .note import Checkpoint, InvalidNote, Verifier, open_checkpoint, open_note
from .tiles import extend_from_tiles, frontier_from_tiles
from .tsa import InvalidTimestamp
from .witness.cosignature import CosignatureVerifier, check_witnesses

__all__ = [
    "STATE_FORMAT",
    "MonitorAlarm",
    "MonitorState",
    "Observation",
    "Unreachable",
    "check_log",
    "check_timestamps",
    "load_state",
    "log_url",
    "save_state",
]

STATE_FORMAT = "coop-ledger-monitor/1"
USER_AGENT = "coop-ledger-monitor/1"
# A checkpoint note is small; a tile is at most 256 hashes. Anything larger is not one.
MAX_CHECKPOINT_BYTES = 1 << 16
MAX_TILE_BYTES = 256 * 32
# Every stamp up to the checkpoint, each a signed note, a token with its certificates and a
# consistency proof: a few KiB each, one per TSA per interval.
MAX_TIMESTAMPS_BYTES = 1 << 24


class MonitorAlarm(Exception):
    """The log is not what it showed before, or not what it must be: the reason says which.

    note is the refused checkpoint, when one was fetched: evidence to keep.
    """

    def __init__(self, reason: str, note: str = ""):
        super().__init__(reason)
        self.note = note


class Unreachable(Exception):
    """The log could not be fetched (network, HTTP error): nothing was learned."""


Fetch = Callable[[str, int], bytes]


def _http_fetch(url: str, limit: int, timeout: float = 20.0) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"{url}: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise Unreachable(f"{url}: {exc}") from None
    if len(body) > limit:
        raise Unreachable(f"{url}: answer larger than {limit} bytes")
    return body


def log_url(url: str) -> str:
    """Return the log's prefix: the URL given, or its /ledger when the site's root is given."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url}")
    path = parts.path.rstrip("/") or "/ledger"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass
class MonitorState:
    """What the monitor saw last: the log, its keys, and the tree it committed to."""

    url: str
    keys: list[str] = field(default_factory=list)
    origin: str | None = None
    size: int = 0
    root: str = ""
    frontier: list[tuple[int, int, str]] = field(default_factory=list)
    checkpoint: str = ""

    def verifiers(self) -> list[Verifier]:
        return [Verifier.parse(k) for k in self.keys]

    def to_json(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "url": self.url,
            "keys": self.keys,
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "frontier": [list(item) for item in self.frontier],
            "checkpoint": self.checkpoint,
        }


def load_state(path: str | os.PathLike) -> MonitorState | None:
    """Return the saved state, None when the file does not exist yet.

    :raises MonitorAlarm: the file is not a monitor state (never silently start over).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise MonitorAlarm(f"cannot read the state file {path}: {exc}") from None
    try:
        if data["format"] != STATE_FORMAT:
            raise ValueError("unknown format")
        state = MonitorState(
            data["url"], list(data["keys"]), data["origin"], int(data["size"]), data["root"],
            [(int(lo), int(h), str(x)) for lo, h, x in data["frontier"]], data["checkpoint"],
        )  # fmt: skip
        state.verifiers()
    except (KeyError, TypeError, ValueError) as exc:
        raise MonitorAlarm(f"the state file {path} is not a monitor state: {exc}") from None
    return state


def _write_atomically(path: Path, text: str) -> None:
    """Replace path's contents all at once: a crash leaves the old state or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # the rename itself survives a power cut once the folder is synced
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def save_state(path: str | os.PathLike, state: MonitorState) -> None:
    _write_atomically(Path(path), json.dumps(state.to_json(), indent=1) + "\n")


def save_evidence(path: str | os.PathLike, note: str, reason: str) -> Path:
    """Keep a refused checkpoint beside the state file; return where."""
    target = Path(f"{path}.alarm")
    _write_atomically(target, json.dumps({"reason": reason, "checkpoint": note}, indent=1))
    return target


def check_timestamps(
    checkpoint: Checkpoint, verifiers: Sequence[Verifier], fetch: Callable[[str], bytes]
) -> str:
    """Verify the RFC 3161 time-stamps the log publishes for its checkpoints up to this one
    (``timestamps?size=N``): each stamp's checkpoint signed by the log, its token valid and
    imprinting that checkpoint, its tree a prefix of this one. Returns a line for the report.

    :raises MonitorAlarm: a published stamp does not verify.
    """
    try:
        body = fetch(f"timestamps?size={checkpoint.size}")
    except Unreachable:
        return "TSA tokens: none published (the log serves no timestamps)"
    try:
        stamps = json.loads(body)["timestamps"]
        checked = check_stamps(stamps, verifiers, checkpoint.size, checkpoint.root)
    except (ValueError, KeyError, TypeError, InvalidProof, InvalidNote, InvalidTimestamp) as exc:
        raise MonitorAlarm(f"time-stamps refused: {exc}") from None
    if not checked:
        return "TSA tokens: none published yet"
    latest = max(checked, key=lambda stamp: stamp.size)
    return (
        f"TSA tokens: {len(checked)} verified; the latest, by {latest.tsa}, bounds the first "
        f"{latest.size} entries"
    )


@dataclass(frozen=True)
class Observation:
    """What one run established."""

    checkpoint: Checkpoint
    previous_size: int
    cosigned_by: tuple[str, ...]
    learned_keys: tuple[str, ...]
    timestamps: str


def _learn_keys(
    message: str, known: Sequence[Verifier], fetch_text: Callable[[str], str]
) -> list[Verifier]:
    """Return new keys of the log that signed this checkpoint beside a known key (a rotation).

    A key the log serves is accepted only when its signature is on a checkpoint that a key
    we already trust also signed: the old key vouches for the new.
    """
    names = {v.name for v in known}
    strangers = [s for s in open_note(message, known).unverified if s.name in names]
    if not strangers:
        return []
    learned = []
    for line in fetch_text("keys").splitlines():
        try:
            key = Verifier.parse(line)
        except InvalidNote:
            continue
        if any(s.name == key.name and s.key_id == key.key_id for s in strangers):
            open_note(message, [key])  # raises if the signature is not this key's
            learned.append(key)
    return learned


def check_log(
    state: MonitorState,
    fetch: Fetch = _http_fetch,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int = 0,
) -> tuple[MonitorState, Observation]:
    """Fetch the log's checkpoint and tiles, check them against state; return the new state.

    :raises MonitorAlarm: naming what is wrong (signature, origin, cosignatures, a tree that
        does not extend the one seen before).
    :raises Unreachable: the log did not answer.
    """
    base = state.url

    def fetch_text(name: str) -> str:
        try:
            return fetch(f"{base}/{name}", MAX_CHECKPOINT_BYTES).decode("utf-8")
        except UnicodeDecodeError:
            raise MonitorAlarm(f"{base}/{name} is not UTF-8 text") from None

    def fetch_tile(path: str) -> bytes:
        return fetch(f"{base}/{path}", MAX_TILE_BYTES)

    def fetch_stamps(path: str) -> bytes:
        return fetch(f"{base}/{path}", MAX_TIMESTAMPS_BYTES)

    if not state.keys:
        # Trust on first use, said in the report; pin it with --key.
        state.keys = [str(Verifier.parse(fetch_text("key")))]
    note = fetch_text("checkpoint")
    try:
        return _check_note(state, note, fetch_text, fetch_tile, fetch_stamps, witnesses, quorum)
    except MonitorAlarm as alarm:
        alarm.note = note
        raise


def _check_note(state, note, fetch_text, fetch_tile, fetch_stamps, witnesses, quorum):
    known = state.verifiers()
    try:
        checkpoint = open_checkpoint(note, known, state.origin)
        learned = _learn_keys(note, known, fetch_text)
    except InvalidNote as exc:
        raise MonitorAlarm(f"checkpoint refused: {exc}") from None
    cosigned: list[str] = []
    if quorum > 0:
        try:
            cosigned = check_witnesses(note, witnesses, quorum)
        except InvalidNote as exc:
            raise MonitorAlarm(f"checkpoint refused: {exc}") from None
    old = state.size
    if checkpoint.size < old:
        raise MonitorAlarm(f"the log shrank: size {checkpoint.size}, {old} seen before")
    try:
        if state.checkpoint:
            frontier = [(lo, h, base64.b64decode(x)) for lo, h, x in state.frontier]
            stack = extend_from_tiles(frontier, old, checkpoint.size, fetch_tile)
        else:
            stack = frontier_from_tiles(checkpoint.size, fetch_tile)
    except InvalidProof as exc:
        raise MonitorAlarm(f"tiles refused: {exc}") from None
    except (binascii.Error, ValueError) as exc:
        raise MonitorAlarm(f"the state file's tree is damaged: {exc}") from None
    if not hmac.compare_digest(compact_root(stack), checkpoint.root):
        if state.checkpoint:
            raise MonitorAlarm(
                f"the checkpoint of size {checkpoint.size} is not consistent with the size "
                f"{old} seen before: history was rewritten, or the tiles do not match it"
            )
        raise MonitorAlarm(f"the tiles do not rebuild the root of size {checkpoint.size}")
    timestamps = check_timestamps(checkpoint, known, fetch_stamps)
    new_state = MonitorState(
        url=state.url,
        keys=state.keys + [str(k) for k in learned if str(k) not in state.keys],
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=base64.b64encode(checkpoint.root).decode(),
        frontier=[(lo, h, base64.b64encode(x).decode()) for lo, h, x in stack],
        checkpoint=note,
    )
    observed = Observation(
        checkpoint, old, tuple(cosigned), tuple(str(k) for k in learned), timestamps
    )
    return new_state, observed
