"""Quality pages: a member's accuracy and gold answers, the client's scores, rules and contests,
the board's appeals."""

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coop.auth.forms import EmptyForm
from coop.errors import Forbidden, NotFound
from coop.inputs import parse_whole_number
from coop.projects import access as project_access
from coop.projects import results as project_results
from coop.quality import access, aggregate_cache, agreement, queries, results
from coop.quality import operations as ops
from coop.quality.forms import (
    CONTEST_LABELS,
    METHOD_LABELS,
    ContestForm,
    DecideForm,
    RulesForm,
)
from coop.quality.models import ContestState
from coop.web import board_required, client_required, member_required

bp = Blueprint("quality", __name__)


@bp.app_context_processor
def _labels():
    return {"contest_labels": {k: str(v) for k, v in CONTEST_LABELS.items()},
            "method_labels": {k: str(v) for k, v in METHOD_LABELS.items()}}


def _invalid(form):
    errors = [e for field in form for e in field.errors]
    message = errors[0] if errors else _("The form expired.")
    return render_template("error.html", status=400, message=message), 400


def _back(project_id: int):
    return redirect(url_for("quality.project", project_id=project_id))


@bp.get("/projects/<id:project_id>/quality")
@login_required
def project(project_id: int):
    found = project_access.visible_project(current_user, project_id)
    if found.is_test:
        # A test's answers show on its qualification's page, without the expected answers.
        raise NotFound(_("No such project."))
    if found.client_id == current_user.id:
        form = RulesForm(formdata=None, gold_rate_pct=found.gold_rate_bp // 100,
                         threshold_pct=found.accuracy_threshold_bp // 100,
                         min_gold_answers=found.min_gold_answers)
        return render_template(
            "quality/client.html", project=found, scores=queries.client_scores(found),
            contests=queries.project_contests(found), gold=queries.gold_counts(found),
            agreement=agreement.project_agreement(found),
            methods=[m.value for m in results.methods_for(found)],
            rules_form=form, decide_form=DecideForm(formdata=None), ContestState=ContestState,
        )
    if not current_user.is_member:
        raise Forbidden(_("Only members and the project's client see its quality page."))
    return render_template(
        "quality/member.html", project=found, score=queries.member_score(current_user, found),
        answers=queries.member_gold_answers(current_user, found),
        contest_form=ContestForm(formdata=None), ContestState=ContestState,
    )


def aggregates_pending(project, method, cut: int):
    """The page of a large project's download whose aggregates a worker has yet to compute:
    a button queues the computation (a GET never does), or the link to the one under way."""
    job = aggregate_cache.pending_job(current_user, project, method, cut)
    return render_template("quality/aggregates_pending.html", project=project,
                           method=method.value, cut=cut, job=job,
                           form=EmptyForm(formdata=None))


@bp.get("/projects/<id:project_id>/aggregated.jsonl")
@client_required
def aggregated(project_id: int):
    found = project_access.client_project(current_user, project_id)
    method = results.choose_method(found, request.args.get("method"))
    votes = aggregate_cache.ready_votes(found, method)
    if votes is None:
        return aggregates_pending(found, method, aggregate_cache.ALL)
    response = Response(stream_with_context(results.aggregated_lines(found, method, votes)),
                        mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="project-{found.id}-aggregated.jsonl"'
    )
    return response


@bp.post("/projects/<id:project_id>/aggregates")
@client_required
def compute_aggregates(project_id: int):
    found = project_access.client_project(current_user, project_id)
    if not EmptyForm().validate_on_submit():
        return _invalid(EmptyForm())
    method = results.choose_method(found, request.form.get("method"))
    cut = parse_whole_number(request.form.get("cut"), "cut")
    if cut != aggregate_cache.ALL:
        cut = project_results.cut_at(cut).size  # a published checkpoint's, else 404
    job = aggregate_cache.compute(current_user, found, method, cut)
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/projects/<id:project_id>/quality/rules")
@client_required
def rules(project_id: int):
    found = project_access.client_project(current_user, project_id)
    form = RulesForm()
    if not form.validate_on_submit():
        return _invalid(form)
    ops.set_quality_rules(
        current_user, found, gold_rate_bp=form.gold_rate_pct.data * 100,
        accuracy_threshold_bp=form.threshold_pct.data * 100,
        min_gold_answers=form.min_gold_answers.data,
    )
    flash(_("Quality rules saved."), "success")
    return _back(project_id)


@bp.post("/gold-answers/<id:answer_id>/contest")
@member_required
def contest(answer_id: int):
    answer = access.member_gold_answer(current_user, answer_id)
    form = ContestForm()
    if not form.validate_on_submit():
        return _invalid(form)
    ops.contest_gold(current_user, answer, form.reason.data)
    flash(_("Contest sent: this gold item counts for nobody until the client decides."),
          "success")
    return _back(answer.project_id)


@bp.post("/gold-contests/<id:contest_id>/decide")
@client_required
def decide(contest_id: int):
    found = access.client_contest(current_user, contest_id)
    form = DecideForm()
    if not form.validate_on_submit():
        return _invalid(form)
    ops.decide_contest(current_user, found, wrong=form.decision.data == "wrong",
                       note=form.note.data)
    flash(_("Decision recorded."), "success")
    return _back(found.project_id)


@bp.post("/gold-contests/<id:contest_id>/appeal")
@member_required
def appeal(contest_id: int):
    found = access.member_contest(current_user, contest_id)
    form = ContestForm()
    if not form.validate_on_submit():
        return _invalid(form)
    ops.appeal_contest(current_user, found, form.reason.data)
    flash(_("Appeal sent to the board."), "success")
    return _back(found.project_id)


@bp.get("/board/gold-appeals")
@board_required
def appeals():
    return render_template("quality/appeals.html", appeals=queries.appeals(),
                           form=DecideForm(formdata=None))


@bp.post("/board/gold-appeals/<id:contest_id>/decide")
@board_required
def decide_appeal(contest_id: int):
    found = access.board_contest(contest_id)
    form = DecideForm()
    if not form.validate_on_submit():
        return _invalid(form)
    ops.decide_appeal(current_user, found, wrong=form.decision.data == "wrong",
                      note=form.note.data)
    flash(_("Appeal decided."), "success")
    return redirect(url_for("quality.appeals"))
