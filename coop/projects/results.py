"""A project's results and their proof, both bound to one published checkpoint.

The results file and the proof file are downloaded separately, so both are cut at the same
tree size: the answers whose ledger entries the checkpoint covers. Answers given after it come
with the next checkpoint. Rows and proof are streamed. Each row also carries its item's gold
flag and aggregated answer, computed from the same rows (rejected ones left out) by the method
the client chose, so a client can recompute them from the file; they are not in the ledger,
so the proof does not cover them. Answers the board voided (an upheld fraud finding) are in
neither the rows nor the proof. The aggregates are computed before the first row (one small
object per item held in memory: Dawid–Skene needs every answer at once).
"""

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from coop.audit import ledger as app_ledger
from coop.audit import timestamps
from coop.db import database
from coop.errors import NotFound, Unavailable
from coop.models import CheckpointTimestamp
from coop.projects.models import AnswerState, Project
from coop.quality.aggregate import NOTHING, Method, Vote
from coop.quality.results import choose_method, item_votes
from ledger.entry import rfc3339_ns
from ledger.results import (
    ResultsFormat,
    answer_bytes,
    bound_text,
    iter_result_cells,
    make_proof,
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


# Rows per query: keyset pages by ledger index, so memory stays flat however many answers.
BATCH = 5000

# The driver's cursor, not peewee's query builder and row conversion: at 300,000 rows those
# were most of an export's time. Only the placeholder is interpolated.
_CELLS_SQL = (
    "SELECT a.ledger_index, i.external_id, a.data, u.pseudonym, a.seconds, a.state, a.unix_ns,"
    " a.uncertainty_ns, a.sha256, a.item_id, i.gold_state FROM answer a"
    " JOIN item i ON i.id = a.item_id JOIN \"user\" u ON u.id = a.member_id"
    " WHERE a.project_id = {p} AND a.state <> {p} AND a.ledger_index > {p}"
    " AND a.ledger_index < {p} ORDER BY a.ledger_index LIMIT {p}"
)
_INDEXES_SQL = (
    "SELECT ledger_index FROM answer WHERE project_id = {p} AND state <> {p}"
    " AND ledger_index > {p} AND ledger_index < {p} ORDER BY ledger_index LIMIT {p}"
)


def _pages(sql: str, project: Project, cut: Cut) -> Iterator[list[tuple]]:
    """Yield the rows of sql (the ledger index first) for the answers below the cut that the
    board did not void, by pages."""
    sql = sql.format(p=database.param)
    last = -1
    while True:
        page = database.execute_sql(
            sql, (project.id, AnswerState.VOIDED.value, last, cut.size, BATCH)
        ).fetchall()
        if not page:
            return
        yield page
        last = page[-1][0]


def cells(project: Project, cut: Cut, method: Method | None = None,
          votes: dict[int, Vote] | None = None) -> Iterator[tuple]:
    """Yield the results rows of the project's answers covered by the cut, as FIELDS cells
    (ledger.results.iter_result_cells): each with the interval the time-stamps up to the cut
    put around it, and its item's aggregate by the method (None: the project's default;
    votes: those aggregates already computed).

    The stored answer text is the answer's canonical JSON already (submit_answer stores
    answer_bytes), so it goes out as it is; an item's aggregate is encoded once.
    """
    cuts, bounds = timestamps.segments_upto(cut.size)
    texts = [(bound_text(after), bound_text(before)) for after, before in bounds]
    method = method or choose_method(project, None)
    if votes is None:
        votes = item_votes(project, method, cut.size)
    name = method.value
    aggregates: dict[int, tuple[str, float]] = {}
    for page in _pages(_CELLS_SQL, project, cut):
        for (index, external_id, data, member, seconds, state, unix_ns, unc_ns, sha256,
             item_id, gold_state) in page:  # fmt: skip
            after, before = texts[bisect_right(cuts, index)]
            aggregate = aggregates.get(item_id)
            if aggregate is None:
                vote = votes.get(item_id, NOTHING)
                text = "" if vote.answer is None else answer_bytes(vote.answer).decode("utf-8")
                aggregate = aggregates[item_id] = (text, round(float(vote.confidence), 4))
            yield (external_id, data, member, seconds, state, index, rfc3339_ns(unix_ns),
                   -(-unc_ns // 1_000_000), sha256, after, before, bool(gold_state),
                   aggregate[0], aggregate[1], name)  # fmt: skip


def results_file(
    project: Project, fmt: ResultsFormat, cut: Cut, method: Method | None = None,
    votes: dict[int, Vote] | None = None,
) -> Iterator[bytes]:
    """Yield the results file (CSV or JSON Lines) in blocks of bytes."""
    return iter_result_cells(cells(project, cut, method, votes), fmt)


def _indexes(project: Project, cut: Cut) -> Iterator[int]:
    for page in _pages(_INDEXES_SQL, project, cut):
        for (index,) in page:
            yield index


def proof_file(project: Project, cut: Cut) -> Iterator[bytes]:
    """Yield the proof file binding every row of the same cut to its checkpoint, with the
    time-stamps bounding the rows' times."""
    stamps = []
    if CheckpointTimestamp.select().where(CheckpointTimestamp.size <= cut.size).exists():
        stamps = timestamps.stamps_bounding_all(_indexes(project, cut), cut.size)
    return make_proof(app_ledger.get_ledger(), _indexes(project, cut), cut.note, stamps=stamps)
