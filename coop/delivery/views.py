"""Deliveries, reviews, disputes, deliverable downloads and the member's "my work" page."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coop import files as file_store
from coop.confirm import Confirmation, is_confirmed, render_confirmation
from coop.delivery import operations
from coop.delivery.forms import (
    REJECTION_CATEGORY_LABELS,
    DeliverForm,
    EmptyForm,
    ReasonForm,
    RejectForm,
    RejectionDecisionForm,
    ResolveForm,
)
from coop.errors import DomainError
from coop.formats import money as format_money
from coop.models import Delivery, Dispute, DisputeKind, DisputeState, RejectionReview, Task
from coop.web import board_required, client_required, member_required

bp = Blueprint("delivery", __name__)


@bp.app_template_global()
def delivery_panel(task, deliveries, viewer):
    """Give the task page's delivery panel its data (see operations.task_panel)."""
    return operations.task_panel(viewer, task, list(deliveries or []))


@bp.app_template_global()
def rejection_category_label(category) -> str:
    """Give templates the translated label of a rejection category (empty when none)."""
    label = REJECTION_CATEGORY_LABELS.get(category) if category else None
    return str(label) if label is not None else ""


@bp.app_template_global()
def rejection_categories() -> list[tuple[str, str]]:
    """Give templates the rejection categories with their translated labels."""
    return [(str(k), str(v)) for k, v in REJECTION_CATEGORY_LABELS.items()]


def _task_page(task_id: int) -> str:
    return url_for("market.task", task_id=task_id)


def _form_page(form, title: str, action: str, submit: str, task: Task, status: int,
               multipart: bool = False):
    """Show a form again with its errors (the panel's forms post here without JavaScript)."""
    page = render_template(
        "delivery/form.html", form=form, title=title, action=action, submit=submit,
        task=task, multipart=multipart, back=_task_page(task.id),
    )
    return page, status


def _attach(form, error: DomainError) -> bool:
    """Put a domain error under its form field, or above the form when it names none (the
    task changed meanwhile); return False for a 404 or 403, which stay what they are."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        if error.status not in (400, 409):
            return False
        form.form_errors = [*getattr(form, "form_errors", []), error.message]
        return True
    target.errors = [*target.errors, error.message]
    return True


@bp.post("/tasks/<id:task_id>/deliver")
@member_required
def deliver(task_id: int):
    task = Task.get_or_none(Task.id == task_id)
    if task is None or task.member_id != current_user.id:
        abort(404)
    form = DeliverForm()
    args = (_("Deliver"), url_for(".deliver", task_id=task_id), _("Deliver"), task)
    if not form.validate_on_submit():
        return _form_page(form, *args, 400, multipart=True)
    try:
        with file_store.staged_uploads(form.files.data) as stored:
            operations.submit_delivery(
                current_user, task_id, stored, form.note.data, form.minutes_spent.data
            )
    except file_store.FileTooLarge as error:
        form.files.errors = [error.message]
        return _form_page(form, *args, error.status, multipart=True)
    except DomainError as error:
        if not _attach(form, error):
            raise
        return _form_page(form, *args, error.status, multipart=True)
    flash(_("Delivered. The client has been asked to review it."), "success")
    return redirect(_task_page(task_id))


@bp.get("/deliveries/<id:delivery_id>/files/<id:file_id>")
@login_required
def download(delivery_id: int, file_id: int):
    stored = operations.deliverable_file(current_user, delivery_id, file_id)
    response = file_store.send_stored(
        stored.sha256, mimetype=stored.content_type, download_name=stored.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _client_delivery(delivery_id: int) -> Delivery:
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or delivery.task.client_id != current_user.id:
        abort(404)
    return delivery


@bp.post("/deliveries/<id:delivery_id>/accept")
@client_required
def accept(delivery_id: int):
    delivery = _client_delivery(delivery_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    operations.accept_delivery(current_user, delivery_id)
    flash(_("Delivery accepted: the task is complete and the member is paid."), "success")
    return redirect(_task_page(delivery.task_id))


@bp.post("/deliveries/<id:delivery_id>/accept-topup")
@client_required
def accept_topup(delivery_id: int):
    delivery = _client_delivery(delivery_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    operations.accept_delivery(current_user, delivery_id, topup=True)
    flash(
        _("Delivery accepted with the top-up: the member's pay for their time meets the floor."),
        "success",
    )
    return redirect(_task_page(delivery.task_id))


@bp.post("/deliveries/<id:delivery_id>/reject")
@client_required
def reject(delivery_id: int):
    delivery = _client_delivery(delivery_id)
    form = RejectForm()
    args = (_("Reject the delivery"), url_for(".reject", delivery_id=delivery_id),
            _("Reject"), delivery.task)
    if not form.validate_on_submit():
        return _form_page(form, *args, 400)
    try:
        rejected = operations.reject_delivery(
            current_user, delivery_id, form.reason.data, form.category.data
        )
    except DomainError as error:
        if not _attach(form, error):
            raise
        return _form_page(form, *args, error.status)
    if rejected.state == "rejection_review":
        flash(
            _(
                "Your rejection goes to the board first, because of how many deliveries you "
                "have rejected; a board member will confirm or overturn it."
            ),
            "warning",
        )
    else:
        flash(_("Delivery rejected; the member has your reason."), "success")
    return redirect(_task_page(delivery.task_id))


@bp.post("/deliveries/<id:delivery_id>/dispute")
@member_required
def dispute(delivery_id: int):
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None or delivery.member_id != current_user.id:
        abort(404)
    form = ReasonForm()
    args = (_("Dispute the rejection"), url_for(".dispute", delivery_id=delivery_id),
            _("Send to the board"), delivery.task)
    if not form.validate_on_submit():
        return _form_page(form, *args, 400)
    try:
        operations.dispute_rejection(current_user, delivery_id, form.reason.data)
    except DomainError as error:
        if not _attach(form, error):
            raise
        return _form_page(form, *args, error.status)
    flash(_("Dispute sent: the board will decide and give its reason."), "success")
    return redirect(_task_page(delivery.task_id))


@bp.post("/deliveries/<id:delivery_id>/dispute-time")
@client_required
def dispute_time(delivery_id: int):
    delivery = _client_delivery(delivery_id)
    form = ReasonForm()
    args = (_("Dispute the stated time"), url_for(".dispute_time", delivery_id=delivery_id),
            _("Send to the board"), delivery.task)
    if not form.validate_on_submit():
        return _form_page(form, *args, 400)
    try:
        operations.dispute_stated_time(current_user, delivery_id, form.reason.data)
    except DomainError as error:
        if not _attach(form, error):
            raise
        return _form_page(form, *args, error.status)
    flash(_("Dispute sent: the board will decide whether the stated time stands."), "success")
    return redirect(_task_page(delivery.task_id))


@bp.get("/board/disputes")
@board_required
def disputes():
    overview = operations.disputes_overview(current_user)
    return render_template(
        "delivery/disputes.html",
        overview=overview,
        form=ResolveForm(),
        decision_form=RejectionDecisionForm(),
    )


def _dispute(dispute_id: int) -> Dispute:
    item = Dispute.get_or_none(Dispute.id == dispute_id)
    if item is None:
        abort(404)
    return item


def _resolve_page(item: Dispute, form: ResolveForm, status: int = 200):
    """The confirmation page of a dispute's decision: what each outcome does, then the form."""
    if item.kind == DisputeKind.STATED_TIME:
        consequences = [
            _("Uphold: the client pays the price and the top-up of %(topup)s, so the member's "
              "pay for their stated time meets the floor.",
              topup=format_money(item.delivery.topup_cents)),
            _("Dismiss: the client pays the price alone."),
        ]
    else:
        consequences = [
            _("Uphold: the delivery is accepted, the task is complete and the member is paid."),
            _("Dismiss: the rejection stands and the task goes back on the board for another "
              "member."),
        ]
    consequences.append(
        _("The client and the member read your reason; the decision is recorded on the public "
          "ledger.")
    )
    return render_confirmation(
        Confirmation(
            title=_("Resolve the dispute on “%(title)s”", title=item.task.title),
            consequences=consequences,
            final=_("A resolved dispute cannot be reopened, and the payment it decides stands."),
            action=url_for(".resolve_dispute", dispute_id=item.id),
            submit=_("Decide"),
            back=url_for(".disputes") + f"#dispute-{item.id}",
            danger=False,
        ),
        form=form,
        fields=["outcome", "reason"],
        status=status,
    )


@bp.route("/board/disputes/<id:dispute_id>/resolve", methods=["GET", "POST"])
@board_required
def resolve_dispute(dispute_id: int):
    item = _dispute(dispute_id)
    form = ResolveForm()
    if not is_confirmed():
        if item.state != DisputeState.OPEN:
            flash(_("This dispute has already been resolved."), "error")
            return redirect(url_for(".disputes"))
        if operations.is_party(current_user, item.task, item.delivery):
            # Not offered to a party (the disputes page says so); the operation refuses too.
            flash(_("You are a party to this task: another board member decides."), "error")
            return redirect(url_for(".disputes"))
        # The page, or the decision written on the disputes page shown once more before it
        # is final: nothing changes yet.
        return _resolve_page(item, form)
    if not form.validate_on_submit():
        return _resolve_page(item, form, 400)
    try:
        operations.resolve_dispute(
            current_user, dispute_id, upheld=form.outcome.data == "upheld",
            reason=form.reason.data,
        )
    except DomainError as error:
        if not _attach(form, error):
            raise
        return _resolve_page(item, form, error.status)
    flash(_("Dispute resolved."), "success")
    return redirect(url_for(".disputes"))


@bp.post("/board/rejections/<id:review_id>/decide")
@board_required
def decide_rejection(review_id: int):
    review = RejectionReview.get_or_none(RejectionReview.id == review_id)
    if review is None:
        abort(404)
    form = RejectionDecisionForm()
    args = (_("Decide the held rejection"), url_for(".decide_rejection", review_id=review_id),
            _("Decide"), review.task)
    if not form.validate_on_submit():
        return _form_page(form, *args, 400)
    try:
        operations.decide_rejection(
            current_user, review_id, confirmed=form.outcome.data == "confirmed",
            reason=form.reason.data,
        )
    except DomainError as error:
        if not _attach(form, error):
            raise
        return _form_page(form, *args, error.status)
    flash(_("Rejection decided."), "success")
    return redirect(url_for(".disputes"))


@bp.get("/my-work")
@member_required
def my_work():
    return render_template("delivery/my_work.html", work=operations.my_work(current_user))
