"""Text search over task titles and descriptions, on the index migration m0026 built.

What a person types is never SQL, nor index query syntax: it is cut into words (letters and
digits), each word becomes a quoted prefix term, every term must match, and the whole query
goes to the database as a bound parameter. "audio transcri" finds "Audio transcription".
"""

import re

import peewee

from coop.db import database, is_sqlite
from coop.models import Task

MAX_TERMS = 8
MAX_QUERY_LENGTH = 100
# Below this many matches SQLite reads them by rowid; above, it walks the board's index.
FEW_MATCHES = 2_000
# Letters and digits of any script; anything else (quotes, *, :, &, -, NEAR, ...) separates.
_WORD = re.compile(r"[^\W_]+")


def terms(query: str) -> list[str]:
    """Return the words of query, lowercased, at most MAX_TERMS of them."""
    return [word.lower() for word in _WORD.findall(query or "")][:MAX_TERMS]


def fts5_query(words: list[str]) -> str:
    """Return an FTS5 MATCH expression: every word a quoted prefix (so no operator survives)."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def tsquery(words: list[str]) -> str:
    """Return a PostgreSQL tsquery text: every word a quoted prefix lexeme, all required."""
    return " & ".join("'" + word.replace("'", "''").replace("\\", "\\\\") + "':*" for word in words)


def _few_matches(match: str) -> bool:
    """Tell whether an FTS5 query matches at most FEW_MATCHES tasks (it stops counting there)."""
    (count,) = database.execute_sql(
        "SELECT COUNT(*) FROM (SELECT rowid FROM task_fts WHERE task_fts MATCH ? LIMIT ?)",
        (match, FEW_MATCHES + 1),
    ).fetchone()
    return count <= FEW_MATCHES


def matching(words: list[str]) -> peewee.Expression:
    """Return a condition on Task true for the tasks whose title or description has every word."""
    if is_sqlite():
        match = fts5_query(words)
        matches = peewee.SQL("(SELECT rowid FROM task_fts WHERE task_fts MATCH ?)", [match])
        if _few_matches(match):
            # Reading a few hundred matches by rowid and sorting them is cheapest.
            return Task.id.in_(matches)
        # Many matches: fetching each by rowid and sorting costs 2 µs a match (50 ms for a
        # word in a quarter of 100,000 tasks). The unary "+" makes SQLite walk the board's
        # index in the page's order instead, keeping the rows whose id is in the (hashed) set
        # of matches: it stops at the page, and is bounded by the open tasks whatever the word.
        return peewee.NodeList((peewee.SQL("+"), Task.id), glue="").in_(matches)
    # The same expression as the GIN index of m0026, so PostgreSQL can use it.
    document = peewee.NodeList(
        (
            peewee.SQL("to_tsvector('simple', "),
            Task.title,
            peewee.SQL(" || ' ' || "),
            Task.description,
            peewee.SQL(")"),
        ),
        glue="",
    )
    query = peewee.fn.to_tsquery(peewee.SQL("'simple'"), tsquery(words))
    return peewee.Expression(document, "@@", query)


def sorted_after_matching(order: tuple) -> tuple:
    """Return a board order PostgreSQL applies after finding the matches (SQLite: unchanged).

    PostgreSQL underestimates how many tasks a common word matches, then walks the sort
    column's index computing each task's tsvector until it has a page (95 ms for a word in 4%
    of 100,000 tasks). Sorting by an expression of the column (`+ 0`, `+ interval '0'`) that no
    index gives leaves it one plan: the matches from the GIN index, then a sort (13 ms).
    """
    if is_sqlite():
        return order
    first, *rest = order
    column = first.node
    zero = peewee.SQL("interval '0'") if isinstance(column, peewee.DateTimeField) else 0
    shifted = peewee.NodeList((column, peewee.SQL("+"), zero))
    return (shifted.desc() if first.direction == "DESC" else shifted.asc(), *rest)

