"""Witnesses (C2SP tlog-witness): after publication the log submits its checkpoint, with a
consistency proof from the size each witness last cosigned, and keeps the cosignatures.

COOP_WITNESSES lists them, one per line or separated by commas, each as
``<verifier key> <URL>`` (the name is the key's). A witness that is down or slow only delays its
cosignature: the call has a short timeout, the failure is logged, and `coop tick` tries again.
"""

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import peewee
from flask import current_app

from coop.audit import ledger as app_ledger
from coop.db import write_transaction
from coop.models import WitnessCosignature
from ledger.note import InvalidNote
from ledger.witness import CosignatureVerifier, WitnessConflict, WitnessError, add_checkpoint


@dataclass(frozen=True)
class WitnessConfig:
    """One configured witness: its verifier key (which names it) and its URL."""

    verifier: CosignatureVerifier
    url: str

    @property
    def name(self) -> str:
        return self.verifier.name


def parse_witnesses(text: str) -> list[WitnessConfig]:
    """Parse COOP_WITNESSES; raise ValueError (for the operator) naming the wrong entry."""
    witnesses = []
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        parts = item.split()
        try:
            if len(parts) != 2 or not parts[1].startswith(("http://", "https://")):
                raise InvalidNote("expected '<verifier key> <http(s) URL>'")
            witnesses.append(WitnessConfig(CosignatureVerifier.parse(parts[0]), parts[1]))
        except InvalidNote as exc:
            raise ValueError(f"COOP_WITNESSES entry {item.strip()!r}: {exc}") from None
    names = [w.name for w in witnesses]
    if len(set(names)) != len(names):
        raise ValueError("COOP_WITNESSES names a witness twice")
    return witnesses


def configured(app=None) -> list[WitnessConfig]:
    app = app or current_app
    return parse_witnesses(app.config.get("WITNESSES") or "")


def _last_cosigned(name: str) -> int:
    size = (
        WitnessCosignature.select(peewee.fn.MAX(WitnessCosignature.size))
        .where(WitnessCosignature.witness == name)
        .scalar()
    )
    return size or 0


def _body(note: str) -> str:
    return note[: note.index("\n\n") + 1]


def _request(witness: WitnessConfig, old: int, size: int, note: str):
    """Return a call that submits note to witness from old: the proof is read here, and
    the call itself touches only the network (so it may run in another thread)."""
    ledger = app_ledger.get_ledger()
    proof = list(ledger.consistency_proof(old, size).hashes) if 0 < old < size else []
    timeout = float(current_app.config.get("WITNESS_TIMEOUT", 2.0))
    return partial(add_checkpoint, witness.url, old, proof, note, timeout=timeout)


def _own_line(witness: WitnessConfig, note: str, answer: str) -> str:
    """Return the answer's line that is this witness's valid cosignature of note."""
    # A witness may answer several lines (one per key or algorithm); keep the one we know.
    problem = "no cosignature by its key"
    for line in answer.splitlines(keepends=True):
        try:
            witness.verifier.verify(_body(note), line)
        except InvalidNote as exc:
            problem = str(exc)
            continue
        return line
    raise WitnessError(f"{witness.name} answered a bad cosignature: {problem}")


def _store(witness: WitnessConfig, checkpoint, answer: str) -> str:
    line = _own_line(witness, checkpoint.note, answer)
    with write_transaction():
        WitnessCosignature.insert(
            witness=witness.name, size=checkpoint.size, line=line
        ).on_conflict_ignore().execute()
    return line


def _resolve(witness: WitnessConfig, checkpoint, first: Future) -> str:
    """Finish one witness's submission: retry once on a conflict, check and store the line."""
    try:
        answer = first.result()
    except WitnessConflict as conflict:
        # It holds another size than we remember (our row was lost, or another process was
        # first): prove consistency from the size it holds, once.
        if conflict.size > checkpoint.size:
            raise WitnessError(
                f"{witness.name} holds size {conflict.size}, beyond ours ({checkpoint.size})"
            ) from None
        answer = _request(witness, conflict.size, checkpoint.size, checkpoint.note)()
    return _store(witness, checkpoint, answer)


def witness_latest() -> dict[str, str]:
    """Submit the latest published checkpoint to each witness lacking it; return failures.

    The witnesses are asked at once, each in its own thread, so a publication waits for the
    slowest of them (at most COOP_WITNESS_TIMEOUT, twice on a conflict), not for their sum.
    Failures are logged and returned by witness name; they never raise.
    """
    checkpoint = app_ledger.latest_checkpoint()
    failures: dict[str, str] = {}
    if checkpoint is None:
        return failures
    pending = []
    for witness in configured():
        old = _last_cosigned(witness.name)
        if old == checkpoint.size:
            continue
        if old > checkpoint.size:
            failures[witness.name] = f"{witness.name} already cosigned size {old}"
            continue
        pending.append((witness, _request(witness, old, checkpoint.size, checkpoint.note)))
    if pending:
        # Threads for the network only; proofs and rows stay on this thread's connection.
        with ThreadPoolExecutor(max_workers=len(pending)) as pool:
            futures = [(witness, pool.submit(call)) for witness, call in pending]
            for witness, future in futures:
                try:
                    _resolve(witness, checkpoint, future)
                except WitnessError as exc:
                    failures[witness.name] = str(exc)
    for name, reason in failures.items():
        current_app.logger.warning("witness %s: %s", name, reason)
    return failures


def cosignature_lines(size: int) -> list[str]:
    """Return the stored cosignature lines for the checkpoint of size, by witness name."""
    rows = (
        WitnessCosignature.select()
        .where(WitnessCosignature.size == size)
        .order_by(WitnessCosignature.witness)
    )
    return [row.line for row in rows]


def cosigners(size: int) -> tuple[str, ...]:
    """Return the names of the witnesses who cosigned the checkpoint of size."""
    rows = (
        WitnessCosignature.select(WitnessCosignature.witness)
        .where(WitnessCosignature.size == size)
        .order_by(WitnessCosignature.witness)
    )
    return tuple(row.witness for row in rows)


def cosigned_note(checkpoint) -> str:
    """Return a published checkpoint's note with its witnesses' cosignature lines appended."""
    # Cosignatures are more signature lines of the same note (C2SP tlog-cosignature).
    return checkpoint.note + "".join(cosignature_lines(checkpoint.size))
