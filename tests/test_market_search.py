"""Text search on the task board: words in title or description (French and English, any
case, as prefixes), combined with the filters and the pages, on the index of migration m0026
(FTS5 on SQLite, a GIN tsvector index on PostgreSQL); the index follows edits and deletions;
what a person types is never query syntax nor SQL."""

import pytest
from conftest import login_client
from test_market_board import titles

from coop.db import database, is_sqlite
from coop.market import search
from coop.models import Task, TaskState


@pytest.fixture
def board(app, make_member, make_task):
    make_task(title="T-audio", description="Transcribe a 5-minute English interview.",
              category="transcription", price_cents=1500)
    make_task(title="T-francais", description="Transcrire un entretien en français, à Lyon.",
              category="transcription", price_cents=2000)
    make_task(title="T-bikes", description="Draw boxes around bicycles.")
    make_task(title="T-gone", description="Transcribe the meeting.", state=TaskState.CANCELLED)
    return login_client(app, make_member())


def found(web, query: str, **filters) -> list[str]:
    response = web.get("/tasks", query_string={"q": query, **filters})
    assert response.status_code == 200
    return sorted(titles(response))


def test_search_finds_words_in_title_and_description(board):
    assert found(board, "interview") == ["T-audio"]
    assert found(board, "bikes") == ["T-bikes"]  # the title
    assert found(board, "ENTRETIEN lyon") == ["T-francais"]  # every word, any case
    assert found(board, "transcri") == ["T-audio", "T-francais"]  # prefixes; only open tasks
    assert found(board, "français") == ["T-francais"]


def test_an_empty_query_is_no_filter(board):
    assert found(board, "") == ["T-audio", "T-bikes", "T-francais"]
    assert found(board, "   ") == ["T-audio", "T-bikes", "T-francais"]


def test_a_query_that_matches_nothing_says_so(board):
    page = board.get("/tasks?q=spreadsheet").get_data(as_text=True)
    assert "No open task matches “spreadsheet” with these filters." in page
    assert titles(board.get("/tasks?q=spreadsheet")) == []


def test_search_combines_with_filters_sort_and_pages(app, board, make_task):
    assert found(board, "transcri", category="image_labelling") == []
    assert found(board, "around", category="image_labelling") == ["T-bikes"]
    response = board.get("/tasks?q=transcri&sort=pay")
    assert titles(response) == ["T-francais", "T-audio"]
    for n in range(25):
        make_task(title=f"T-many-{n:02}", description="Moderate comments.", category="moderation")
    first = board.get("/tasks?q=moderate&category=moderation&sort=newest")
    page = first.get_data(as_text=True)
    assert len(titles(first)) == 20
    # The pager keeps the query.
    assert "q=moderate" in page and "page=2" in page
    second = titles(board.get("/tasks?q=moderate&category=moderation&sort=newest&page=2"))
    assert len(second) == 5 and not set(second) & set(titles(first))


def test_the_index_follows_edits_and_deletions(app, board):
    task = Task.get(Task.title == "T-bikes")
    Task.update(description="Outline every tram.").where(Task.id == task.id).execute()
    assert found(board, "bicycles") == []
    assert found(board, "tram") == ["T-bikes"]
    Task.delete().where(Task.id == task.id).execute()
    assert found(board, "tram") == []


@pytest.mark.parametrize(
    "query",
    [
        '"', "'", "*", "a*", "NEAR(", "title:bikes", "-bikes", "^bikes", "bikes OR x",
        "interview AND", "(((", "'; DROP TABLE task; --", '") OR 1=1 --', "\\", "& | ! :*",
        "x" * 100,
    ],
)
def test_query_syntax_and_sql_in_the_box_are_plain_words(board, query):
    response = board.get("/tasks", query_string={"q": query})
    assert response.status_code == 200
    assert Task.select().count() == 4  # nothing dropped


def test_operators_do_not_widen_a_search(board):
    assert found(board, "bicycles OR interview") == []
    assert found(board, "-bicycles") == ["T-bikes"]
    assert found(board, "interview*") == ["T-audio"]


def test_a_too_long_query_is_refused_with_a_message(board):
    response = board.get("/tasks", query_string={"q": "x" * 101})
    assert response.status_code == 400
    assert "longer than 100 characters" in response.get_data(as_text=True)


def test_the_words_become_quoted_terms():
    assert search.terms('Ré"sumé* OR l\'eau_x') == ["ré", "sumé", "or", "l", "eau", "x"]
    assert search.fts5_query(["ré", "or"]) == '"ré"* "or"*'
    assert search.tsquery(["ré", "or"]) == "'ré':* & 'or':*"
    assert len(search.terms(" ".join("w" * 3 for _ in range(20)))) == search.MAX_TERMS


def test_the_search_uses_the_index(app, board):
    query = Task.select(Task.id).where(search.matching(["interview"]))
    sql, params = query.sql()
    plan = " ".join(
        str(row) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql if is_sqlite()
                                                 else "EXPLAIN " + sql, params)
    )
    if is_sqlite():
        assert "VIRTUAL TABLE INDEX" in plan, plan
    else:
        database.execute_sql("SET enable_seqscan = off")  # four rows: make the choice visible
        plan = " ".join(
            str(row) for row in database.execute_sql("EXPLAIN " + sql, params)
        )
        database.execute_sql("SET enable_seqscan = on")
        assert "task_search" in plan, plan


def test_many_matches_give_the_same_page_as_few(board, monkeypatch):
    """On SQLite a search with many matches walks the board's index instead of reading the
    matches by rowid (coop/market/search.py): both ways find the same tasks in the same order."""
    few = titles(board.get("/tasks?q=transcri&sort=pay"))
    monkeypatch.setattr(search, "FEW_MATCHES", 0)
    assert titles(board.get("/tasks?q=transcri&sort=pay")) == few == ["T-francais", "T-audio"]
    assert found(board, "bicycles OR interview") == []
