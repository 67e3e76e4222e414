"""A project's results and their proof, both bound to one published checkpoint.

The results file and the proof file are downloaded separately, so both are cut at the same
tree size: the answers whose ledger entries the checkpoint covers. Answers given after it come
with the next checkpoint. Rows and proof are streamed (memory flat in the number of answers).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from coop.audit import ledger as app_ledger
from coop.errors import NotFound, Unavailable
from coop.models import User
from coop.projects.models import Answer, Item, Project
from ledger.entry import rfc3339_ns
from ledger.results import (
    AnswerStatus,
    ResultRow,
    ResultsFormat,
    iter_results,
    make_proof,
    uncertainty_ms,
)
from ledger.store import LedgerCheckpoint

BATCH = 1000


@dataclass(frozen=True)
class Cut:
    """The checkpoint a results download is bound to."""

    size: int
    note: str


def cut_at(size: int | None = None) -> Cut:
    """Return the published checkpoint of that size, or the latest one.

    :raises NotFound: no checkpoint of that size was published.
    :raises Unavailable: no checkpoint is published yet.
    """
    if size is None:
        latest = app_ledger.latest_checkpoint()
        if latest is None:
            raise Unavailable(_("No checkpoint has been published yet."))
        return Cut(latest.size, latest.note)
    row = LedgerCheckpoint.get_or_none(LedgerCheckpoint.size == size)
    if row is None:
        raise NotFound(_("No checkpoint of size %(size)s was published.", size=size))
    return Cut(size, row.note)


def _answers(project: Project, cut: Cut) -> Iterator[tuple]:
    """Yield (answer, external id, pseudonym) below the cut, by ledger index, in batches."""
    last = -1
    while True:
        batch = list(
            Answer.select(
                Answer.data, Answer.seconds, Answer.state, Answer.ledger_index, Answer.unix_ns,
                Answer.uncertainty_ns, Answer.sha256, Item.external_id, User.pseudonym,
            )
            .join(Item, on=(Answer.item == Item.id))
            .switch(Answer)
            .join(User, on=(Answer.member == User.id))
            .where(
                (Answer.project == project.id)
                & (Answer.ledger_index > last)
                & (Answer.ledger_index < cut.size)
            )
            .order_by(Answer.ledger_index)
            .limit(BATCH)
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].ledger_index


def rows(project: Project, cut: Cut) -> Iterator[ResultRow]:
    """Yield the results rows of the project's answers covered by the cut."""
    for a in _answers(project, cut):
        yield ResultRow(
            external_id=a.item.external_id,
            answer=json.loads(a.data),
            member=a.member.pseudonym,
            seconds=a.seconds,
            status=AnswerStatus(a.state),
            ledger_index=a.ledger_index,
            timestamp=rfc3339_ns(a.unix_ns),
            uncertainty_ms=uncertainty_ms(a.uncertainty_ns),
            answer_sha256=a.sha256,
        )


def results_file(project: Project, fmt: ResultsFormat, cut: Cut) -> Iterator[bytes]:
    """Yield the results file (CSV or JSON Lines) in blocks of bytes."""
    return iter_results(rows(project, cut), fmt)


def proof_file(project: Project, cut: Cut) -> Iterator[bytes]:
    """Yield the proof file binding every row of the same cut to its checkpoint."""
    indexes = (a.ledger_index for a in _answers(project, cut))
    return make_proof(app_ledger.get_ledger(), indexes, cut.note)
