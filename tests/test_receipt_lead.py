"""A receipt speaks to the client first: one plain sentence saying what happened, when (the
reader's language and time zone), which ledger entry, and that the proof lets anyone check it;
the hashes, sources and proof an auditor reads stay on the page, folded below. The /ledger page
explains the ledger and how to check a delivery before its auditor section."""

import re
from datetime import UTC, datetime

import pytest

from coop.audit.ledger import get_ledger, latest_checkpoint
from coop.models import DeliveryFile, Event
from ledger.clock import ManualClock
from ledger.merkle import leaf_hash

# 4 Dec 2026, 08:14:30 UTC: 09:14 in Paris (winter time, UTC+1).
DELIVERED_NS = int(datetime(2026, 12, 4, 8, 14, 30, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.fixture
def receipt_page(app, make_timed_delivery):
    """The task page of a delivery whose entry the ledger timed at DELIVERED_NS, as its client
    in Paris sees it in the language asked for."""
    task, delivery = make_timed_delivery(ManualClock(unix_ns=DELIVERED_NS, step_ns=1_000))
    task.client.timezone = "Europe/Paris"
    task.client.save()
    event = Event.get((Event.subject == f"delivery:{delivery.id}")
                      & (Event.kind == "delivery.submitted"))

    def page(language: str) -> str:
        reader = app.test_client(user=task.client)
        response = reader.get(f"/tasks/{task.id}", headers={"Accept-Language": language})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return page, event, delivery


def _lead(page: str) -> str:
    found = re.search(r'<p class="receipt-lead">(.*?)</p>', page, re.S)
    assert found, "the receipt has no lead sentence"
    return " ".join(found.group(1).split())


def _details(page: str) -> str:
    found = re.search(r'<details class="receipt-details">(.*?)</details>', page, re.S)
    assert found, "the receipt has no details fold"
    return found.group(1)


def test_the_receipt_leads_with_one_plain_sentence_in_english(receipt_page):
    page, event, _delivery = receipt_page
    lead = _lead(page("en")).replace("\u202f", " ")
    assert lead.startswith(
        f"Delivered on Dec 4, 2026 at 9:14 AM Central European Time, recorded as entry "
        f"#{event.ledger_index} of the public ledger."
    ), lead
    assert "Its proof lets anyone check this without trusting the coop." in lead


def test_the_lead_sentence_gives_a_french_reader_a_french_date_and_zone(receipt_page):
    page, event, _delivery = receipt_page
    lead = _lead(page("fr"))
    assert "4 déc. 2026" in lead and "09:14" in lead
    assert "heure d’Europe centrale" in lead
    assert f"entrée n° {event.ledger_index} du registre public" in lead.replace("\xa0", " ")
    assert "sans avoir à faire confiance à la coopérative" in lead
    assert "Dec 4" not in lead and "AM" not in lead and "Delivered" not in lead


def test_the_details_fold_keeps_the_hashes_time_sources_and_proof(receipt_page):
    page, event, delivery = receipt_page
    details = _details(page("en"))
    raw = get_ledger().entry_bytes(event.ledger_index)
    assert leaf_hash(raw).hex() in details
    for stored in DeliveryFile.select().where(DeliveryFile.delivery == delivery.id):
        assert stored.sha256 in details
    assert latest_checkpoint().root_b64 in details
    assert f"Ledger entry #{event.ledger_index}" in details
    assert " +0100 ± " in details  # the exact time, its zone and its uncertainty
    assert "Inclusion in the latest checkpoint" in details
    assert "Witness cosignatures" in details
    # The lead stays short: no hash in it.
    assert leaf_hash(raw).hex() not in _lead(page("en"))


def test_an_unsynchronised_clock_is_said_in_plain_words_before_the_fold(app, make_timed_delivery):
    clock = ManualClock(unix_ns=DELIVERED_NS, uncertainty_ns=1_500_000_000, synced=False)
    task, _delivery = make_timed_delivery(clock)
    page = app.test_client(user=task.client).get(f"/tasks/{task.id}").get_data(as_text=True)
    shown = page[: page.index('<details class="receipt-details">')]
    assert "The server's clock was not synchronised at that moment" in shown
    assert "off by up to 2 seconds" in shown


def test_the_ledger_page_speaks_to_clients_before_auditors(app, client, make_delivery,
                                                            make_client_user):
    make_delivery()
    page = client.get("/ledger").get_data(as_text=True)
    order = [
        page.index('id="check-a-delivery"'),
        page.index('id="check-it-yourself"'),
        page.index("python -m ledger verify-bundle"),
        page.index('id="auditors"'),
        page.index('id="current-state"'),
    ]
    assert order == sorted(order)
    for endpoint in ("/ledger/checkpoint", "/ledger/key", "/ledger/keys", "/ledger/timestamps",
                     "/ledger/proof/consistency", "/ledger/proof/inclusion", "/ledger/tile/",
                     "/ledger/entries/", "python -m ledger monitor"):
        assert endpoint in page, endpoint
    assert "/verify" not in page  # verifying a file needs an account
    signed_in = app.test_client(user=make_client_user()).get("/ledger").get_data(as_text=True)
    assert 'href="/verify"' in signed_in


def test_the_receipt_links_to_how_to_check_it(receipt_page):
    page, _event, delivery = receipt_page
    english = page("en")
    assert f'href="/deliveries/{delivery.id}/bundle.json"' in english
    assert 'href="/ledger#check-a-delivery"' in english
