"""Demo data, created through the same operations as the web so every rule and event applies.

`coop demo` loads a board member, members, applicants, three clients and tasks in every state
(with bids, deliveries of small real files, reviews and disputes), micro-task projects in
progress and finished (coop/demo_projects.py), and prints the logins.
"""

import io
import struct
import zlib
from datetime import timedelta

from coop import demo_projects
from coop.auth.operations import (
    admit_member,
    apply_for_membership,
    create_user,
    decline_member,
    register_client,
)
from coop.board.operations import update_parameters
from coop.db import write_transaction
from coop.delivery.operations import (
    accept_delivery,
    dispute_rejection,
    reject_delivery,
    resolve_dispute,
    submit_delivery,
)
from coop.files import StoredFile, save
from coop.market.operations import (
    award_bid,
    cancel_task,
    claim_task,
    place_bid,
    post_task,
    release_task,
)
from coop.models import MemberStatus, Pricing, Role, User, utcnow

PASSWORD = "demo-password-2026"  # noqa: S105 - public on purpose: `coop demo` prints it
DOMAIN = "coop.example"

# (key, name, capital in cents, accepts sensitive content, application note)
MEMBERS = [
    ("alice", "Alice Moreau", 50_000, True, "Six years moderating forums for a games publisher."),
    ("bob", "Bob Nguyen", 20_000, False, "Audio transcription in English and French."),
    ("chloe", "Chloé Durand", 35_000, True, "Former bank back-office clerk: KYC checks."),
    ("david", "David Okafor", 10_000, False, "Search quality rater for three years."),
    ("emma", "Emma Lefèvre", 15_000, False, "Accounting assistant; fast, careful data entry."),
    ("farid", "Farid Haddad", 25_000, False, "Photo retouching and product image clipping."),
]

CLIENTS = [
    ("shop", "Maison Verte (garden and home retailer)"),
    ("news", "Le Quotidien du Sud (regional newspaper)"),
    ("bank", "Banque Solidaire (cooperative bank)"),
]


def _email(key: str) -> str:
    return f"{key}@{DOMAIN}"


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Return a small, valid, single-colour PNG image."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _file(name: str, content: bytes | str, content_type: str) -> StoredFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return save(io.BytesIO(data), name, content_type)


def _csv(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def _people() -> tuple[User, dict[str, User], dict[str, User], list[tuple[str, str]]]:
    """Create the board member, the members, two applicants and the clients."""
    board = create_user(
        _email("board"), "Bea Martin", PASSWORD, Role.BOARD, member_status=MemberStatus.ACTIVE
    )
    board.capital_cents = 30_000  # set directly: see the members below
    board.save()
    logins = [("board", board.email)]
    members = {}
    for key, name, capital, sensitive, note in MEMBERS:
        applicant = apply_for_membership(_email(key), name, PASSWORD, note, sensitive)
        member = admit_member(board, applicant.id)
        # There is no operation for subscribing capital shares yet; the demo sets them directly.
        member.capital_cents = capital
        member.save()
        members[key] = member
        logins.append(("member", member.email))
    gina = apply_for_membership(
        _email("gina"), "Gina Rossi", PASSWORD, "I label images for a living.", True
    )
    logins.append(("applicant", gina.email))
    hugo = apply_for_membership(_email("hugo"), "Hugo Petit", PASSWORD, "Quick money.")
    decline_member(
        board, hugo.id, "Your note does not say which tasks you know; please apply again."
    )
    logins.append(("declined", hugo.email))
    clients = {}
    for key, name in CLIENTS:
        clients[key] = register_client(_email(key), name, PASSWORD)
        logins.append(("client", clients[key].email))
    return board, members, clients, logins


def _completed(board, m, c, now):
    """Tasks accepted at once, after a resubmission, after a bid, and after a dispute."""
    soon = now + timedelta(days=3)
    chairs = post_task(
        c["shop"],
        title="Clip 40 product photos of garden chairs",
        description="Remove the studio background from 40 photos of our new garden chairs.",
        instructions="Transparent PNG, 2000 px on the long side, keep the shadow.",
        category="photo_clipping",
        estimated_minutes=80,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=2400,
        attachments=[_file("style-guide.txt", "Keep shadows. No cropping.\n", "text/plain")],
    )
    claim_task(m["farid"], chairs.id)
    delivery = submit_delivery(
        m["farid"],
        chairs.id,
        [
            _file("chair-01.png", _png(16, 12, (34, 139, 34)), "image/png"),
            _file("chair-02.png", _png(16, 12, (160, 82, 45)), "image/png"),
        ],
        "All 40 clipped; two sample files here, the rest follow the same settings.",
    )
    accept_delivery(c["shop"], delivery.id)

    interview = post_task(
        c["news"],
        title="Transcribe a 20-minute interview with the mayor",
        description="Verbatim transcript of an interview about the new tram line.",
        instructions="Mark speakers as JOURNALIST and MAYOR; timestamps every 2 minutes.",
        category="transcription",
        estimated_minutes=90,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=3000,
    )
    claim_task(m["bob"], interview.id)
    transcript = (
        "[00:00] JOURNALIST: Mayor, when will the first tram run?\n"
        "[00:04] MAYOR: Construction starts in March; the first line opens in 2028.\n"
    )
    delivery = submit_delivery(
        m["bob"], interview.id, [_file("interview-mayor.txt", transcript, "text/plain")], ""
    )
    accept_delivery(c["news"], delivery.id)

    invoices = post_task(
        c["shop"],
        title="Enter 200 supplier invoices into a spreadsheet",
        description="Type supplier, date, invoice number, amount excl. VAT and VAT rate.",
        instructions="One row per invoice; dates as YYYY-MM-DD; amounts with a dot.",
        category="data_entry",
        estimated_minutes=120,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=3200,
    )
    claim_task(m["emma"], invoices.id)
    header = "supplier,date,number,amount_excl_vat,vat_rate"

    def _invoices(row: str) -> StoredFile:
        return _file("invoices.csv", _csv(header, [row]), "text/csv")

    first = submit_delivery(
        m["emma"],
        invoices.id,
        [_invoices("Terreau SA,12/03/2026,F-1001,120.50,20")],
        "",
    )
    reject_delivery(
        c["shop"], first.id, "Dates must be YYYY-MM-DD, as the instructions say.", "wrong"
    )
    second = submit_delivery(
        m["emma"],
        invoices.id,
        [_invoices("Terreau SA,2026-03-12,F-1001,120.50,20")],
        "Dates fixed.",
    )
    accept_delivery(c["shop"], second.id)

    ids = post_task(
        c["bank"],
        title="Check 25 scanned ID documents against account applications",
        description="Compare name, date of birth and document number with each application.",
        instructions="Answer MATCH, MISMATCH or UNREADABLE per application, with a short code.",
        category="id_check",
        estimated_minutes=100,
        deadline=soon,
        pricing=Pricing.BIDS,
        budget_cents=4500,
        bidding_deadline=now + timedelta(days=1),
    )
    winner = place_bid(m["chloe"], ids.id, amount_cents=3800, eta_hours=6, note="KYC background.")
    place_bid(m["david"], ids.id, amount_cents=4200, eta_hours=24)
    award_bid(c["bank"], winner.id)
    rows = ["APP-0001,MATCH", "APP-0002,MISMATCH-DOB", "APP-0003,MATCH"]
    delivery = submit_delivery(
        m["chloe"],
        ids.id,
        [_file("id-checks.csv", _csv("application,result", rows), "text/csv")],
        "",
    )
    accept_delivery(c["bank"], delivery.id)

    comments = post_task(
        c["news"],
        title="Moderate 300 reader comments on the election live blog",
        description="Approve or remove each comment according to our community rules.",
        instructions="Remove insults, threats, spam and personal data; approve everything else.",
        category="moderation",
        estimated_minutes=60,
        deadline=soon,
        sensitive=True,
        content_note="Insults and hateful language aimed at candidates.",
        pricing=Pricing.FIXED,
        price_cents=2000,
    )
    claim_task(m["alice"], comments.id)
    delivery = submit_delivery(
        m["alice"],
        comments.id,
        [
            _file(
                "moderation.csv",
                _csv("comment,decision", ["c-101,approve", "c-102,remove"]),
                "text/csv",
            )
        ],
        "",
    )
    reject_delivery(
        c["news"], delivery.id, "Comment c-102 was fine: it criticised a policy.", "wrong"
    )
    dispute = dispute_rejection(
        m["alice"], delivery.id, "c-102 names a candidate's home address: rule 4 says remove."
    )
    resolve_dispute(
        board,
        dispute.id,
        upheld=True,
        reason="The comment published a home address; removing it followed the client's rules.",
    )


def _in_progress(m, c, now):
    """Tasks assigned, delivered and waiting, rejected, disputed; open with bids; cancelled."""
    soon = now + timedelta(days=4)
    debits = post_task(
        c["bank"],
        title="Key in 150 handwritten direct-debit forms",
        description="Type account holder, IBAN and signature date from scanned forms.",
        instructions="Flag any IBAN that fails its checksum instead of guessing.",
        category="data_entry",
        estimated_minutes=150,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=4500,
    )
    claim_task(m["farid"], debits.id)

    shoes = post_task(
        c["shop"],
        title="Label 500 photos of shoes by type and colour",
        description="Pick the shoe type (boot, sandal, sneaker, …) and main colour per photo.",
        instructions="Use the label list in the attachment; 'other' only as a last resort.",
        category="image_labelling",
        estimated_minutes=120,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=3000,
    )
    claim_task(m["bob"], shoes.id)
    submit_delivery(
        m["bob"],
        shoes.id,
        [_file("shoe-labels.csv", _csv("photo,type,colour", ["s-001,boot,brown"]), "text/csv")],
        "All 500 labelled.",
    )

    relevance = post_task(
        c["news"],
        title="Rate search results for 50 news queries",
        description="Rate the top five results of our site search for each query.",
        instructions="Scale 0–3: 3 answers the query, 0 is off topic.",
        category="search_relevance",
        estimated_minutes=75,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=2200,
    )
    claim_task(m["david"], relevance.id)
    delivery = submit_delivery(
        m["david"],
        relevance.id,
        [_file("ratings.csv", _csv("query,rank,score", ["tram line,1,3"]), "text/csv")],
        "",
    )
    reject_delivery(c["news"], delivery.id, "Only 30 of the 50 queries are rated.", "incomplete")

    calls = post_task(
        c["bank"],
        title="Transcribe 10 customer-service calls",
        description="Transcribe ten short calls about card payments for our quality review.",
        instructions="Replace card numbers and names with [REDACTED].",
        category="transcription",
        estimated_minutes=120,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=3600,
    )
    claim_task(m["chloe"], calls.id)
    delivery = submit_delivery(
        m["chloe"],
        calls.id,
        [_file("calls.txt", "CALL 1\nAGENT: Good morning, how can I help?\n", "text/plain")],
        "",
    )
    reject_delivery(
        c["bank"], delivery.id, "Call 7 is missing from the transcript.", "incomplete"
    )
    dispute_rejection(
        m["chloe"], delivery.id, "Call 7 was an empty recording; I said so in my note."
    )

    handbags = post_task(
        c["shop"],
        title="Remove backgrounds from 30 handbag photos",
        description="White background, centred product, for the online shop.",
        instructions="JPEG, 1500 × 1500 px, product filling 85% of the frame.",
        category="photo_clipping",
        estimated_minutes=60,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=1800,
    )
    # Claimed then handed back: the task is open again for someone else.
    claim_task(m["emma"], handbags.id)
    release_task(m["emma"], handbags.id)

    post_task(
        c["news"],
        title="Review 200 photos sent to the readers' gallery",
        description="Approve or refuse reader photos before they appear on the site.",
        instructions="Refuse violence, nudity, children's faces and anything copyrighted.",
        category="moderation",
        estimated_minutes=50,
        deadline=soon,
        sensitive=True,
        content_note="Some photos may show accidents or injuries.",
        pricing=Pricing.FIXED,
        price_cents=1500,
    )

    transactions = post_task(
        c["bank"],
        title="Categorise 1,000 card transactions by merchant type",
        description="Assign a merchant category to each anonymised card transaction.",
        instructions="Use the 12 categories of the attached list.",
        category="data_entry",
        estimated_minutes=180,
        deadline=now + timedelta(days=7),
        pricing=Pricing.BIDS,
        budget_cents=6000,
        bidding_deadline=now + timedelta(days=2),
    )
    place_bid(m["emma"], transactions.id, amount_cents=5200, eta_hours=12)
    place_bid(
        m["farid"], transactions.id, amount_cents=4800, eta_hours=24, note="Done this before."
    )
    place_bid(m["alice"], transactions.id, amount_cents=5900, eta_hours=8)

    descriptions = post_task(
        c["shop"],
        title="Update 80 product descriptions with new prices",
        description="Copy the new spring prices into each product description.",
        instructions="",
        category="data_entry",
        estimated_minutes=60,
        deadline=soon,
        pricing=Pricing.FIXED,
        price_cents=1500,
    )
    cancel_task(c["shop"], descriptions.id)


def load() -> list[tuple[str, str]]:
    """Create the demo data in one transaction; return the logins as (role, email) pairs."""
    now = utcnow()
    with write_transaction():
        board, members, clients, logins = _people()
        # The board shortens the review window and lowers the margin: a parameters.changed event.
        update_parameters(board, {"review_window_hours": 48, "margin_bp": 750})
        _completed(board, members, clients, now)
        _in_progress(members, clients, now)
        demo_projects.load(members, clients, now)
    return logins
