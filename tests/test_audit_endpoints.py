"""The public ledger endpoints speak the standard formats and check out with the ledger's own
verifier; entries are readable only by those they concern; receipts and verify-a-file show
what the ledger holds; and a failed append rolls the whole change back."""

import base64
import io
from datetime import timedelta

import pytest

from coop import files
from coop.audit.ledger import get_ledger, verifier_key
from coop.auth.tokens import create_token
from coop.delivery import operations as delivery_ops
from coop.market import operations as market_ops
from coop.models import Delivery, DeliveryState, Earning, Event, utcnow
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import Verifier, open_checkpoint

CONTENT = b"label,box\nbike,10 20 30 40\n"


@pytest.fixture
def delivered(app, make_client_user, make_member):
    """A task posted, claimed and delivered through the operations (so the ledger has entries)."""
    client, member = make_client_user(), make_member()
    task = market_ops.post_task(
        client,
        title="Label bikes",
        description="Boxes around bikes.",
        instructions="",
        category="image_labelling",
        estimated_minutes=30,
        deadline=utcnow() + timedelta(days=1),
        pricing="fixed",
        price_cents=1000,
    )
    market_ops.claim_task(member, task.id)
    stored = files.save(io.BytesIO(CONTENT), "boxes.csv", "text/csv")
    delivery = delivery_ops.submit_delivery(member, task.id, [stored], "Done")
    return client, member, task, delivery


def test_checkpoint_is_a_signed_note_for_the_published_key(app, client, delivered):
    key = client.get("/ledger/key")
    assert key.mimetype == "text/plain"
    verifier = Verifier.parse(key.get_data(as_text=True).strip())
    note = client.get("/ledger/checkpoint").get_data(as_text=True)
    checkpoint = open_checkpoint(note, verifier)
    assert checkpoint.size == get_ledger().size() == Event.select().count()
    assert checkpoint.root == get_ledger().root()


def test_inclusion_and_consistency_proofs_verify(app, client, delivered):
    size = get_ledger().size()
    root = get_ledger().root(size)
    for index in range(size):
        proof = client.get(f"/ledger/proof/inclusion?index={index}&size={size}").get_json()
        assert set(proof) == {"index", "size", "leaf_hash", "hashes"}
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        verify_inclusion(index, size, base64.b64decode(proof["leaf_hash"]), hashes, root)
    proof = client.get(f"/ledger/proof/consistency?from=1&to={size}").get_json()
    assert set(proof) == {"from", "to", "hashes"}
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    verify_consistency(1, size, get_ledger().root(1), root, hashes)


@pytest.mark.parametrize(
    "url",
    [
        "/ledger/proof/inclusion?index=x&size=2",
        "/ledger/proof/inclusion?index=-1&size=2",
        "/ledger/proof/inclusion?size=2",
        "/ledger/proof/inclusion?index=2&size=2",
        "/ledger/proof/consistency?from=3&to=2",
        "/ledger/proof/consistency?from=1",
    ],
)
def test_bad_proof_parameters_are_a_json_400(client, delivered, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]


def test_out_of_range_is_a_json_404(client, delivered):
    size = get_ledger().size()
    for url in (
        f"/ledger/proof/inclusion?index=0&size={size + 1}",
        f"/ledger/proof/consistency?from=1&to={size + 5}",
    ):
        response = client.get(url)
        assert response.status_code == 404 and response.is_json


def test_entries_are_for_those_they_concern(app, delivered, make_client_user, make_board):
    owner, member, _task, delivery = delivered
    event = Event.get(Event.subject == f"delivery:{delivery.id}")
    url = f"/ledger/entries/{event.ledger_index}"
    raw = get_ledger().entry_bytes(event.ledger_index)

    assert app.test_client().get(url).status_code == 401
    for user in (owner, member, make_board()):
        response = app.test_client(user=user).get(url)
        assert response.status_code == 200 and response.data == raw
    assert app.test_client(user=make_client_user()).get(url).status_code == 404
    assert app.test_client(user=owner).get("/ledger/entries/99999").status_code == 404

    _row, token = create_token(owner, "audit")
    response = app.test_client().get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.data == raw
    bad = app.test_client().get(url, headers={"Authorization": "Bearer coop_nope"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == "Bearer"


def test_task_page_shows_the_receipt_and_the_unsynchronised_clock(app, delivered):
    owner, _member, task, _delivery = delivered
    owner.timezone = "Europe/Paris"
    owner.save()
    page = app.test_client(user=owner).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Ledger entry #" in page
    assert " +0100 ± " in page  # the entry's time, in the viewer's time zone (Paris)
    # The tests configure no NTP server: the receipt must say so, never hide it.
    assert "Clock not synchronised" in page
    assert "Inclusion in the latest checkpoint" in page


def test_verify_a_file_shows_only_what_the_viewer_may_see(app, delivered, make_client_user):
    owner, _member, _task, delivery = delivered

    def check(user, body):
        data = {"file": (io.BytesIO(body), "mine.csv")}
        response = app.test_client(user=user).post(
            "/verify", data=data, content_type="multipart/form-data"
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    event = Event.get(Event.subject == f"delivery:{delivery.id}")
    assert f"#{event.ledger_index}" in check(owner, CONTENT)
    assert "on no ledger entry that you may see" in check(make_client_user(), CONTENT)
    assert "on no ledger entry that you may see" in check(owner, b"something else")


def test_a_failed_append_rolls_back_the_change(app, delivered, monkeypatch):
    owner, _member, task, delivery = delivered
    before = Event.select().count()

    def refuse(kind, data):
        raise RuntimeError("disk full")

    monkeypatch.setattr(get_ledger(), "append", refuse)
    with pytest.raises(RuntimeError):
        delivery_ops.accept_delivery(owner, delivery.id)
    assert Delivery.get_by_id(delivery.id).state == DeliveryState.PENDING
    assert Earning.select().count() == 0
    assert Event.select().count() == before


def test_verifier_key_matches_the_signing_key(app):
    assert verifier_key().startswith(app.config["LEDGER_ORIGIN"] + "+")
