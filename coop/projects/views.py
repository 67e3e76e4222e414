"""Project pages: the client's projects and review, the members' work screen, the downloads."""

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from coop import files, params
from coop.audit import ledger as app_ledger
from coop.audit.receipts import recorded_ns
from coop.errors import DomainError, NotFound
from coop.inputs import parse_whole_number
from coop.market.forms import to_utc
from coop.models import utcnow
from coop.projects import access, exposure, fairness, imports, queries, results
from coop.projects import operations as ops
from coop.projects.forms import (
    ANSWER_STATE_LABELS,
    KIND_LABELS,
    REJECT_LABELS,
    SKIP_LABELS,
    STATE_LABELS,
    EmptyForm,
    PageForm,
    PriceForm,
    ProjectForm,
    RejectForm,
    SkipForm,
    UploadForm,
)
from coop.projects.models import ProjectState
from coop.quality import aggregate_cache, gold, qualification_queries
from coop.quality.forms import RequireForm
from coop.quality.results import choose_method
from coop.quality.sittings import qualification_of
from coop.quality.views import aggregates_pending
from coop.web import client_required, member_required, role_required
from ledger.results import ResultsFormat

bp = Blueprint("projects", __name__)

members_or_clients = role_required(
    lambda u: u.is_member or u.is_client, lambda: _("Only members and clients can do this.")
)


@bp.app_context_processor
def _labels():
    return {
        "project_state_labels": {k: str(v) for k, v in STATE_LABELS.items()},
        "answer_state_labels": {k: str(v) for k, v in ANSWER_STATE_LABELS.items()},
    }


def _media_url(project_id: int, item_id: int, field: str) -> str:
    return url_for("projects.media", project_id=project_id, item_id=item_id, field=field)


def _expired():
    return render_template("error.html", status=400, message=_("The form expired.")), 400


@bp.get("/projects")
@members_or_clients
def index():
    if current_user.is_client:
        rows, seen = queries.projects_for_client(current_user), None
    else:
        rows = queries.projects_for_member(current_user)
        seen = exposure.exposure(current_user, utcnow())
    return render_template("projects/index.html", rows=rows, exposure=seen)


@bp.route("/projects/new", methods=["GET", "POST"])
@client_required
def new():
    form = ProjectForm()
    if form.validate_on_submit() and (template := form.template()) is not None:
        try:
            project = ops.create_project(
                current_user,
                title=form.title.data,
                instructions=form.instructions.data,
                template=template,
                price_cents=form.price.data,
                estimated_seconds=form.estimated_seconds.data,
                overlap=form.overlap.data,
                deadline=to_utc(form.deadline.data, current_user.timezone),
                budget_cents=form.budget.data,
                sensitive=form.sensitive.data,
                content_note=form.content_note.data or "",
                fair_share=form.fair_share.data,
            )
        except DomainError as error:
            if error.status != 400:
                raise
            field = {"template": "config"}.get(error.field, error.field) or "title"
            getattr(form, field).errors.append(error.message)
        else:
            flash(_("Your project is a draft: upload its items, preview, then publish."),
                  "success")
            return redirect(url_for("projects.project", project_id=project.id))
    status = 400 if request.method == "POST" else 200
    current = params.current()
    return render_template(
        "projects/new.html", form=form, floor=current.pay_floor_cents_per_hour,
        margin_bp=current.margin_bp,
    ), status


def _client_page(project, upload_form=None, report=None, status=200, price_form=None):
    require_form = RequireForm(formdata=None)
    require_form.qualification.choices = qualification_queries.requirable(current_user, project)
    checkpoint = app_ledger.latest_checkpoint()
    return render_template(
        "projects/client.html",
        project=project,
        stats=queries.project_stats(project),
        upload_form=upload_form or UploadForm(formdata=None),
        price_form=price_form or PriceForm(formdata=None),
        report=report,
        kind_label=str(KIND_LABELS.get(project.template_data["kind"], "")),
        accepts_items=project.state in ops.ACCEPTS_ITEMS,
        ProjectState=ProjectState,
        checkpoint=checkpoint,
        # When the last entry the results are cut at was recorded: what the page leads with.
        cut_ns=recorded_ns(checkpoint.size - 1) if checkpoint and checkpoint.size else None,
        verifier_key=app_ledger.verifier_key(),
        required=qualification_queries.required_for(current_user, project, utcnow()),
        require_form=require_form,
        fair=fairness.rule(project),
        is_client=True,
        worked_minutes=None,
    ), status


@bp.get("/projects/<id:project_id>")
@login_required
def project(project_id: int):
    found = access.visible_project(current_user, project_id)
    if found.is_test:
        return redirect(url_for("qualifications.show",
                                qualification_id=qualification_of(found).id))
    if found.client_id == current_user.id:
        return _client_page(found)
    now = utcnow()
    member = current_user.is_member
    held = ops.current_assignment(current_user, found) if member else None
    return render_template(
        "projects/member.html",
        project=found,
        row=queries.project_row(found),
        held=held,
        answered=queries.my_answers_count(current_user, found),
        ProjectState=ProjectState,
        required=qualification_queries.required_for(current_user, found, now),
        fair=fairness.rule(found),
        is_client=False,
        worked_minutes=fairness.week_minutes(current_user, now) if member else None,
    )


@bp.post("/projects/<id:project_id>/items")
@client_required
def upload(project_id: int):
    found = access.client_project(current_user, project_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _expired()
    items = request.files.get(form.items.name)
    if not items or not items.filename:
        form.items.errors.append(_("Choose a .csv or .jsonl file."))
        return _client_page(found, form, status=400)
    media = request.files.get(form.media.name)
    media_stream = media.stream if media and media.filename else None
    if (request.content_length or 0) > current_app.config["IMPORT_INLINE_BYTES"]:
        # Too long to import within the request: a worker does it; its page shows progress.
        try:
            job = imports.queue_import(current_user, found, items.stream, items.filename,
                                       media_stream)
        except DomainError as error:
            if error.status != 400:
                raise
            form.items.errors.append(error.message)
            return _client_page(found, form, status=400)
        return redirect(url_for("jobs.show", job_id=job.id))
    try:
        report = ops.upload_items(
            current_user, found, items.stream, items.filename,
            media.stream if media and media.filename else None,
        )
    except DomainError as error:
        if error.status != 400:
            raise
        getattr(form, error.field if error.field in ("items", "media") else "items").errors.append(
            error.message
        )
        return _client_page(found, form, status=400)
    found = access.client_project(current_user, project_id)
    if not report.ok:
        return _client_page(found, form, report=report, status=400)
    flash(
        ngettext("%(num)s item imported; %(m)s already present, unchanged.",
                 "%(num)s items imported; %(m)s already present, unchanged.",
                 report.imported, m=report.unchanged),
        "success",
    )
    return redirect(url_for("projects.project", project_id=project_id))


def _state_button(project_id: int, command, message: str):
    found = access.client_project(current_user, project_id)
    if not EmptyForm().validate_on_submit():
        return _expired()
    command(current_user, found)
    flash(message, "success")
    return redirect(url_for("projects.project", project_id=project_id))


@bp.post("/projects/<id:project_id>/price")
@client_required
def price(project_id: int):
    found = access.client_project(current_user, project_id)
    form = PriceForm()
    if form.validate_on_submit():
        try:
            ops.raise_price(current_user, found, form.price.data, form.budget.data)
        except DomainError as error:
            if error.status != 400:
                raise
            getattr(form, error.field if error.field in ("price", "budget") else "price"
                    ).errors.append(error.message)
        else:
            flash(_("The price is raised; answers already paid are topped up."), "success")
            return redirect(url_for("projects.project", project_id=project_id))
    return _client_page(access.client_project(current_user, project_id), price_form=form,
                        status=400)


@bp.post("/projects/<id:project_id>/fair-share")
@client_required
def fair_share(project_id: int):
    found = access.client_project(current_user, project_id)
    if not EmptyForm().validate_on_submit():
        return _expired()
    on = request.form.get("on") == "1"
    ops.set_fair_share(current_user, found, on)
    flash(_("Fair assignment is on for this project.") if on
          else _("Fair assignment is off for this project."), "success")
    return redirect(url_for("projects.project", project_id=project_id))


@bp.post("/projects/<id:project_id>/publish")
@client_required
def publish(project_id: int):
    return _state_button(project_id, ops.publish_project, _("The project is published."))


@bp.post("/projects/<id:project_id>/pause")
@client_required
def pause(project_id: int):
    return _state_button(project_id, ops.pause_project, _("The project is paused."))


@bp.post("/projects/<id:project_id>/cancel")
@client_required
def cancel(project_id: int):
    return _state_button(project_id, ops.cancel_project, _("The project is cancelled."))


@bp.get("/projects/<id:project_id>/preview")
@client_required
def preview(project_id: int):
    found = access.client_project(current_user, project_id)
    item = queries.first_item(found)
    return render_template(
        "projects/work.html",
        project=found,
        item=queries.item_view(found, item, _media_url) if item else None,
        assignment=None,
        template=found.template_data,
        skip_form=SkipForm(formdata=None),
        skip_labels=SKIP_LABELS,
        preview=True,
        error=None,
        answered=0,
        values={},
    )


def _work_page(project, assignment, error=None, values=None, status=200):
    item = assignment.item
    return render_template(
        "projects/work.html",
        project=project,
        item=queries.item_view(project, item, _media_url),
        assignment=assignment,
        template=project.template_data,
        skip_form=SkipForm(formdata=None),
        skip_labels=SKIP_LABELS,
        preview=False,
        error=error,
        answered=queries.my_answers_count(current_user, project),
        values={k: values.getlist(k) for k in values} if values else {},
    ), status


def _next_page(project, following: ops.Next):
    """Show the next item at once, or go back to the project saying why there is none."""
    if following.assignment is None:
        if project.is_test:
            # The sitting is scored: its result is on the qualification's page.
            if following.reason:
                flash(following.reason, "warning")
            return redirect(url_for("qualifications.show",
                                    qualification_id=qualification_of(project).id))
        if following.reason:
            flash(following.reason, "warning")
        else:
            flash(_("No item left for you in this project. Thank you!"), "success")
        return redirect(url_for("projects.project", project_id=project.id))
    return _work_page(project, following.assignment)


def _break_page(project, pause: exposure.BreakNeeded):
    return render_template(
        "projects/break.html",
        project=project,
        message=pause.message,
        until=pause.until,
        minutes=params.current().sensitive_pause_minutes,
    )


@bp.post("/projects/<id:project_id>/start")
@member_required
def start(project_id: int):
    found = access.visible_project(current_user, project_id)
    if not EmptyForm().validate_on_submit():
        return _expired()
    try:
        return _next_page(found, ops.Next(ops.next_assignment(current_user, found)))
    except exposure.BreakNeeded as pause:
        return _break_page(found, pause)


@bp.get("/projects/<id:project_id>/work")
@member_required
def work(project_id: int):
    found = access.visible_project(current_user, project_id)
    held = ops.current_assignment(current_user, found)
    if held is None:
        return redirect(url_for("projects.project", project_id=project_id))
    return _work_page(found, held)


@bp.post("/assignments/<id:assignment_id>/answer")
@member_required
def answer(assignment_id: int):
    assignment = access.member_assignment(current_user, assignment_id)
    project = assignment.project
    if not EmptyForm().validate_on_submit():
        return _expired()
    try:
        given, following = ops.answer_and_next(current_user, assignment, request.form)
    except exposure.BreakNeeded as pause:
        return _break_page(project, pause)
    except DomainError as error:
        if error.field != "answer":
            raise
        return _work_page(project, assignment, error.message, request.form, status=400)
    if given.gold_correct is False and not project.is_test:
        # Feedback teaches: a missed gold item shows its expected answer and why, at once.
        flash(_gold_feedback(assignment.item), "info")
    return _next_page(project, following)


def _gold_feedback(item) -> str:
    return _(
        "That item was a gold item and the expected answer was %(expected)s. %(why)s "
        "If you think the expected answer is wrong, contest it on the project's quality page.",
        expected=gold.describe(item.gold_answer),
        why=item.gold_explanation,
    )


@bp.post("/assignments/<id:assignment_id>/skip")
@member_required
def skip(assignment_id: int):
    assignment = access.member_assignment(current_user, assignment_id)
    project = assignment.project
    form = SkipForm()
    if not form.validate_on_submit():
        return _work_page(project, assignment, _("Choose why you skip this item."), status=400)
    try:
        following = ops.skip_and_next(current_user, assignment, form.reason.data)
    except exposure.BreakNeeded as pause:
        return _break_page(project, pause)
    return _next_page(project, following)


@bp.get("/projects/<id:project_id>/items/<id:item_id>/media/<field>")
@login_required
def media(project_id: int, item_id: int, field: str):
    item = access.media_item(current_user, project_id, item_id)
    stored = item.media_dict.get(field)
    if stored is None:
        raise NotFound(_("No such file."))
    return files.send_stored(
        stored["sha256"],
        mimetype=stored["content_type"],
        download_name=stored["filename"],
        # A PDF may carry scripts: it is downloaded, never shown inside the site.
        as_attachment=stored["content_type"] == "application/pdf",
        max_age=3600,
    )


@bp.get("/projects/<id:project_id>/answers")
@client_required
def answers(project_id: int):
    found = access.client_project(current_user, project_id)
    form = PageForm(formdata=request.args)
    if not form.validate():
        raise NotFound(_("No such page."))
    page = form.page.data or 1
    rows, more = queries.review_page(found, page)
    return render_template(
        "projects/answers.html",
        project=found,
        rows=rows,
        page=page,
        more=more,
        reject_form=RejectForm(formdata=None),
        reject_labels=REJECT_LABELS,
    )


@bp.post("/projects/<id:project_id>/answers/accept")
@client_required
def accept(project_id: int):
    found = access.client_project(current_user, project_id)
    if not EmptyForm().validate_on_submit():
        return _expired()
    if request.form.get("all") == "1":
        ids = None
    else:
        values = request.form.getlist("answer")
        if not all(v.isdigit() and len(v) <= 15 for v in values):
            raise DomainError(_("Select answers from the list."))
        ids = [int(v) for v in values]
    accepted = ops.accept_answers(current_user, found, ids)
    flash(ngettext("%(num)s answer accepted and paid.", "%(num)s answers accepted and paid.",
                   accepted), "success")
    return redirect(url_for("projects.answers", project_id=project_id))


@bp.post("/answers/<id:answer_id>/reject")
@client_required
def reject(answer_id: int):
    found = access.client_answer(current_user, answer_id)
    form = RejectForm()
    if not form.validate_on_submit():
        raise DomainError(_("Say what is wrong, so the member can learn from it."))
    ops.reject_answer(current_user, found, form.category.data, form.reason.data)
    flash(_("The answer is rejected."), "success")
    return redirect(url_for("projects.answers", project_id=found.project_id))


def _cut():
    """The checkpoint size a download is bound to: ?size=, else the latest published."""
    size = request.args.get("size")
    return results.cut_at(None if size is None else parse_whole_number(size, "size"))


def _download(project, chunks, mimetype: str, name: str):
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="project-{project.id}-{name}"'
    return response


@bp.get("/projects/<id:project_id>/results.csv")
@client_required
def results_csv(project_id: int):
    found = access.client_project(current_user, project_id)
    cut = _cut()
    method = choose_method(found, request.args.get("method"))
    votes = aggregate_cache.ready_votes(found, method, cut.size)
    if votes is None:
        return aggregates_pending(found, method, cut.size)
    chunks = results.results_file(found, ResultsFormat.CSV, cut, method, votes)
    return _download(found, chunks, "text/csv; charset=utf-8", f"results-{cut.size}.csv")


@bp.get("/projects/<id:project_id>/results.jsonl")
@client_required
def results_jsonl(project_id: int):
    found = access.client_project(current_user, project_id)
    cut = _cut()
    method = choose_method(found, request.args.get("method"))
    votes = aggregate_cache.ready_votes(found, method, cut.size)
    if votes is None:
        return aggregates_pending(found, method, cut.size)
    chunks = results.results_file(found, ResultsFormat.JSONL, cut, method, votes)
    return _download(found, chunks, "application/x-ndjson", f"results-{cut.size}.jsonl")


@bp.get("/projects/<id:project_id>/results.proof.jsonl")
@client_required
def results_proof(project_id: int):
    found = access.client_project(current_user, project_id)
    cut = _cut()
    chunks = results.proof_file(found, cut)
    return _download(found, chunks, "application/x-ndjson", f"results-{cut.size}.proof.jsonl")
