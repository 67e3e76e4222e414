"""`coop ledger verify` reports a row edited by hand in the database's own shell (sqlite3, psql)
as "tampered at index N" with the reason, in one line and a non-zero exit, never a traceback:
text where a number or a blob belongs (SQLite stores any type in any column), bytes that are not
an entry, an emptied checkpoint note, and app rows that no longer hold what their entry says."""

import subprocess

import pytest

from coop.audit.ledger import get_ledger
from coop.market import operations as market_ops


@pytest.fixture
def recorded(app, make_member, make_task):
    """A few ledger entries (claims) and the checkpoints their commits published."""
    for _ in range(4):
        market_ops.claim_task(make_member(), make_task().id)
    assert get_ledger().size() == 4


def _shell(app, sql: str) -> None:
    """Run sql in the database's own command-line shell, as someone tampering would."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        command = ["sqlite3", url.removeprefix("sqlite:///"), sql]
    else:
        command = ["psql", "-v", "ON_ERROR_STOP=1", "-q", url, "-c", sql]
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def _verify(runner):
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    return result.output.strip()


SQLITE_EDITS = [
    ("UPDATE ledger_entry SET unix_ns = 'abc' WHERE idx = 2", 2, "unix_ns column holds text"),
    ("UPDATE ledger_entry SET bytes = 'abc' WHERE idx = 1", 1, "where a blob belongs"),
    ("UPDATE ledger_entry SET leaf_hash = 42 WHERE idx = 3", 3, "where a blob belongs"),
    ("UPDATE ledger_entry SET kind = x'ff00' WHERE idx = 2", 2, "where text belongs"),
    ("UPDATE ledger_hash SET hash = 'abc' WHERE stored_index = 2", 1, "stored hash 2 holds"),
    ("UPDATE ledger_checkpoint SET root = 'abc' WHERE size = 2", 1, "where a blob belongs"),
    ("UPDATE ledger_checkpoint SET note = x'ff' WHERE size = 2", 1, "where text belongs"),
    ("UPDATE event SET ledger_index = 'abc' WHERE ledger_index = 1", -1, "event"),
    ("UPDATE event SET unix_ns = 'abc' WHERE ledger_index = 1", 1, "another time"),
]

ANY_BACKEND_EDITS = [
    ("UPDATE ledger_entry SET bytes = x'ff' WHERE idx = 1", 1, "do not follow the entry format"),
    ("UPDATE ledger_checkpoint SET note = '' WHERE size = 3", 2, "note of size 3 does not match"),
    ("UPDATE event SET data = 'not json' WHERE ledger_index = 1", 1, "differs from the entry"),
]


@pytest.mark.parametrize(("sql", "index", "reason"), SQLITE_EDITS)
def test_text_where_a_number_or_blob_belongs_is_tampering(
    app, backend, runner, recorded, sql, index, reason
):
    if backend != "sqlite":
        pytest.skip("PostgreSQL enforces column types: such a row cannot be written")
    _shell(app, sql)
    message = _verify(runner)
    assert f"tampered at index {index}:" in message if index >= 0 else "tampered" in message
    assert reason in message, message


@pytest.mark.parametrize(("sql", "index", "reason"), ANY_BACKEND_EDITS)
def test_edits_either_backend_allows_are_tampering(app, runner, recorded, sql, index, reason):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        sql = sql.replace("x'ff'", "'\\xff'::bytea")
    _shell(app, sql)
    message = _verify(runner)
    assert f"tampered at index {index}:" in message and reason in message, message


def test_an_untouched_ledger_verifies(runner, recorded):
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 4 entries")
