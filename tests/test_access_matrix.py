"""Every route, walked as every role (anonymous, member, another member, client, another
client, board), answers the expected status: wrong role → 403, unknown or not yours → 404,
anonymous → the sign-in page (401 for token endpoints), and never a 500. Actions a role may
take answer something other than 403/404/500 (a redirect, or 400 for an empty form)."""

import io
import re
import sqlite3
import zipfile
from datetime import timedelta

import pytest

from coop import calendar, files
from coop.audit import ledger as app_ledger
from coop.auth.operations import apply_for_membership
from coop.auth.tokens import create_token
from coop.db import database
from coop.delivery import operations as delivery_ops
from coop.governance import operations as governance_ops
from coop.market import operations as market_ops
from coop.models import (
    ApiToken,
    Event,
    Job,
    JobKind,
    Notification,
    Parameter,
    RejectionReview,
    TaskAttachment,
    TokenScope,
    utcnow,
)
from coop.projects import operations as project_ops
from coop.quality import fraud as fraud_ops
from coop.quality import operations as quality_ops
from coop.quality import qualifications as qualification_ops
from coop.statements.models import Expense
from coop.statements.operations import current_month
from ledger.tiles import tiles_for_size

ROLES = ["anonymous", "member", "other_member", "client", "other_client", "board"]
ALLOWED = "allowed"  # any answer but 403, 404 and 500


def _post_task(client, pricing="fixed", **extra):
    fields = dict(
        title="Moderate 100 comments",
        description="Remove spam and insults.",
        instructions="Follow the charter.",
        category="moderation",
        estimated_minutes=60,
        deadline=utcnow() + timedelta(days=2),
        pricing=pricing,
    )
    if pricing == "fixed":
        fields["price_cents"] = 1500
    else:
        fields.update(budget_cents=2000, bidding_deadline=utcnow() + timedelta(days=1))
    fields.update(extra)
    return market_ops.post_task(client, **fields)


def _deliver(member, task):
    stored = files.save(io.BytesIO(f"work for task {task.id}".encode()), "work.txt", "text/plain")
    return delivery_ops.submit_delivery(member, task.id, [stored], "Done")


def _project_world(client, member):
    """A published project with photos: one item answered by member, the next leased to them."""
    project = project_ops.create_project(
        client,
        title="Sort photos",
        instructions="Cat or dog?",
        template={"kind": "classify", "text_field": "caption", "image_field": "photo",
                  "labels": ["cat", "dog"]},
        price_cents=20,
        estimated_seconds=30,
        deadline=utcnow() + timedelta(days=2),
        budget_cents=1000,
    )
    media = io.BytesIO()
    with zipfile.ZipFile(media, "w") as archive:
        archive.writestr("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    media.seek(0)
    rows = b"external_id,caption,photo\np1,One,a.png\np2,Two,a.png\n"
    project_ops.upload_items(client, project, io.BytesIO(rows), "items.csv", media)
    project = project_ops.publish_project(client, project)
    first = project_ops.next_assignment(member, project)
    answer, following = project_ops.answer_and_next(member, first, {"label": ["cat"]})
    lease = following.assignment
    return project, answer, lease


def _gold_world(client, member):
    """A project whose one gold item member answered wrongly, then contested."""
    project = project_ops.create_project(
        client, title="Gold", instructions="Cat or dog?",
        template={"kind": "classify", "text_field": "caption", "labels": ["cat", "dog"]},
        price_cents=20, estimated_seconds=30, deadline=utcnow() + timedelta(days=2),
        budget_cents=1000,
    )
    rows = b'external_id,caption,gold_answer\ng1,One,"{""label"": ""dog""}"\n'
    project_ops.upload_items(client, project, io.BytesIO(rows), "items.csv")
    project = project_ops.publish_project(client, project)
    lease = project_ops.next_assignment(member, project)
    answer = project_ops.submit_answer(member, lease, {"label": ["cat"]})
    contest = quality_ops.contest_gold(member, answer, "It is a cat in the picture, clearly.")
    return answer, contest


def _qualification_world(client):
    """The client's qualification, and a second project of theirs that requires it."""
    rows = b'external_id,caption,gold_answer\nq1,One,"{""label"": ""dog""}"\n'
    qualification = qualification_ops.create_qualification(
        client, name="Pets", description="Tells cats from dogs.", instructions="Cat or dog?",
        template={"kind": "classify", "text_field": "caption", "labels": ["cat", "dog"]},
        estimated_seconds=30, pass_mark_pct=100, validity_days=30, retake_days=1,
        stream=io.BytesIO(rows), filename="test.csv",
    )
    gated = project_ops.create_project(
        client, title="Gated", instructions="Cat or dog?",
        template={"kind": "classify", "text_field": "caption", "labels": ["cat", "dog"]},
        price_cents=20, estimated_seconds=30, deadline=utcnow() + timedelta(days=2),
        budget_cents=1000,
    )
    qualification_ops.require_qualification(client, gated, qualification)
    return qualification, gated


def _votes(users):
    """An open vote the member has voted in, and a counted one."""
    board, now = users["board"], utcnow()
    vote = governance_ops.propose(board, "parameters", "Margin", {"margin_bp": 700},
                                  now + timedelta(days=1), now)
    governance_ops.cast_ballot(users["member"], vote, "yes", now)
    counted = governance_ops.propose(board, "parameters", "Floor",
                                     {"pay_floor_cents_per_hour": 1300},
                                     now + timedelta(hours=1), now)
    governance_ops.cast_ballot(users["member"], counted, "no", now)
    counted = governance_ops.count(counted, now + timedelta(hours=2))
    return vote, counted


@pytest.fixture
def world(app, make_member, make_client_user, make_board):
    """One of everything, made through the operations, with ids for the URLs."""
    users = {
        "member": make_member(sensitive_opt_in=True),
        "other_member": make_member(),
        "client": make_client_user(),
        "other_client": make_client_user(),
        "board": make_board(),
    }
    member, client = users["member"], users["client"]
    attachment = files.save(io.BytesIO(b"guide"), "guide.txt", "text/plain")
    open_task = _post_task(client, attachments=[attachment])
    delivered = _post_task(client)
    market_ops.claim_task(member, delivered.id)
    delivery = _deliver(member, delivered)
    bids_task = _post_task(client, pricing="bids")
    bid = market_ops.place_bid(member, bids_task.id, amount_cents=1800, eta_hours=5, note="")
    disputed = _post_task(client)
    market_ops.claim_task(member, disputed.id)
    rejected = _deliver(member, disputed)
    delivery_ops.reject_delivery(
        client, rejected.id, "Half the comments were skipped.", "incomplete"
    )
    dispute = delivery_ops.dispute_rejection(member, rejected.id, "All 100 are done; see line 2.")
    # A client who rejects everything has their next rejection held for the board.
    held_task = _post_task(client)
    market_ops.claim_task(member, held_task.id)
    held = _deliver(member, held_task)
    Parameter.create(key="rejection_review_min_reviews", value=1)
    # Last month's expense makes last month the one to close next (its confirmation page).
    last_month = calendar.shift_month(current_month(), -1)
    expense = Expense.create(month=last_month, label="Hosting", amount_cents=1200)
    delivery_ops.reject_delivery(client, held.id, "Half the comments were skipped.", "wrong")
    applicant = apply_for_membership("new@example.test", "New", "long password 123", "Hello")
    token_row, _ = create_token(client, "ci")
    # Tokens that may write, so the API's POST rows test the roles rather than the scope.
    tokens = {
        role: create_token(user, "matrix", TokenScope.WRITE)[1] for role, user in users.items()
    }
    entry = Event.get(Event.subject == f"delivery:{delivery.id}").ledger_index
    project, answer, lease = _project_world(client, member)
    gold_answer, contest = _gold_world(client, member)
    finding = fraud_ops.report_fraud(client, project, member, "bot",
                                     "One second per item, the same label every time.")
    qualification, gated = _qualification_world(client)
    # Made directly: queued through coop.jobs they would run at once (immediate mode).
    own_job = Job.create(kind=JobKind.TICK, subject="client", owner=client)
    board_job = Job.create(kind=JobKind.ISSUE_STATEMENTS, subject="2025-03",
                           owner=users["board"], board=True)
    vote, counted_vote = _votes(users)
    ids = {
        "vote": vote.id,
        "counted_vote": counted_vote.id,
        "job": own_job.id,
        "board_job": board_job.id,
        "open": open_task.id,
        "att": TaskAttachment.get(TaskAttachment.task == open_task.id).id,
        "delivered": delivered.id,
        "delivery": delivery.id,
        "file": delivery.files[0].id,
        "bids": bids_task.id,
        "bid": bid.id,
        "rejected": rejected.id,
        "dispute": dispute.id,
        "review": RejectionReview.get(RejectionReview.delivery == held.id).id,
        "applicant": applicant.id,
        "token": token_row.id,
        "entry": entry,
        "member_id": member.id,
        "client_id": client.id,
        "month": current_month(),
        "last_month": last_month,
        "year": int(current_month()[:4]),
        "expense": expense.id,
        "project": project.id,
        "answer": answer.id,
        "assignment": lease.id,
        "item": lease.item_id,
        "field": "photo",
        "gold_answer": gold_answer.id,
        "contest": contest.id,
        "finding": finding.id,
        "qualification": qualification.id,
        "test": qualification.test_id,
        "gated": gated.id,
        # The level-0 tile at the right edge of the published tree (public, like its hashes).
        "tile_level": 0,
        "tile": _edge_tile(),
        # The member's own (a rejection): only they may open it.
        "notification": Notification.get(Notification.user == member.id).id,
    }
    return users, tokens, ids


def _edge_tile() -> str:
    size = app_ledger.latest_checkpoint().size
    edge = [t for t in tiles_for_size(size) if t.level == 0][-1]
    return edge.path.split("/", 2)[2]


A, M, OM, C, OC, B = ROLES
EVERYONE_OK = {r: 200 for r in ROLES}
SIGNED_IN_OK = {A: 302, M: 200, OM: 200, C: 200, OC: 200, B: 200}
MEMBERS_ONLY = {A: 302, M: 200, OM: 200, C: 403, OC: 403, B: 200}
CLIENTS_ONLY = {A: 302, M: 403, OM: 403, C: 200, OC: 200, B: 403}
BOARD_ONLY = {A: 302, M: 403, OM: 403, C: 403, OC: 403, B: 200}
PARTIES = {A: 302, M: 200, OM: 404, C: 200, OC: 404, B: 200}
API_PARTIES = {A: 401, M: 200, OM: 404, C: 200, OC: 404, B: 200}
API_CLIENTS = {A: 401, M: 403, OM: 403, C: 200, OC: 200, B: 403}
API_OWNER = {**API_CLIENTS, OC: 404}


def _allowed(expected: dict) -> dict:
    return {role: ALLOWED if status == 200 else status for role, status in expected.items()}


GET_ROUTES = [
    ("/", EVERYONE_OK),
    ("/login", EVERYONE_OK),
    ("/register", EVERYONE_OK),
    ("/apply", EVERYONE_OK),
    ("/ledger", EVERYONE_OK),
    ("/healthz", EVERYONE_OK),
    ("/readyz", EVERYONE_OK),
    ("/metrics", {role: 404 for role in ROLES}),  # no token configured: no metrics
    ("/ledger/checkpoint", EVERYONE_OK),
    ("/ledger/key", EVERYONE_OK),
    ("/ledger/keys", EVERYONE_OK),
    ("/ledger/timestamps", EVERYONE_OK),
    ("/ledger/proof/inclusion?index=0&size=2", EVERYONE_OK),
    ("/ledger/proof/consistency?from=1&to=2", EVERYONE_OK),
    ("/ledger/tile/{tile_level}/{tile}", EVERYONE_OK),
    ("/ledger/entries/{entry}", {**PARTIES, A: 401}),
    ("/api/v1/openapi.json", EVERYONE_OK),
    ("/api/v1/tasks", {**EVERYONE_OK, A: 401}),
    ("/api/v1/tasks/{delivered}", API_PARTIES),
    ("/api/v1/deliveries/{delivery}/files/{file}", API_PARTIES),
    ("/api/v1/deliveries/{delivery}/bundle", API_PARTIES),
    ("/api/v1/projects", API_CLIENTS),
    ("/api/v1/projects/{project}", API_OWNER),
    ("/api/v1/projects/{project}/answers", API_OWNER),
    ("/api/v1/projects/{project}/results", API_OWNER),
    ("/api/v1/projects/{project}/results/proof", API_OWNER),
    ("/settings", SIGNED_IN_OK),
    ("/settings/password", SIGNED_IN_OK),
    ("/forgot", EVERYONE_OK),
    ("/reset", {r: 400 for r in ROLES}),  # no link: the page says so
    ("/settings/tokens", SIGNED_IN_OK),
    ("/verify", SIGNED_IN_OK),
    ("/tasks", MEMBERS_ONLY),
    ("/my-work", MEMBERS_ONLY),
    ("/my-bids", MEMBERS_ONLY),
    ("/tasks/new", CLIENTS_ONLY),
    ("/client", CLIENTS_ONLY),
    ("/tasks/{open}", {**MEMBERS_ONLY, C: 200, OC: 404}),
    ("/tasks/{open}/attachments/{att}", {**MEMBERS_ONLY, C: 200, OC: 404}),
    ("/tasks/{delivered}", PARTIES),
    ("/deliveries/{delivery}/files/{file}", PARTIES),
    ("/deliveries/{delivery}/bundle.json", PARTIES),
    ("/board/", BOARD_ONLY),
    ("/board/applications", BOARD_ONLY),
    ("/board/parameters", BOARD_ONLY),
    ("/board/members", BOARD_ONLY),
    ("/board/disputes", BOARD_ONLY),
    ("/board/capital/", BOARD_ONLY),
    ("/statements/", {**MEMBERS_ONLY}),
    # Members read the summary of a closed month (tests/test_statements_views.py); a draft is
    # the board's.
    ("/statements/{month}/summary.pdf?draft=1", {**MEMBERS_ONLY, M: 404, OM: 404}),
    ("/statements/{month}/all.zip?draft=1", BOARD_ONLY),
    ("/statements/{month}/members/{member_id}.pdf?draft=1", {**PARTIES, C: 403, OC: 403}),
    ("/jobs/{job}", {**PARTIES, M: 404, B: 404}),  # the client's own job
    ("/jobs/{board_job}", {**BOARD_ONLY, M: 404, OM: 404, C: 404, OC: 404}),
    ("/notifications", SIGNED_IN_OK),
    ("/notifications/preferences", SIGNED_IN_OK),
    ("/projects", SIGNED_IN_OK),
    ("/projects/new", CLIENTS_ONLY),
    ("/projects/{project}", {**SIGNED_IN_OK, OC: 404}),
    ("/projects/{project}/preview", {**CLIENTS_ONLY, OC: 404}),
    ("/projects/{project}/work", {**MEMBERS_ONLY, OM: 302, B: 302}),
    ("/projects/{project}/items/{item}/media/{field}", {**PARTIES, OM: 404, B: 404}),
    ("/projects/{project}/answers", {**CLIENTS_ONLY, OC: 404}),
    ("/projects/{project}/results.csv", {**CLIENTS_ONLY, OC: 404}),
    ("/projects/{project}/results.jsonl", {**CLIENTS_ONLY, OC: 404}),
    ("/projects/{project}/results.proof.jsonl", {**CLIENTS_ONLY, OC: 404}),
    ("/projects/{project}/quality", {**SIGNED_IN_OK, OC: 404}),
    ("/projects/{project}/aggregated.jsonl", {**CLIENTS_ONLY, OC: 404}),
    ("/board/gold-appeals", BOARD_ONLY),
    # A fraud finding: its project's client and the board report and follow it, the member
    # it is about reads and answers it, the board decides (a confirmation page first).
    ("/projects/{project}/fraud", {A: 302, M: 404, OM: 404, C: 200, OC: 404, B: 200}),
    ("/fraud-findings", MEMBERS_ONLY),
    ("/fraud-findings/{finding}", {**MEMBERS_ONLY, OM: 404, B: 404}),
    ("/board/fraud-findings", BOARD_ONLY),
    ("/board/fraud-findings/{finding}/decide", BOARD_ONLY),
    ("/qualifications", SIGNED_IN_OK),
    ("/qualifications/new", {**CLIENTS_ONLY, B: 200}),
    ("/qualifications/{qualification}", {**SIGNED_IN_OK, OC: 404}),
    # A test is a project nobody reviews: members are sent to its qualification's page, and
    # its client has no page, answers, results or quality page for it.
    ("/projects/{test}", {A: 302, M: 302, OM: 302, C: 404, OC: 404, B: 302}),
    ("/projects/{test}/answers", {**CLIENTS_ONLY, C: 404, OC: 404}),
    ("/projects/{test}/results.csv", {**CLIENTS_ONLY, C: 404, OC: 404}),
    ("/projects/{test}/quality", {A: 302, M: 404, OM: 404, C: 404, OC: 404, B: 404}),
    ("/votes", MEMBERS_ONLY),
    ("/votes/{vote}", MEMBERS_ONLY),
    ("/votes/{counted_vote}", MEMBERS_ONLY),
    ("/board/votes", BOARD_ONLY),
    # Confirmation pages of irreversible actions: read-only, for whoever may take the action.
    ("/tasks/{open}/cancel", {**CLIENTS_ONLY, OC: 404}),
    # Delivered, so no longer releasable: its holder goes back to the task with the reason.
    ("/tasks/{delivered}/release", {**MEMBERS_ONLY, M: 302, OM: 404, B: 404}),
    ("/bids/{bid}/award", {**CLIENTS_ONLY, OC: 404}),
    ("/board/applications/{applicant}/admit", BOARD_ONLY),
    ("/board/applications/{applicant}/decline", BOARD_ONLY),
    ("/board/disputes/{dispute}/resolve", BOARD_ONLY),
    ("/settings/tokens/{token}/revoke", {**PARTIES, M: 404, B: 404}),
    ("/statements/{last_month}/close", BOARD_ONLY),
    # The fiscal year's page is every member's; no year is closed here, so there is no annual
    # statement to read (tests/test_statements_year_close.py reads them) and the board's close
    # page sends it back to the year's page with the reason.
    ("/statements/years/{year}", MEMBERS_ONLY),
    ("/statements/years/{year}/members/{member_id}.pdf", {**MEMBERS_ONLY, M: 404, OM: 404,
                                                          B: 404}),
    ("/statements/years/{year}/close", {**BOARD_ONLY, B: 302}),
    ("/statements/expenses/{expense}", BOARD_ONLY),
    ("/board/clients", BOARD_ONLY),
    ("/board/clients/{client_id}", BOARD_ONLY),
    ("/client?state=open&page=2", CLIENTS_ONLY),
    ("/my-bids?page=2", MEMBERS_ONLY),
]

POST_ROUTES = [
    ("/api/v1/projects", _allowed(API_CLIENTS)),
    ("/api/v1/projects/{project}/items", _allowed(API_OWNER)),
    ("/api/v1/projects/{project}/publish", _allowed(API_OWNER)),
    ("/api/v1/projects/{project}/pause", _allowed(API_OWNER)),
    ("/api/v1/projects/{project}/reviews", _allowed(API_OWNER)),
    ("/login", _allowed(EVERYONE_OK)),
    ("/register", _allowed(EVERYONE_OK)),
    ("/apply", _allowed(EVERYONE_OK)),
    ("/language", _allowed(EVERYONE_OK)),
    ("/logout", _allowed({**SIGNED_IN_OK})),
    ("/settings", _allowed(SIGNED_IN_OK)),
    ("/settings/password", _allowed(SIGNED_IN_OK)),
    ("/forgot", _allowed(EVERYONE_OK)),
    ("/reset", {r: 400 for r in ROLES}),
    ("/settings/tokens", _allowed(SIGNED_IN_OK)),
    ("/settings/tokens/{token}/revoke", _allowed({**PARTIES, M: 404, B: 404})),
    ("/verify", _allowed(SIGNED_IN_OK)),
    ("/tasks/new", _allowed(CLIENTS_ONLY)),
    ("/tasks/{open}/cancel", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/tasks/{open}/price", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/tasks/{open}/claim", _allowed(MEMBERS_ONLY)),
    ("/tasks/{bids}/bid", _allowed(MEMBERS_ONLY)),
    ("/tasks/{bids}/bid/withdraw", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/bids/{bid}/award", _allowed({**CLIENTS_ONLY, OC: 404})),
    # Not completed yet: the member who holds it gets a 400, anyone else a 404.
    ("/tasks/{delivered}/rate-client", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/tasks/{delivered}/release", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/tasks/{delivered}/deliver", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/deliveries/{delivery}/accept", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/deliveries/{delivery}/accept-topup", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/deliveries/{delivery}/dispute-time", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/deliveries/{delivery}/reject", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/deliveries/{rejected}/dispute", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/board/applications/{applicant}/admit", _allowed(BOARD_ONLY)),
    ("/board/applications/{applicant}/decline", _allowed(BOARD_ONLY)),
    ("/board/parameters", _allowed(BOARD_ONLY)),
    ("/board/members/{member_id}/disable", _allowed(BOARD_ONLY)),
    ("/board/disputes/{dispute}/resolve", _allowed(BOARD_ONLY)),
    ("/board/rejections/{review}/decide", _allowed(BOARD_ONLY)),
    ("/board/capital/", _allowed(BOARD_ONLY)),
    ("/statements/{month}/expenses", _allowed(BOARD_ONLY)),
    ("/statements/{month}/close", _allowed(BOARD_ONLY)),
    ("/statements/years/{year}/close", _allowed(BOARD_ONLY)),
    ("/statements/expenses/{expense}", _allowed(BOARD_ONLY)),
    ("/statements/expenses/{expense}/delete", _allowed(BOARD_ONLY)),
    ("/settings/reapply", _allowed(SIGNED_IN_OK)),
    ("/statements/{month}/issue", {**BOARD_ONLY, B: 404}),  # the month is not closed
    ("/statements/years/{year}/issue", {**BOARD_ONLY, B: 404}),  # the year is not closed
    ("/projects/new", _allowed(CLIENTS_ONLY)),
    ("/projects/{project}/items", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/publish", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/price", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/pause", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/cancel", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/start", _allowed(MEMBERS_ONLY)),
    ("/assignments/{assignment}/answer", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/assignments/{assignment}/skip", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/projects/{project}/answers/accept", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/answers/{answer}/reject", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/quality/rules", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/aggregates", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/gold-answers/{gold_answer}/contest", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/gold-contests/{contest}/decide", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/gold-contests/{contest}/appeal", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/board/gold-appeals/{contest}/decide", _allowed(BOARD_ONLY)),
    ("/projects/{project}/fraud",
     _allowed({A: 302, M: 404, OM: 404, C: 200, OC: 404, B: 200})),
    ("/fraud-findings/{finding}/answer", _allowed({**MEMBERS_ONLY, OM: 404, B: 404})),
    ("/board/fraud-findings/{finding}/decide", _allowed(BOARD_ONLY)),
    ("/qualifications/new", _allowed({**CLIENTS_ONLY, B: 200})),
    ("/qualifications/{qualification}/take", _allowed(MEMBERS_ONLY)),
    ("/projects/{project}/qualifications", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{gated}/qualifications/{qualification}/drop",
     _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/projects/{project}/fair-share", _allowed({**CLIENTS_ONLY, OC: 404})),
    ("/notifications/read-all", _allowed(SIGNED_IN_OK)),
    ("/notifications/preferences", _allowed(SIGNED_IN_OK)),
    ("/notifications/{notification}/open", _allowed({**PARTIES, C: 404, B: 404})),
    ("/votes/{vote}/ballot", _allowed(MEMBERS_ONLY)),
    ("/board/votes", _allowed(BOARD_ONLY)),
    ("/board/votes/{vote}/count", _allowed(BOARD_ONLY)),
]

def _call(app, world, method, url, role):
    users, tokens, ids = world
    path = url.format(**ids)
    if path.startswith("/api/v1/") and not path.endswith("openapi.json"):
        # The API takes bearer tokens only; each role calls it with its own.
        headers = {} if role == A else {"Authorization": f"Bearer {tokens[role]}"}
        client = app.test_client()
    else:
        headers = {}
        client = app.test_client(user=users.get(role))
    response = client.open(path, method=method, headers=headers, data={})
    response.close()  # file downloads stream from an open file
    return response


def _mismatch(response, expected, role, method, url):
    status = response.status_code
    if expected == ALLOWED:
        wrong = status in (403, 404, 500)
    else:
        wrong = status != expected or (
            status == 302 and role == A and "/login" not in response.location
        )
    return f"{method} {url} as {role}: {status}, expected {expected}" if wrong else None


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_the_role(app, world, role, backend):
    """GETs change nothing, so one world serves every route for a role.

    On SQLite a second connection watches the file's data version: any write committed while
    the GETs run (a GET that writes) changes it.
    """
    # Reading the API notes a token's last use at most once per interval: note it now.
    ApiToken.update(last_used_at=utcnow()).execute()
    watcher = sqlite3.connect(database.database) if backend == "sqlite" else None
    version = watcher.execute("PRAGMA data_version").fetchone() if watcher else None
    problems = [
        _mismatch(_call(app, world, "GET", url, role), expected[role], role, "GET", url)
        for url, expected in GET_ROUTES
    ]
    assert [p for p in problems if p] == []
    if watcher is not None:
        assert watcher.execute("PRAGMA data_version").fetchone() == version, "a GET wrote"
        watcher.close()


@pytest.mark.parametrize(("url", "expected"), POST_ROUTES, ids=[u for u, _ in POST_ROUTES])
def test_every_action_answers_each_role(app, world, url, expected):
    """Roles refused first, then those allowed (whose action may change the object)."""
    order = sorted(ROLES, key=lambda role: expected[role] == ALLOWED)
    problems = [
        _mismatch(_call(app, world, "POST", url, role), expected[role], role, "POST", url)
        for role in order
    ]
    assert [p for p in problems if p] == []


def test_every_route_is_in_the_matrix(app):
    """A new route must be added here, with what each role may do."""
    covered = {url.split("?")[0] for url, _ in GET_ROUTES + POST_ROUTES}
    normalised = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for converter in ("<int:", "<"):
            while converter in path:
                start = path.index(converter)
                end = path.index(">", start)
                path = path[:start] + "{}" + path[end + 1 :]
        normalised.add(path)
    covered = {re.sub(r"\{[a-z_]+\}", "{}", url) for url in covered}
    assert normalised - covered == set()
