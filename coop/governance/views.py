"""The general assembly's pages: the votes and my ballot (members), the proposal page and the
count (board). Reading a vote past its closing time never counts it: the count is a POST, or
`coop tick`."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coop.errors import DomainError, NotFound
from coop.governance import operations, queries
from coop.governance.forms import (
    CHOICE_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    BallotForm,
    EmptyForm,
    ProposalForm,
)
from coop.governance.models import ProposalKind, Vote
from coop.market.forms import to_utc
from coop.models import utcnow
from coop.web import board_required, member_required

bp = Blueprint("governance", __name__)

LABELS = {"kinds": KIND_LABELS, "choices": CHOICE_LABELS, "outcomes": OUTCOME_LABELS}


def _vote(vote_id: int) -> Vote:
    vote = Vote.get_or_none(Vote.id == vote_id)
    if vote is None:
        raise NotFound(_("No such vote."))
    return vote


@bp.get("/votes")
@member_required
def index():
    return render_template("governance/index.html", votes=queries.all_votes(utcnow()),
                           mine=queries.my_choices(current_user.id), **LABELS)


def _vote_page(vote: Vote, form=None, status=200):
    return render_template(
        "governance/vote.html", vote=queries.view_of(vote, utcnow()),
        receipt=queries.receipt(current_user.id, vote), form=form or BallotForm(formdata=None),
        count_form=EmptyForm(), **LABELS,
    ), status


@bp.get("/votes/<id:vote_id>")
@member_required
def vote(vote_id: int):
    return _vote_page(_vote(vote_id))


@bp.post("/votes/<id:vote_id>/ballot")
@member_required
def ballot(vote_id: int):
    vote = _vote(vote_id)
    form = BallotForm()
    if not form.validate_on_submit():
        return _vote_page(vote, form, 400)
    try:
        operations.cast_ballot(current_user, vote, form.choice.data, utcnow())
    except DomainError as error:
        if error.status not in (400, 409):
            raise
        form.choice.errors = [*form.choice.errors, error.message]
        return _vote_page(vote, form, error.status)
    flash(_("Your ballot is recorded; you may change it until the vote closes."), "success")
    return redirect(url_for("governance.vote", vote_id=vote.id))


def _board_page(form=None, status=200):
    form = form or ProposalForm(formdata=None)
    groups = [(KIND_LABELS[k], form.change_fields(k)) for k in ProposalKind]
    return render_template(
        "governance/board.html", form=form, groups=groups, votes=queries.all_votes(utcnow()),
        count_form=EmptyForm(), **LABELS,
    ), status


@bp.get("/board/votes")
@board_required
def board():
    return _board_page()


@bp.post("/board/votes")
@board_required
def propose():
    form = ProposalForm()
    if not form.validate_on_submit():
        return _board_page(form, 400)
    changes = form.changes()
    if changes is None:
        return _board_page(form, 400)
    tz = current_user.timezone
    try:
        vote = operations.propose(
            current_user, form.kind.data, form.title.data, changes,
            to_utc(form.closes_at.data, tz), utcnow(), opens_at=to_utc(form.opens_at.data, tz),
            fiscal_year=form.fiscal_year.data, statutory=form.statutory.data,
        )  # fmt: skip
    except operations.InvalidParameters as error:
        form.form_errors.extend(error.errors.values())
        return _board_page(form, 400)
    except DomainError as error:
        if error.status != 400:
            raise
        field = form._fields.get(error.field or "")
        if field is None:
            form.form_errors.append(error.message)
        else:
            field.errors = [*field.errors, error.message]
        return _board_page(form, 400)
    flash(_("The proposal is on the ledger; members are told when the vote opens."), "success")
    return redirect(url_for("governance.vote", vote_id=vote.id))


@bp.post("/board/votes/<id:vote_id>/count")
@board_required
def count(vote_id: int):
    vote = _vote(vote_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("governance.vote", vote_id=vote.id))
    try:
        operations.count(vote, utcnow(), actor=current_user)
    except DomainError as error:
        if error.status != 409:
            raise
        flash(error.message, "error")
    else:
        flash(_("The votes are counted; the result is on the ledger."), "success")
    return redirect(url_for("governance.vote", vote_id=vote.id))
