"""The client API: my tasks, a task with its deliveries, deliverable files and proof bundles
(micro-task projects are in projects.py, on the same blueprint).

Every route but openapi.json needs an `Authorization: Bearer coop_…` token; a session cookie
is never enough, so a page on another site cannot make a signed-in browser read the API.
"""

import base64
import math
from datetime import datetime

from flask import Blueprint, g, jsonify, make_response, request, url_for
from flask_babel import gettext as _

from coop import files as file_store
from coop.api.openapi import MAX_PER_PAGE, PER_PAGE, document
from coop.audit.receipts import bundle_for, delivery_event
from coop.auth.bearer import bearer_token
from coop.auth.tokens import live_token
from coop.delivery.access import can_see_delivery
from coop.delivery.operations import deliverable_file, deliveries_for
from coop.errors import DomainError, NotFound
from coop.extensions import csrf
from coop.inputs import parse_page, parse_whole_number
from coop.market import access
from coop.models import Delivery, DeliveryFile, Event, Task, TokenScope, User
from coop.web import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Token-authenticated only: there is no cookie-borne request to forge.
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.openapi"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_PAGE = 1_000_000
# Operations name fields as the web forms do; the API names them as its JSON keys.
API_FIELD_NAMES = {"price": "price_cents", "budget": "budget_cents"}


@bp.before_request
def _authenticate():
    """Admit a request only with a live bearer token; answer 401 with a challenge otherwise."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = bearer_token()
    row = live_token(token) if token else None
    if row is None:
        if token:
            message = _("This API token is unknown or has been revoked.")
            challenge = 'Bearer realm="coop", error="invalid_token"'
        else:
            message = _(
                "Send an API token in an 'Authorization: Bearer' header; "
                "create one in your settings."
            )
            challenge = 'Bearer realm="coop"'
        response = make_response(*error_response(401, message))
        response.headers["WWW-Authenticate"] = challenge
        return response
    if request.method not in READ_METHODS and row.scope != TokenScope.WRITE:
        message = _("This API token may only read; create a token that may also write.")
        response = make_response(*error_response(403, message))
        response.headers["WWW-Authenticate"] = 'Bearer realm="coop", error="insufficient_scope"'
        return response
    g.api_actor = row.user
    return None


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    """Answer a refusal as JSON, naming the input field at fault when there is one."""
    body = {"error": error.message, "status": error.status}
    if error.field:
        body["field"] = API_FIELD_NAMES.get(error.field, error.field)
    return jsonify(body), error.status


@bp.after_request
def _no_store(response):
    """Keep private answers out of shared caches."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# --- reading ---------------------------------------------------------------------------------


def rfc3339(value: datetime | None) -> str | None:
    """Format a naive UTC datetime as RFC 3339 with a Z (seconds; the ledger has nanoseconds)."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def task_json(task: Task, holders: dict[int, str]) -> dict:
    """Return a task's public fields (TaskSummary in the OpenAPI document)."""
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "instructions": task.instructions,
        "category": task.category,
        "state": task.state,
        "pricing": task.pricing,
        "price_cents": task.price_cents,
        "budget_cents": task.budget_cents,
        "estimated_minutes": task.estimated_minutes,
        "deadline": rfc3339(task.deadline),
        "bidding_deadline": rfc3339(task.bidding_deadline),
        "created_at": rfc3339(task.created_at),
        "completed_at": rfc3339(task.completed_at),
        "attempts": task.attempts,
        "sensitive": task.sensitive,
        "member": holders.get(task.id),
        "url": url_for(".task", task_id=task.id, _external=True),
    }


def _delivery_json(delivery: Delivery, files: list[DeliveryFile], event: Event | None) -> dict:
    has_entry = event is not None and event.ledger_index is not None
    return {
        "id": delivery.id,
        "attempt": delivery.attempt,
        "state": delivery.state,
        "submitted_at": rfc3339(delivery.submitted_at),
        "on_time": delivery.on_time,
        "note": delivery.note,
        "files": [
            {
                "id": stored.id,
                "filename": stored.filename,
                "size": stored.size,
                "sha256": stored.sha256,
                "url": url_for(
                    ".delivery_file",
                    delivery_id=delivery.id,
                    file_id=stored.id,
                    _external=True,
                ),
            }
            for stored in files
        ],
        "ledger": {"index": event.ledger_index, "unix_ns": event.unix_ns} if has_entry else None,
        "bundle_url": (
            url_for(".delivery_bundle", delivery_id=delivery.id, _external=True)
            if has_entry
            else None
        ),
    }


def task_detail(actor: User, task: Task) -> dict:
    """Return the task with the deliveries actor may see, their files and ledger entries."""
    deliveries = deliveries_for(actor, task)
    ids = [delivery.id for delivery in deliveries]
    files: dict[int, list[DeliveryFile]] = {}
    events: dict[int, Event] = {}
    if ids:
        for stored in DeliveryFile.select().where(DeliveryFile.delivery.in_(ids)).order_by(
            DeliveryFile.id
        ):
            files.setdefault(stored.delivery_id, []).append(stored)
        subjects = [f"delivery:{i}" for i in ids]
        for event in Event.select().where(
            (Event.kind == "delivery.submitted") & Event.subject.in_(subjects)
        ):
            events[int(event.subject.partition(":")[2])] = event
    detail = task_json(task, access.holder_pseudonyms_for(actor, [task]))
    detail["deliveries"] = [
        _delivery_json(d, files.get(d.id, []), events.get(d.id)) for d in deliveries
    ]
    return detail


# --- routes ----------------------------------------------------------------------------------


@bp.get("/tasks")
def tasks():
    page = parse_page(request.args.get("page"), MAX_PAGE)
    per_page = parse_whole_number(request.args.get("per_page"), "per_page", PER_PAGE, 1,
                                  MAX_PER_PAGE)
    query = access.tasks_of(g.api_actor)
    total = query.count()
    rows = list(query.order_by(Task.id.desc()).paginate(page, per_page))
    holders = access.holder_pseudonyms_for(g.api_actor, rows)
    return {
        "tasks": [task_json(task, holders) for task in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, math.ceil(total / per_page)),
    }


@bp.get("/tasks/<id:task_id>")
def task(task_id: int):
    found = Task.get_or_none(Task.id == task_id)
    if found is None or not access.is_party(g.api_actor, found):
        raise NotFound(_("No such task among yours."))
    return task_detail(g.api_actor, found)


@bp.get("/deliveries/<id:delivery_id>/files/<id:file_id>")
def delivery_file(delivery_id: int, file_id: int):
    stored = deliverable_file(g.api_actor, delivery_id, file_id)
    response = file_store.send_stored(
        stored.sha256, mimetype=stored.content_type, download_name=stored.filename
    )
    # RFC 9530: lets a client check the bytes it got against the SHA-256 the ledger holds.
    digest = base64.b64encode(bytes.fromhex(stored.sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    return response


@bp.get("/deliveries/<id:delivery_id>/bundle")
def delivery_bundle(delivery_id: int):
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or not can_see_delivery(g.api_actor, delivery):
        raise NotFound(_("No such delivery, or not yours to see."))
    event = delivery_event(delivery)
    if event is None or event.ledger_index is None:
        raise NotFound(_("This delivery has no ledger entry."))
    response = jsonify(bundle_for(event))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="delivery-{delivery.id}-bundle.json"'
    )
    return response


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


# The project routes live in their own module on this blueprint (imported last: it needs bp).
from coop.api import projects as _projects  # noqa: E402, F401
