"""The project routes of /api/v1: create, load items, publish, pause, read figures, review,
and download the results with their proof.

Registered on the API blueprint, so the bearer-token and scope checks of views.py apply: a
read-only token is refused every POST before anything here runs. Only clients use these routes;
another client's project is 404, as everywhere.
"""

import io
import math
from datetime import UTC, datetime

from flask import Response, g, jsonify, request, stream_with_context, url_for
from flask_babel import gettext as _

from coop.api.openapi import CHECKPOINT_SIZE_HEADER, MAX_PER_PAGE, PER_PAGE
from coop.api.views import MAX_PAGE, bp, rfc3339
from coop.errors import DomainError, Forbidden, NotFound, Unavailable, UnsupportedMediaType
from coop.inputs import MAX_ID, parse_page, parse_whole_number
from coop.models import User, utcnow
from coop.projects import access, queries, results
from coop.projects import operations as ops
from coop.projects.models import Project
from coop.quality import aggregate_cache, qualification_queries
from coop.quality.results import choose_method
from ledger.results import ResultsFormat

# Upload bodies are named by their media type; the importer picks its parser by file name.
ITEM_TYPES = {
    "text/csv": "items.csv",
    "application/x-ndjson": "items.jsonl",
    "application/jsonl": "items.jsonl",
}
RESULT_TYPES = {
    ResultsFormat.CSV: "text/csv; charset=utf-8",
    ResultsFormat.JSONL: "application/x-ndjson",
}
MAX_REVIEW_IDS = 10_000
UPLOAD_BUFFER = 256 * 1024


def _client() -> User:
    actor = g.api_actor
    if not actor.is_client:
        raise Forbidden(_("Only clients have projects."))
    return actor


def _project(project_id: int) -> Project:
    return access.client_project(_client(), project_id)


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError(_("Send a JSON object, with Content-Type: application/json."))
    return data


def _field(data: dict, name: str, kind: type, default=None):
    """Return data[name] if it has the JSON type asked for (bool is not an integer here)."""
    if name not in data and default is not None:
        return default
    value = data.get(name)
    wrong_bool = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_bool:
        names = {str: _("text"), int: _("a whole number"), bool: _("true or false"),
                 dict: _("a JSON object")}
        raise DomainError(
            _("%(field)s must be %(kind)s.", field=name, kind=names[kind]), field=name
        )
    return value


def _deadline(value: str) -> datetime:
    """Parse an RFC 3339 time with its offset into naive UTC, as the models store it."""
    try:
        parsed = datetime.fromisoformat(value)
        # Checked here: converting year 9999 with a negative offset overflows.
        utc = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else None
    except (ValueError, OverflowError):
        utc = None
    if utc is None or "T" not in value.upper():
        raise DomainError(
            _("deadline must be an RFC 3339 time with its offset, e.g. 2026-12-31T18:00:00Z."),
            field="deadline",
        )
    return utc


def project_json(project: Project) -> dict:
    """Return a project's fields (ProjectSummary in the OpenAPI document)."""
    return {
        "id": project.id,
        "title": project.title,
        "instructions": project.instructions,
        "template": project.template_data,
        "state": project.state,
        "pause_reason": project.pause_reason or None,
        "price_cents": project.price_cents,
        "estimated_seconds": project.estimated_seconds,
        "overlap": project.overlap,
        "deadline": rfc3339(project.deadline),
        "budget_cents": project.budget_cents,
        "sensitive": project.sensitive,
        "content_note": project.content_note,
        "fair_share": project.fair_share,
        "items": project.items_count,
        "created_at": rfc3339(project.created_at),
        "published_at": rfc3339(project.published_at),
        "url": url_for(".project", project_id=project.id, _external=True),
    }


def _detail(project: Project) -> dict:
    stats = queries.project_stats(project)
    required = qualification_queries.required_for(_client(), project, utcnow())
    return {**project_json(project), "qualifications": [
        {"id": q.id, "name": q.name, "holders": q.holders} for q in required
    ], "stats": {
        "items": stats.items,
        "wanted": stats.wanted,
        "answered": stats.answered,
        "pending": stats.pending,
        "accepted": stats.accepted,
        "rejected": stats.rejected,
        "skipped": stats.skipped,
        "median_seconds": stats.median_seconds,
        "net_cents": stats.net_cents,
        "net_per_hour_cents": stats.net_per_hour_cents,
        "spent_cents": stats.spent_cents,
        "budget_cents": stats.budget_cents,
        "minimum_price_cents": stats.minimum_price_cents,
    }}


def _report_json(report) -> dict:
    return {
        "imported": report.imported,
        "unchanged": report.unchanged,
        "errors": [{"line": line, "reason": reason} for line, reason in report.errors],
        "more_errors": report.more_errors,
    }


# --- routes ----------------------------------------------------------------------------------


@bp.get("/projects")
def projects():
    client = _client()
    page = parse_page(request.args.get("page"), MAX_PAGE)
    per_page = parse_whole_number(request.args.get("per_page"), "per_page", PER_PAGE, 1,
                                  MAX_PER_PAGE)
    # A qualification's test is not a project the client reviews: it is left out.
    query = Project.select().where(
        (Project.client == client.id) & (Project.is_test == False)  # noqa: E712 (peewee)
    )
    total = query.count()
    rows = query.order_by(Project.id.desc()).paginate(page, per_page)
    return {
        "projects": [project_json(project) for project in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, math.ceil(total / per_page)),
    }


@bp.post("/projects")
def create_project():
    client = _client()
    data = _body()
    project = ops.create_project(
        client,
        title=_field(data, "title", str),
        instructions=_field(data, "instructions", str),
        template=_field(data, "template", dict),
        price_cents=_field(data, "price_cents", int),
        estimated_seconds=_field(data, "estimated_seconds", int),
        overlap=_field(data, "overlap", int, 1),
        deadline=_deadline(_field(data, "deadline", str)),
        budget_cents=_field(data, "budget_cents", int),
        sensitive=_field(data, "sensitive", bool, False),
        content_note=_field(data, "content_note", str, ""),
        fair_share=_field(data, "fair_share", bool, False),
    )
    response = jsonify(project_json(project))
    response.status_code = 201
    response.headers["Location"] = url_for(".project", project_id=project.id, _external=True)
    return response


@bp.get("/projects/<id:project_id>")
def project(project_id: int):
    return _detail(_project(project_id))


@bp.post("/projects/<id:project_id>/items")
def upload_items(project_id: int):
    found = _project(project_id)
    filename = ITEM_TYPES.get(request.mimetype)
    if filename is None:
        raise UnsupportedMediaType(
            _("Send the items as text/csv or application/x-ndjson (JSON Lines)."), field="items"
        )
    # The body is read line by line as it arrives: memory stays flat however many rows. The
    # buffer makes each line one slice instead of many small reads of the WSGI stream.
    stream = request.stream
    if isinstance(stream, io.RawIOBase):
        stream = io.BufferedReader(stream, UPLOAD_BUFFER)
    report = ops.upload_items(g.api_actor, found, stream, filename)
    return _report_json(report), 200 if report.ok else 400


@bp.post("/projects/<id:project_id>/publish")
def publish(project_id: int):
    found = _project(project_id)
    return project_json(ops.publish_project(g.api_actor, found))


@bp.post("/projects/<id:project_id>/pause")
def pause(project_id: int):
    found = _project(project_id)
    return project_json(ops.pause_project(g.api_actor, found))


@bp.get("/projects/<id:project_id>/answers")
def answers(project_id: int):
    found = _project(project_id)
    page = parse_page(request.args.get("page"), MAX_PAGE)
    rows, more = queries.review_page(found, page)
    return {
        "answers": [
            {
                "id": row.id,
                "external_id": row.external_id,
                "answer": row.answer,
                "member": row.member,
                "seconds": row.seconds,
                "state": row.state,
                "reject_reason": row.reject_reason,
            }
            for row in rows
        ],
        "page": page,
        "more": more,
    }


def _answer_ids(value) -> list[int]:
    if (
        not isinstance(value, list)
        or not 0 < len(value) <= MAX_REVIEW_IDS
        or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID
                   for i in value)
    ):
        raise DomainError(
            _('accept must be "all" or a list of answer ids.'), field="accept"
        )
    return value


def _rejections(value) -> list[tuple]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_REVIEW_IDS:
        raise DomainError(_("reject must be a list of {answer, category, reason}."),
                          field="reject")
    found = []
    for entry in value:
        if not isinstance(entry, dict):
            raise DomainError(_("reject must be a list of {answer, category, reason}."),
                              field="reject")
        answer_id = _field(entry, "answer", int)
        if not 0 < answer_id <= MAX_ID:
            raise NotFound(_("No such answer among your projects."))
        answer = access.client_answer(g.api_actor, answer_id)
        found.append((answer, _field(entry, "category", str), _field(entry, "reason", str)))
    return found


@bp.post("/projects/<id:project_id>/reviews")
def reviews(project_id: int):
    found = _project(project_id)
    data = _body()
    if set(data) not in ({"accept"}, {"reject"}):
        raise DomainError(
            _('Send either {"accept": "all" | [answer ids]} or {"reject": [...]}.')
        )
    if "accept" in data:
        ids = None if data["accept"] == "all" else _answer_ids(data["accept"])
        return {"accepted": ops.accept_answers(g.api_actor, found, ids), "rejected": 0}
    rejected = ops.reject_answers(g.api_actor, found, _rejections(data["reject"]))
    return {"accepted": 0, "rejected": rejected}


def _cut() -> results.Cut:
    size = request.args.get("size")
    return results.cut_at(None if size is None else parse_whole_number(size, "size"))


def _stream(project: Project, chunks, mimetype: str, cut: results.Cut, name: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers[CHECKPOINT_SIZE_HEADER] = str(cut.size)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="project-{project.id}-{name}"'
    )
    return response


@bp.get("/projects/<id:project_id>/results")
def project_results(project_id: int):
    found = _project(project_id)
    raw = request.args.get("format", ResultsFormat.JSONL.value)
    try:
        fmt = ResultsFormat(raw)
    except ValueError:
        raise DomainError(_("format must be jsonl or csv."), field="format") from None
    cut = _cut()
    method = choose_method(found, request.args.get("method"))
    votes = aggregate_cache.ready_votes(found, method, cut.size)
    if votes is None:
        raise Unavailable(_("This project's aggregates for this cut are computed by a worker: "
                            "start it from the results download on the project's page, then "
                            "ask again."))
    chunks = results.results_file(found, fmt, cut, method, votes)
    return _stream(found, chunks, RESULT_TYPES[fmt], cut, f"results-{cut.size}.{fmt.value}")


@bp.get("/projects/<id:project_id>/results/proof")
def project_results_proof(project_id: int):
    found = _project(project_id)
    cut = _cut()
    chunks = results.proof_file(found, cut)
    return _stream(found, chunks, "application/x-ndjson", cut,
                   f"results-{cut.size}.proof.jsonl")
