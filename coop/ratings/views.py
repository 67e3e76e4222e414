"""The board's pages on clients' ratings (members rate from the task page, coop/market)."""

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from coop.errors import NotFound
from coop.inputs import parse_page
from coop.models import Role, User
from coop.ratings import queries
from coop.web import board_required

bp = Blueprint("ratings", __name__, url_prefix="/board/clients")


@bp.get("")
@board_required
def clients():
    page = queries.clients_for_board(parse_page(request.args.get("page")))
    return render_template("ratings/clients.html", page=page, min_shown=queries.MIN_SHOWN)


@bp.get("/<id:client_id>")
@board_required
def client(client_id: int):
    found = User.get_or_none((User.id == client_id) & (User.role == Role.CLIENT))
    if found is None:
        raise NotFound(_("No such client."))
    view = queries.for_board(found, parse_page(request.args.get("page")))
    return render_template("ratings/client.html", view=view, client_id=found.id)
