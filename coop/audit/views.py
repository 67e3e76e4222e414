"""The public ledger (/ledger and its endpoints), proof bundles and the verify-a-file page."""

import json

from flask import Blueprint, Response, render_template, send_file
from flask import request as flask_request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import Unauthorized

from coop.audit import ledger as app_ledger
from coop.audit import operations, tiles, witnesses
from coop.audit.access import visible_event
from coop.audit.forms import VerifyFileForm
from coop.audit.receipts import bundle_for, delivery_event, delivery_receipts
from coop.auth.bearer import api_actor
from coop.delivery.access import can_see_delivery
from coop.errors import DomainError, NotFound, Unavailable
from coop.inputs import parse_whole_number
from coop.models import Delivery, Event

bp = Blueprint("audit", __name__)


def _unauthorized():
    raise Unauthorized(description=_("Sign in or send an API token."))


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.get("/ledger")
def transparency():
    checkpoint = app_ledger.latest_checkpoint()
    return render_template(
        "audit/ledger.html",
        checkpoint=checkpoint,
        verifier_key=app_ledger.verifier_key(),
        history=operations.checkpoint_history(),
    )


@bp.get("/ledger/checkpoint")
def checkpoint():
    checkpoint = app_ledger.latest_checkpoint()
    if checkpoint is None:
        raise Unavailable(_("No checkpoint has been published yet."))
    return _text(witnesses.cosigned_note(checkpoint))


# Full tiles never change; a partial tile's path names its width, so it never changes either,
# but it is soon superseded by a wider one: clients should look again.
FULL_TILE_MAX_AGE = 365 * 24 * 3600
PARTIAL_TILE_MAX_AGE = 60


@bp.get("/ledger/tile/<int:level>/<path:rest>")
def tile(level, rest):
    found = tiles.written_tile(level, rest)
    if found is None:
        raise NotFound(_("No such tile."))
    tile, path = found
    response = send_file(path, mimetype="application/octet-stream", conditional=True)
    if tile.full:
        response.headers["Cache-Control"] = f"public, max-age={FULL_TILE_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = f"public, max-age={PARTIAL_TILE_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/ledger/key")
def key():
    return _text(app_ledger.verifier_key() + "\n")


@bp.get("/ledger/keys")
def all_keys():
    # The current key first, then the retired ones: a file verifiers take as it is (--key).
    return _text("".join(f"{v}\n" for v in app_ledger.verifiers()))


@bp.get("/ledger/proof/inclusion")
def inclusion_proof():
    args = flask_request.args
    index = parse_whole_number(args.get("index"), "index")
    size = parse_whole_number(args.get("size"), "size")
    if index >= size:
        raise DomainError(_("index must be smaller than size."))
    ledger = app_ledger.get_ledger()
    operations.checked_range(size, upto=ledger.size())
    return ledger.inclusion_proof(index, size).to_json()


@bp.get("/ledger/timestamps")
def timestamps():
    """The RFC 3161 time-stamps of published checkpoints up to size (default: the latest
    checkpoint's), each with a consistency proof to that tree: what a monitor checks. Public:
    a token imprints a checkpoint, which is public already."""
    from coop.audit.timestamps import stamps_upto

    latest = app_ledger.latest_checkpoint()
    if latest is None:
        raise Unavailable(_("No checkpoint has been published yet."))
    size = parse_whole_number(flask_request.args.get("size"), "size", default=latest.size)
    operations.checked_range(size, upto=latest.size)
    response = Response(
        json.dumps({"size": size, "timestamps": stamps_upto(size)}),
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/ledger/proof/consistency")
def consistency_proof():
    args = flask_request.args
    old = parse_whole_number(args.get("from"), "from")
    new = parse_whole_number(args.get("to"), "to")
    if old > new:
        raise DomainError(_("from must not be larger than to."))
    if old == 0:
        # RFC 9162 proves consistency between two trees; the empty tree has no root to prove.
        raise DomainError(_("from must be at least 1: an empty ledger has nothing to prove."))
    ledger = app_ledger.get_ledger()
    operations.checked_range(new, upto=ledger.size())
    return ledger.consistency_proof(old, new).to_json()


@bp.get("/ledger/entries/<id(min=0):index>")
def entry(index):
    actor = api_actor()
    if actor is None:
        _unauthorized()
    event = Event.get_or_none(Event.ledger_index == index)
    if event is None or not visible_event(actor, event):
        raise NotFound(_("No entry %(index)s that you may see.", index=index))
    raw = app_ledger.get_ledger().entry_bytes(index)
    return Response(raw, mimetype="application/json")


@bp.get("/deliveries/<id:delivery_id>/bundle.json")
@login_required
def delivery_bundle(delivery_id):
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or not can_see_delivery(current_user, delivery):
        raise NotFound(_("No such delivery."))
    event = delivery_event(delivery)
    if event is None:
        raise NotFound(_("This delivery has no ledger entry."))
    body = json.dumps(bundle_for(event), indent=2, sort_keys=True) + "\n"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=delivery-{delivery_id}-bundle.json"},
    )


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_file():
    form = VerifyFileForm()
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        sha256 = operations.hash_upload(upload.stream)
        result = {
            "filename": upload.filename,
            "sha256": sha256,
            "matches": operations.entries_for_hash(current_user, sha256),
        }
    status = 400 if form.errors else 200
    return render_template("audit/verify.html", form=form, result=result), status


@bp.app_template_global()
def ledger_receipts(deliveries) -> dict:
    """Give the task page each delivery's receipt, verified against the latest checkpoint."""
    return delivery_receipts(list(deliveries or []))
