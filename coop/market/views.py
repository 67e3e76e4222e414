"""Public home, the members' task board, task pages, bids and the client's dashboard."""

from flask import (
    Blueprint,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from coop import files, kept_uploads, params
from coop.auth.forms import EmptyForm
from coop.auth.limits import upload_limits
from coop.confirm import Confirmation, is_confirmed, render_confirmation
from coop.delivery import operations as delivery_ops
from coop.errors import DomainError, NotFound
from coop.files import FileTooLarge
from coop.formats import money as format_money
from coop.inputs import parse_page
from coop.market import access, pages, queries
from coop.market import operations as ops
from coop.market.forms import (
    BID_STATE_LABELS,
    CATEGORY_LABELS,
    PRICING_LABELS,
    STATE_LABELS,
    BidForm,
    BoardFilterForm,
    RaisePriceForm,
    TaskForm,
    to_utc,
)
from coop.models import CATEGORIES, Bid, BidState, Pricing, Task, TaskState, utcnow
from coop.ratings import operations as rating_ops
from coop.ratings import queries as rating_queries
from coop.ratings.forms import RatingForm
from coop.web import client_required, error_response, member_required

bp = Blueprint("market", __name__)


@bp.app_context_processor
def _labels():
    """Give every template the translated labels of categories, pricing modes and states."""
    # Translated once per page: a lazy string is translated again each time it is escaped.
    # Outside a request (a PDF rendered by a command) there is no language to pick yet.
    translate = str if has_request_context() else (lambda label: label)
    return {
        name: {key: translate(label) for key, label in labels.items()}
        for name, labels in (
            ("category_labels", CATEGORY_LABELS),
            ("pricing_labels", PRICING_LABELS),
            ("state_labels", STATE_LABELS),
            ("bid_state_labels", BID_STATE_LABELS),
        )
    }


@bp.get("/")
def home():
    return render_template(
        "market/home.html",
        params=params.current(),
        counts=ops.open_counts(),
        categories=CATEGORIES,
    )


@bp.get("/tasks")
@member_required
def board():
    form = BoardFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("market/board.html", form=form, result=None, args={}), 400
    page = form.page.data or 1
    result = ops.board_page(
        current_user, form.filters(), page, current_app.config["TASKS_PER_PAGE"]
    )
    args = {k: v for k, v in form.filters().__dict__.items() if v}
    margin_bp = params.current().margin_bp
    pay = queries.board_net_pay(current_user, result.tasks, margin_bp)
    return render_template("market/board.html", form=form, result=result, args=args, pay=pay,
                           margin_bp=margin_bp)


@bp.route("/tasks/new", methods=["GET", "POST"])
@client_required
@upload_limits
def new_task():
    form = TaskForm()
    attached: list[files.StoredFile] = []
    status = 200
    if request.method == "POST":
        status = 400
        valid = form.validate_on_submit()
        try:
            kept = kept_uploads.carried(current_user, request.form)
        except DomainError as error:
            form.attachments.errors.append(error.message)
            valid, kept = False, []
        attached = kept
        try:
            with files.staged_uploads(request.files.getlist(form.attachments.name)) as new:
                attached = kept_uploads.merged(kept, new)
                task = _post_task(form, attached) if valid else None
                if task is None:
                    # Kept for the next submit (the block's end stores them): only what fits
                    # in the client's quota.
                    ops.check_storage_quota(current_user, attached)
        except FileTooLarge as error:
            # A file past the size limit, or past the quota: none of this submit's is kept.
            form.attachments.errors.append(error.message)
            attached, status, task = kept, error.status, None
        if task is not None:
            flash(_("Your task is on the board."), "success")
            return redirect(url_for("market.task", task_id=task.id))
    terms = params.current()
    minutes = form.estimated_minutes.data
    known = not form.estimated_minutes.errors and isinstance(minutes, int) and (
        1 <= minutes <= ops.MAX_MINUTES
    )
    return render_template(
        "market/new_task.html", form=form, floor=terms.pay_floor_cents_per_hour,
        margin_bp=terms.margin_bp, max_minutes=ops.MAX_MINUTES,
        minimum=ops.minimum_pay(minutes, terms) if known else None,
        kept=kept_uploads.shown(current_user, attached),
        kept_field=kept_uploads.FIELD, remove_field=kept_uploads.REMOVE_FIELD,
    ), status


def _post_task(form: TaskForm, attached: list[files.StoredFile]) -> Task | None:
    """Post the task the valid form describes; a refusal goes on its field and gives None."""
    tz = current_user.timezone
    try:
        return ops.post_task(
            current_user,
            title=form.title.data,
            description=form.description.data,
            instructions=form.instructions.data or "",
            category=form.category.data,
            estimated_minutes=form.estimated_minutes.data,
            deadline=to_utc(form.deadline.data, tz),
            sensitive=form.sensitive.data,
            content_note=form.content_note.data or "",
            pricing=form.pricing.data,
            price_cents=form.price.data,
            budget_cents=form.budget.data,
            bidding_deadline=to_utc(form.bidding_deadline.data, tz),
            attachments=attached,
        )
    except DomainError as error:
        if error.status != 400:
            raise
        getattr(form, error.field or "title").errors.append(error.message)
        return None


def _task_page(task, bid_form=None, status=200, price_form=None, rating_form=None):
    viewer = current_user
    is_client = task.client_id == viewer.id
    worked_on = task.member_id == viewer.id
    my_rating = rating_queries.rating_of_task(task.id) if worked_on else None
    if rating_form is None and worked_on and my_rating is None:
        rating_form = RatingForm(formdata=None)
    bids = ops.bids_for_client(task) if is_client or viewer.is_board else []
    records = ops.track_records(b.member_id for b in bids)
    my_bid = ops.bid_of(viewer, task) if viewer.is_member else None
    if bid_form is None:
        bid_form = BidForm(formdata=None, obj=None)
        if my_bid is not None:
            bid_form.amount.data = my_bid.amount_cents
            bid_form.eta_hours.data = my_bid.eta_hours
            bid_form.note.data = my_bid.note
    now = utcnow()
    can_claim = (
        viewer.is_member
        and task.pricing == Pricing.FIXED
        and task.state == TaskState.OPEN
        and task.deadline > now
    )
    claim_refusal = ops.claim_refusal(viewer, task, now) if can_claim else None
    live_bid = my_bid.amount_cents if my_bid and my_bid.state == BidState.LIVE else None
    return render_template(
        "market/task.html",
        task=task,
        is_client=is_client,
        # Members see who they would work for, and how members who did rated them.
        client_name=task.client.name,
        client_rating=rating_queries.summary(task.client_id) if viewer.is_member else None,
        min_ratings_shown=rating_queries.MIN_SHOWN,
        my_rating=my_rating,
        rating_form=rating_form if worked_on and task.state == TaskState.COMPLETED else None,
        hidden=access.content_hidden(viewer, task),
        holder=access.holder_pseudonym_for(viewer, task),
        attachments=list(task.attachments),
        bids=bids,
        records=records,
        my_bid=my_bid,
        pay=queries.net_pay(task, params.current().margin_bp, live_bid),
        bid_form=bid_form,
        deliveries=delivery_ops.deliveries_for(viewer, task),
        floor_minimum=ops.floor_shortfall(task) if is_client else None,
        price_form=price_form or RaisePriceForm(formdata=None),
        can_claim=can_claim and claim_refusal is None,
        claim_refusal=claim_refusal,
        can_bid=(
            viewer.is_member
            and task.pricing == Pricing.BIDS
            and task.state == TaskState.OPEN
            and (task.bidding_deadline is None or task.bidding_deadline > now)
        ),
        can_release=task.member_id == viewer.id and task.state in ops.RELEASABLE_STATES,
        can_cancel=is_client and task.state == TaskState.OPEN and task.member_id is None,
        BidState=BidState,
        Pricing=Pricing,
        TaskState=TaskState,
    ), status


@bp.get("/tasks/<id:task_id>")
@login_required
def task(task_id: int):
    return _task_page(ops.visible_task(current_user, task_id))


@bp.get("/tasks/<id:task_id>/attachments/<id:attachment_id>")
@login_required
def attachment(task_id: int, attachment_id: int):
    found = ops.visible_attachment(current_user, task_id, attachment_id)
    return files.send_stored(
        found.sha256, mimetype="application/octet-stream", download_name=found.filename
    )


def _refused(error: DomainError, task_id: int):
    """Show the task page again with the refusal (a 404 or 403 stays what it is)."""
    if error.status not in (400, 409):
        raise error
    try:
        task = ops.visible_task(current_user, task_id)
    except NotFound:
        # Someone else took it meanwhile: it is no longer the viewer's to see.
        return error_response(error.status, error.message)
    flash(error.message, "error")
    return _task_page(task, status=error.status)


def _button(action, success: str, task_id: int):
    """Check the CSRF token, run the operation, flash and go back to the task; a refusal
    shows the task page again with its reason."""
    if not EmptyForm().validate_on_submit():
        return render_template("error.html", status=400, message=_("The form expired.")), 400
    try:
        action()
    except DomainError as error:
        return _refused(error, task_id)
    flash(success, "success")
    return redirect(url_for("market.task", task_id=task_id))


def _own_task(task_id: int):
    """Return the viewer's own task (as its client), or raise NotFound."""
    task = ops.visible_task(current_user, task_id)
    if task.client_id != current_user.id:
        raise NotFound(_("No such task."))
    return task


def _cannot(message: str, task_id: int):
    """Send the person back to the task with why the action is not offered any more."""
    flash(message, "error")
    return redirect(url_for("market.task", task_id=task_id))


def _confirm_cancel(task_id: int):
    task = _own_task(task_id)
    if task.state != TaskState.OPEN or task.member_id is not None:
        return _cannot(_("Only a task nobody has started can be cancelled."), task.id)
    live = Bid.select().where((Bid.task == task.id) & (Bid.state == BidState.LIVE)).count()
    consequences = [
        _("“%(title)s” leaves the task board: no member can claim it or bid on it any more.",
          title=task.title),
    ]
    if live:
        consequences.append(
            ngettext("The live bid is declined.", "The %(num)d live bids are declined.", live)
        )
    return render_confirmation(Confirmation(
        title=_("Cancel this task?"),
        consequences=consequences,
        final=_("A cancelled task cannot be reopened; post it again if you still need it."),
        action=url_for("market.cancel", task_id=task.id),
        submit=_("Cancel the task"),
        back=url_for("market.task", task_id=task.id),
    ))


@bp.route("/tasks/<id:task_id>/cancel", methods=["GET", "POST"])
@client_required
def cancel(task_id: int):
    if not is_confirmed():
        return _confirm_cancel(task_id)
    return _button(
        lambda: ops.cancel_task(current_user, task_id), _("The task is cancelled."), task_id
    )


@bp.post("/tasks/<id:task_id>/claim")
@member_required
def claim(task_id: int):
    return _button(
        lambda: ops.claim_task(current_user, task_id), _("The task is yours."), task_id
    )


def _confirm_release(task_id: int):
    task = ops.visible_task(current_user, task_id)
    if task.member_id != current_user.id:
        raise NotFound(_("No such task."))
    if task.state not in ops.RELEASABLE_STATES:
        return _cannot(
            _("Only a task you are working on, or one the client rejected, can be released."),
            task.id,
        )
    return render_confirmation(Confirmation(
        title=_("Release this task?"),
        consequences=[
            _("“%(title)s” goes back on the task board, where any member may claim it.",
              title=task.title),
            _("Work you have not delivered is not paid; the task no longer counts against your "
              "caps."),
        ],
        final=_("The task is no longer yours; you can only claim it again if nobody else "
                "has taken it."),
        action=url_for("market.release", task_id=task.id),
        submit=_("Release the task"),
        back=url_for("market.task", task_id=task.id),
    ))


@bp.route("/tasks/<id:task_id>/release", methods=["GET", "POST"])
@member_required
def release(task_id: int):
    if not is_confirmed():
        return _confirm_release(task_id)
    return _button(
        lambda: ops.release_task(current_user, task_id),
        _("You released the task: it is back on the board."),
        task_id,
    )


@bp.post("/tasks/<id:task_id>/bid")
@member_required
def bid(task_id: int):
    task = ops.visible_task(current_user, task_id)
    form = BidForm()
    if form.validate_on_submit():
        try:
            ops.place_bid(
                current_user,
                task.id,
                amount_cents=form.amount.data,
                eta_hours=form.eta_hours.data,
                note=form.note.data or "",
            )
        except DomainError as error:
            if error.status not in (400, 409):
                raise
            if error.field is None:
                # Bidding closed meanwhile, say: back to the task page with the reason.
                flash(error.message, "error")
                return _task_page(task, bid_form=form, status=error.status)
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_("Your bid is in."), "success")
            return redirect(url_for("market.task", task_id=task.id))
    return _task_page(task, bid_form=form, status=400)


@bp.post("/tasks/<id:task_id>/price")
@client_required
def raise_price(task_id: int):
    task = ops.visible_task(current_user, task_id)
    form = RaisePriceForm()
    if form.validate_on_submit():
        try:
            ops.raise_price(current_user, task.id, form.amount.data)
        except DomainError as error:
            if error.status != 400 or error.field is None:
                raise
            form.amount.errors.append(error.message)
        else:
            flash(_("The price is raised."), "success")
            return redirect(url_for("market.task", task_id=task.id))
    return _task_page(task, status=400, price_form=form)


@bp.post("/tasks/<id:task_id>/bid/withdraw")
@member_required
def withdraw(task_id: int):
    return _button(
        lambda: ops.withdraw_bid(current_user, task_id), _("Your bid is withdrawn."), task_id
    )


@bp.post("/tasks/<id:task_id>/rate-client")
@member_required
def rate_client(task_id: int):
    task = Task.get_or_none(Task.id == task_id)
    if task is None or task.member_id != current_user.id:
        raise NotFound(_("No such task among yours."))
    form = RatingForm()
    if form.validate_on_submit():
        try:
            rating_ops.rate_client(current_user, task, form.stars.data, form.comment.data or "")
        except DomainError as error:
            if error.status not in (400, 409):
                raise
            if error.field is None:
                flash(error.message, "error")
            else:
                getattr(form, error.field).errors.append(error.message)
            return _task_page(task, rating_form=form, status=error.status)
        flash(_("Thank you: the coop keeps your rating; the client never sees it alone."),
              "success")
        return redirect(url_for("market.task", task_id=task.id))
    return _task_page(task, rating_form=form, status=400)



def _own_bid(bid_id: int) -> Bid:
    """Return a bid on one of the viewer's tasks, or raise NotFound."""
    bid = Bid.get_or_none(Bid.id == bid_id)
    if bid is None or bid.task.client_id != current_user.id:
        raise NotFound(_("No such bid."))
    return bid


def _confirm_award(bid_id: int):
    bid = _own_bid(bid_id)
    task = bid.task
    if task.state != TaskState.OPEN or bid.state != BidState.LIVE:
        return _cannot(_("This bid can no longer be awarded."), task.id)
    others = (
        Bid.select()
        .where((Bid.task == task.id) & (Bid.state == BidState.LIVE) & (Bid.id != bid.id))
        .count()
    )
    consequences = [
        _("Member %(member)s gets “%(title)s” at %(amount)s, to deliver within %(eta)s hours.",
          member=bid.member.pseudonym, title=task.title, amount=format_money(bid.amount_cents),
          eta=bid.eta_hours),
        _("The task leaves the board; the award is recorded on the public ledger."),
    ]
    if others:
        consequences.append(ngettext("The other bid is declined.",
                                     "The %(num)d other bids are declined.", others))
    return render_confirmation(Confirmation(
        title=_("Award this bid?"),
        consequences=consequences,
        final=_("You cannot choose another bid afterwards."),
        action=url_for("market.award", bid_id=bid.id),
        submit=_("Award the task"),
        back=url_for("market.task", task_id=task.id),
        danger=False,
    ))


@bp.route("/bids/<id:bid_id>/award", methods=["GET", "POST"])
@client_required
def award(bid_id: int):
    if not is_confirmed():
        return _confirm_award(bid_id)
    if not EmptyForm().validate_on_submit():
        return render_template("error.html", status=400, message=_("The form expired.")), 400
    try:
        task = ops.award_bid(current_user, bid_id)
    except DomainError as error:
        bid = Bid.get_or_none(Bid.id == bid_id)
        if bid is None or error.status not in (400, 409):
            raise
        return _refused(error, bid.task_id)
    flash(_("The task is awarded."), "success")
    return redirect(url_for("market.task", task_id=task.id))


@bp.get("/client")
@client_required
def client_dashboard():
    state = request.args.get("state", "")
    if state and state not in set(TaskState):
        raise DomainError(_("There is no such task state."))
    page = parse_page(request.args.get("page"))
    return render_template(
        "market/client.html",
        dashboard=pages.client_dashboard(current_user, state, page),
        min_ratings_shown=rating_queries.MIN_SHOWN,
        TaskState=TaskState,
    )


@bp.get("/my-bids")
@member_required
def my_bids():
    page = pages.bids_of(current_user, parse_page(request.args.get("page")))
    margin_bp = params.current().margin_bp
    pay = {b.id: queries.bid_net_pay(b, margin_bp) for b in page.bids}
    return render_template("market/my_bids.html", page=page, pay=pay)
