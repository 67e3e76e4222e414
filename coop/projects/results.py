"""A project's results and their proof, both bound to one published checkpoint.

The results file and the proof file are downloaded separately, so both are cut at the same
tree size: the answers whose ledger entries the checkpoint covers. Answers given after it come
with the next checkpoint. Rows and proof are streamed (memory flat in the number of answers).
"""

from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from coop.audit import ledger as app_ledger
from coop.db import database
from coop.errors import NotFound, Unavailable
from coop.projects.models import Project
from ledger.entry import rfc3339_ns
from ledger.results import ResultsFormat, iter_result_cells, make_proof
from ledger.store import LedgerCheckpoint


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
    " a.uncertainty_ns, a.sha256 FROM answer a"
    " JOIN item i ON i.id = a.item_id JOIN \"user\" u ON u.id = a.member_id"
    " WHERE a.project_id = {p} AND a.ledger_index > {p} AND a.ledger_index < {p}"
    " ORDER BY a.ledger_index LIMIT {p}"
)
_INDEXES_SQL = (
    "SELECT ledger_index FROM answer WHERE project_id = {p} AND ledger_index > {p}"
    " AND ledger_index < {p} ORDER BY ledger_index LIMIT {p}"
)


def _pages(sql: str, project: Project, cut: Cut) -> Iterator[list[tuple]]:
    """Yield the rows of sql (the ledger index first) for the answers below the cut, by pages."""
    sql = sql.format(p=database.param)
    last = -1
    while True:
        page = database.execute_sql(sql, (project.id, last, cut.size, BATCH)).fetchall()
        if not page:
            return
        yield page
        last = page[-1][0]


def cells(project: Project, cut: Cut) -> Iterator[tuple]:
    """Yield the results rows of the project's answers covered by the cut, as FIELDS cells.

    The stored answer text is the answer's canonical JSON already (submit_answer stores
    answer_bytes), so it goes out as it is.
    """
    for page in _pages(_CELLS_SQL, project, cut):
        for index, external_id, data, member, seconds, state, unix_ns, unc_ns, sha256 in page:
            yield (external_id, data, member, seconds, state, index, rfc3339_ns(unix_ns),
                   -(-unc_ns // 1_000_000), sha256)  # fmt: skip


def results_file(project: Project, fmt: ResultsFormat, cut: Cut) -> Iterator[bytes]:
    """Yield the results file (CSV or JSON Lines) in blocks of bytes."""
    return iter_result_cells(cells(project, cut), fmt)


def proof_file(project: Project, cut: Cut) -> Iterator[bytes]:
    """Yield the proof file binding every row of the same cut to its checkpoint."""
    indexes = (row[0] for page in _pages(_INDEXES_SQL, project, cut) for row in page)
    return make_proof(app_ledger.get_ledger(), indexes, cut.note)
