"""The French catalogue is complete and sound, and French pages come out in French.

Every message has a non-fuzzy, non-empty translation whose `%(name)s` placeholders are exactly
the English ones; a browser asking for French (Accept-Language or the language switch) gets the
home page, the sign-in page and a member's task board in French.
"""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import login_client

FOLDER = Path(__file__).resolve().parent.parent / "coop" / "translations" / "fr" / "LC_MESSAGES"
PO = FOLDER / "messages.po"
MO = FOLDER / "messages.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def _catalogue():
    with PO.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="session", autouse=True)
def fresh_mo():
    """Compile the catalogue when the .mo is missing or older than the .po, so no test reads a
    stale one (`make test` compiles it too; a bare pytest run may not)."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        with MO.open("wb") as f:
            write_mo(f, _catalogue())


def _messages():
    return [message for message in _catalogue() if message.id]


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def test_every_message_is_translated_and_none_is_fuzzy():
    messages = _messages()
    assert len(messages) > 100
    untranslated = [m.id for m in messages if not all(_as_tuple(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_match_between_english_and_french():
    wrong = []
    for message in _messages():
        expected = {frozenset(PLACEHOLDER.findall(msgid)) for msgid in _as_tuple(message.id)}
        expected = frozenset().union(*expected)
        for msgstr in _as_tuple(message.string):
            if frozenset(PLACEHOLDER.findall(msgstr)) != expected:
                wrong.append((message.id, msgstr))
    assert wrong == []


def test_home_page_in_french_from_accept_language(client):
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Se connecter" in page
    assert "Une place de marché de tâches détenue par ses travailleurs" in page
    assert "Sign in" not in page


def test_login_page_in_french(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert "Mot de passe" in page
    assert "Password" not in page


def test_member_task_board_in_french(app, make_member, make_task):
    make_task(title="Label 50 photos")
    member = login_client(app, make_member())
    response = member.get("/tasks", headers={"Accept-Language": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Label 50 photos" in page
    assert "Toutes les catégories" in page
    assert "Trier par" in page
    assert "Sort by" not in page


def test_language_switch_makes_the_next_page_french(client):
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in" in english
    response = client.post("/language", data={"lang": "fr", "next": "/"})
    assert response.status_code == 302
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Se connecter" in page
    assert "Sign in" not in page
