"""Fraud finding pages: a client's or the board's report, the member's answer, the board's
decision (through a confirmation step) and the lists each side follows."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coop.confirm import Confirmation, is_confirmed, render_confirmation
from coop.errors import NotFound
from coop.models import User
from coop.projects import access as project_access
from coop.quality import access, fraud_queries
from coop.quality import fraud as ops
from coop.quality.forms import (
    FINDING_LABELS,
    FRAUD_KIND_LABELS,
    FindingAnswerForm,
    FraudDecideForm,
    ReportFraudForm,
)
from coop.quality.models import FindingState
from coop.web import board_required, member_required

bp = Blueprint("fraud", __name__)


@bp.app_context_processor
def _labels():
    return {"finding_labels": {k: str(v) for k, v in FINDING_LABELS.items()},
            "fraud_kind_labels": {k: str(v) for k, v in FRAUD_KIND_LABELS.items()}}


def _reporter_project(project_id: int):
    """Return a project the viewer may report fraud on (its client, or the board); else 404."""
    found = project_access.visible_project(current_user, project_id)
    if found.is_test or not access.may_report(current_user, found):
        raise NotFound(_("No such project among yours."))
    return found


def _project_page(project, form, status: int = 200):
    return render_template(
        "quality/fraud_project.html", project=project, form=form,
        findings=fraud_queries.project_findings(current_user, project),
    ), status


@bp.get("/projects/<id:project_id>/fraud")
@login_required
def project(project_id: int):
    return _project_page(_reporter_project(project_id), ReportFraudForm(formdata=None))


@bp.post("/projects/<id:project_id>/fraud")
@login_required
def report(project_id: int):
    found = _reporter_project(project_id)
    form = ReportFraudForm()
    if not form.validate_on_submit():
        return _project_page(found, form, 400)
    member = User.get_or_none(User.pseudonym == form.member.data.strip())
    if member is None:
        form.member.errors = [_("No member has this pseudonym.")]
        return _project_page(found, form, 400)
    ops.report_fraud(current_user, found, member, form.kind.data, form.reason.data,
                     form.since.data)
    flash(_("Report sent: the member is told and may answer; the board decides."), "success")
    return redirect(url_for(".project", project_id=found.id))


@bp.get("/fraud-findings")
@member_required
def mine():
    return render_template("quality/fraud_mine.html",
                           findings=fraud_queries.member_findings(current_user))


def _finding_page(row, form, status: int = 200):
    return render_template("quality/fraud_finding.html", finding=fraud_queries.finding(row),
                           form=form, FindingState=FindingState), status


@bp.get("/fraud-findings/<id:finding_id>")
@member_required
def finding(finding_id: int):
    row = access.member_finding(current_user, finding_id)
    return _finding_page(row, FindingAnswerForm(formdata=None))


@bp.post("/fraud-findings/<id:finding_id>/answer")
@member_required
def answer(finding_id: int):
    row = access.member_finding(current_user, finding_id)
    form = FindingAnswerForm()
    if not form.validate_on_submit():
        return _finding_page(row, form, 400)
    ops.answer_finding(current_user, row, form.text.data)
    flash(_("Your answer is with the board."), "success")
    return redirect(url_for(".finding", finding_id=row.id))


@bp.get("/board/fraud-findings")
@board_required
def board_list():
    return render_template("quality/fraud_board.html",
                           findings=fraud_queries.open_findings())


def _decide_page(row, form, status: int = 200):
    shown = fraud_queries.finding(row)
    return render_confirmation(
        Confirmation(
            title=_("Decide the fraud finding on %(member)s in “%(title)s”",
                    member=shown.pseudonym, title=shown.project_title),
            consequences=[
                _("Uphold: %(count)s answers of the member on this project are voided: they "
                  "leave the results and their aggregates, their pay is taken back in the "
                  "month in progress, and the member receives no more of the project's items.",
                  count=ops.named_answers(row).count()),
                _("Dismiss: nothing changes; the member keeps every answer and its pay."),
                _("The member and the reporter read your reason; the decision is recorded on "
                  "the public ledger."),
            ],
            final=_("A decided finding cannot be reopened."),
            action=url_for(".decide", finding_id=row.id),
            submit=_("Decide"),
            back=url_for(".board_list") + f"#finding-{row.id}",
        ),
        form=form, fields=["decision", "note"], status=status,
    )


@bp.route("/board/fraud-findings/<id:finding_id>/decide", methods=["GET", "POST"])
@board_required
def decide(finding_id: int):
    row = access.board_finding(finding_id)
    form = FraudDecideForm()
    if row.state != FindingState.OPEN:
        flash(_("The board has already decided this finding."), "error")
        return redirect(url_for(".board_list"))
    if not is_confirmed():
        # The page, showing the finding and what each decision does: nothing changes yet.
        return _decide_page(row, form)
    if not form.validate_on_submit():
        return _decide_page(row, form, 400)
    ops.decide_finding(current_user, row, upheld=form.decision.data == "upheld",
                       note=form.note.data)
    flash(_("Finding decided."), "success")
    return redirect(url_for(".board_list"))
