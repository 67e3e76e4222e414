"""The app's ledger: the signing key, the NTP clock and the one Ledger every operation appends to.

The Ed25519 key lives apart from the data (coop/audit/keys.py); the clock polls NTP in
a background thread in server processes, so an append never waits on the network. Checkpoints
are published on the write side after a transaction that appended commits, at most once per
COOP_CHECKPOINT_INTERVAL seconds per process: the first commit after a quiet spell publishes at
once, later ones within the interval leave it to one publication at its end. Pages and
downloads read the latest published one and never sign.
"""

import threading
import time
from dataclasses import dataclass

from flask import current_app

from coop.audit import keys
from coop.db import after_commit, database
from ledger.note import Signer, Verifier
from ledger.store import Ledger

_EXTENSION = "coop_ledger"


@dataclass(frozen=True)
class CheckpointInfo:
    """A signed checkpoint: tree size, base64 root and the note text."""

    size: int
    root_b64: str
    note: str


def _state():
    return current_app.extensions[_EXTENSION]


def signer() -> Signer:
    """Return the signing key (loaded once per process)."""
    state = _state()
    if state.get("signer") is None:
        state["signer"] = keys.load_signer(current_app)
    return state["signer"]


def verifier_key() -> str:
    """Return the verifier key in note format: name+keyid+base64(0x01 ‖ public key)."""
    return str(signer().verifier)


def verifiers() -> list[Verifier]:
    """Return every key the log has signed with: the current first, then the retired ones."""
    return [signer().verifier, *keys.retired_verifiers(current_app)]


def rotate_key() -> Signer:
    """Sign with a new key from now on; the latest checkpoint is signed by both (handover)."""
    old = signer()
    publish_checkpoint()  # everything so far, under the old key

    def handover(new: Signer) -> None:
        get_ledger().add_checkpoint_signature(new)

    new = keys.rotate(current_app, old, handover)
    _state()["signer"] = new
    return new


def get_ledger() -> Ledger:
    return _state()["ledger"]


def origin() -> str:
    return current_app.config["LEDGER_ORIGIN"]


def _info(note: str) -> CheckpointInfo:
    _origin, size, root = note.split("\n", 3)[:3]
    return CheckpointInfo(int(size), root, note)


def publish_checkpoint() -> CheckpointInfo:
    """Sign and store a checkpoint of every committed entry unless one is stored; return it.

    The write side calls this once its appends have committed (see `publish_after_commit`),
    so reads only ever fetch what is published: a GET that signed would race other readers
    for the same new row.
    """
    return _info(get_ledger().checkpoint(signer(), origin()))


def latest_checkpoint() -> CheckpointInfo | None:
    """Return the latest published checkpoint, or None before the first (reads only)."""
    note = get_ledger().latest_checkpoint()
    return None if note is None else _info(note)


@dataclass(frozen=True)
class OutsideFailures:
    """Who outside did not answer a publication, with why: witnesses by name, TSAs by URL."""

    witnesses: dict[str, str]
    tsas: dict[str, str]


def publish_outside(info: CheckpointInfo) -> OutsideFailures:
    """Write the tiles of a published checkpoint, ask the witnesses to cosign it and, when
    one is due, the time-stamping authorities to time-stamp it.

    Failures are logged and returned, never raised; they are tried again next time.
    """
    from coop.audit.tiles import write_tiles
    from coop.audit.timestamps import timestamp_latest
    from coop.audit.witnesses import witness_latest

    write_tiles(info.size)
    witnesses = witness_latest()
    # After the witnesses: a TSA stamps what they have seen.
    return OutsideFailures(witnesses, timestamp_latest())


def _publish_quietly() -> None:
    # The change it follows has committed: a failure here must not turn that success into an
    # error page. The next write, or `coop tick`, publishes what this one could not.
    try:
        publish_outside(publish_checkpoint())
    except Exception:  # noqa: BLE001 - logged, and recovered by the next publication
        current_app.logger.exception("could not publish a ledger checkpoint")


def _publish_in_background(app, bound) -> None:
    """Publish the checkpoint a throttled commit left due (runs in the pending timer's thread)."""
    state = app.extensions[_EXTENSION]
    with state["lock"]:
        # Cleared before signing: a commit from here on finds no pending publication and
        # arranges its own, since this one may read the tree before that commit.
        state["pending"] = None
        state["published_at"] = time.monotonic()
    if database.obj is not bound:
        return  # the process bound another app's database meanwhile (tools, tests)
    with app.app_context():
        database.connect(reuse_if_open=True)
        try:
            _publish_quietly()
        finally:
            database.close()


def _publish_throttled() -> None:
    """Publish now, or arrange one publication at the end of the interval for every commit in it.

    Signing, writing tiles and asking witnesses cost several milliseconds: done for every
    commit, they were most of an answer's cost. A commit covered by a pending publication adds
    nothing; the delay until a checkpoint covers a committed entry stays under the interval
    (plus the publication's own time) while the process lives. The timer thread is not a
    daemon, so a process that exits still publishes first; one that is killed leaves it to the
    next write or `coop tick`, as before.
    """
    app = current_app._get_current_object()
    interval = app.config["CHECKPOINT_INTERVAL"]
    state = _state()
    with state["lock"]:
        if state["pending"] is not None:
            return
        wait = state["published_at"] + interval - time.monotonic()
        if interval > 0 and wait > 0:
            timer = threading.Timer(wait, _publish_in_background, args=(app, database.obj))
            timer.name = "coop-checkpoint"
            state["pending"] = timer
            timer.start()
            return
        state["published_at"] = time.monotonic()
    _publish_quietly()


def pending_publication() -> threading.Timer | None:
    """Return the timer of the publication this process has due, if any (tests join it)."""
    return _state()["pending"]


def publish_after_commit() -> None:
    """Publish a checkpoint once the current write transaction has committed (throttled)."""
    after_commit(_publish_throttled)


def _make_clock(app):
    """Return a clock for the configured NTP servers and the kernel's discipline (where the
    host has one), or None to record `synced: false`."""
    from ledger.kernel import kernel_reader

    servers = [s.strip() for s in app.config["NTP_SERVERS"].split(",") if s.strip()]
    kernel = kernel_reader() if app.config.get("KERNEL_CLOCK") else None
    if not servers and kernel is None:
        return None
    from ledger.clock import Clock

    clock = Clock(servers, kernel=kernel)
    if not app.testing:
        clock.start_background()
    return clock


def init_app(app) -> None:
    from coop.audit import timestamps, witnesses

    # A mistyped COOP_WITNESSES or COOP_TSA_URLS stops the start, not the first publication.
    witnesses.configured(app)
    timestamps.configured(app)
    keys.check_location(app)  # production refuses a key that a data backup would carry
    app.extensions[_EXTENSION] = {
        "ledger": Ledger(_make_clock(app)),
        "signer": None,
        # Throttled publication (see _publish_throttled): when this process last published,
        # and the timer of the one it has due.
        "lock": threading.Lock(),
        "published_at": float("-inf"),
        "pending": None,
    }
