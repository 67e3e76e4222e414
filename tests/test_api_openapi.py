"""The OpenAPI document says what the API does: every route under /api/v1 is documented and
every documented operation exists; calling each documented operation for each documented
status, with real tokens and real objects, answers that status with a body that validates
against the documented schema (and the documented media type). The world has projects too, so
every project operation, POSTs included, is called for each response it documents."""

import re
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator
from projects_support import comments, jsonl, make_project
from test_api import bearer, world  # noqa: F401 - world is a fixture

from coop.api.openapi import document
from coop.auth.tokens import create_token
from coop.models import TokenScope
from coop.projects import operations as ops

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def projects(app, world, make_member):  # noqa: F811
    """Alice's projects in each state the calls need, Bob's for 404, and Alice's write token."""
    with app.test_request_context():
        done = make_project(world.alice, items=2)
        member = make_member()
        answer = ops.submit_answer(member, ops.next_assignment(member, done), {"label": ["keep"]})
        return SimpleNamespace(
            write=create_token(world.alice, "write", TokenScope.WRITE)[1],
            done=done,
            answer=answer.id,
            ready=make_project(world.alice, items=2, publish=False),
            empty=make_project(world.alice, items=0, publish=False),
            bobs=make_project(world.bob, items=1, publish=False),
        )


def _project_calls(w, p):
    """The project operations' calls: (url, token, request keyword arguments)."""
    alice, mia, write = w.tokens["alice"], w.tokens["mia"], p.write
    done, ready, empty, bobs = p.done.id, p.ready.id, p.empty.id, p.bobs.id
    rows = {"data": jsonl(comments(2)).getvalue(), "content_type": "application/x-ndjson"}
    new = {
        "title": "Rate pairs", "instructions": "Same product?",
        "template": {"kind": "classify", "text_field": "comment", "labels": ["yes", "no"]},
        "price_cents": 20, "estimated_seconds": 30, "deadline": "2099-01-01T00:00:00Z",
        "budget_cents": 1000,
    }
    reject = {"reject": [{"answer": p.answer, "category": "wrong",
                          "reason": "Not the same product at all."}]}
    return {
        ("/projects", "get", "200"): ("/projects?page=1&per_page=5", alice, {}),
        ("/projects", "get", "400"): ("/projects?per_page=1000", alice, {}),
        ("/projects", "get", "401"): ("/projects", None, {}),
        ("/projects", "get", "403"): ("/projects", mia, {}),
        ("/projects", "post", "201"): ("/projects", write, {"json": new}),
        ("/projects", "post", "400"): ("/projects", write, {"json": {**new, "price_cents": 1}}),
        ("/projects", "post", "401"): ("/projects", None, {"json": new}),
        ("/projects", "post", "403"): ("/projects", alice, {"json": new}),
        ("/projects/{project_id}", "get", "200"): (f"/projects/{done}", alice, {}),
        ("/projects/{project_id}", "get", "401"): (f"/projects/{done}", None, {}),
        ("/projects/{project_id}", "get", "403"): (f"/projects/{done}", mia, {}),
        ("/projects/{project_id}", "get", "404"): (f"/projects/{bobs}", alice, {}),
        ("/projects/{project_id}/publish", "post", "200"): (f"/projects/{ready}/publish",
                                                            write, {}),
        ("/projects/{project_id}/publish", "post", "400"): (f"/projects/{empty}/publish",
                                                            write, {}),
        ("/projects/{project_id}/publish", "post", "401"): (f"/projects/{ready}/publish",
                                                            None, {}),
        ("/projects/{project_id}/publish", "post", "403"): (f"/projects/{ready}/publish",
                                                            alice, {}),
        ("/projects/{project_id}/publish", "post", "404"): (f"/projects/{bobs}/publish",
                                                            write, {}),
        ("/projects/{project_id}/publish", "post", "409"): (f"/projects/{done}/publish",
                                                            write, {}),
        ("/projects/{project_id}/pause", "post", "200"): (f"/projects/{ready}/pause", write, {}),
        ("/projects/{project_id}/pause", "post", "401"): (f"/projects/{ready}/pause", None, {}),
        ("/projects/{project_id}/pause", "post", "403"): (f"/projects/{ready}/pause", alice, {}),
        ("/projects/{project_id}/pause", "post", "404"): (f"/projects/{bobs}/pause", write, {}),
        ("/projects/{project_id}/pause", "post", "409"): (f"/projects/{empty}/pause", write, {}),
        ("/projects/{project_id}/items", "post", "200"): (f"/projects/{empty}/items", write,
                                                          rows),
        ("/projects/{project_id}/items", "post", "400"): (
            f"/projects/{empty}/items", write,
            {"data": b'{"external_id": "x"}\n', "content_type": "application/x-ndjson"},
        ),
        ("/projects/{project_id}/items", "post", "401"): (f"/projects/{empty}/items", None,
                                                          rows),
        ("/projects/{project_id}/items", "post", "403"): (f"/projects/{empty}/items", alice,
                                                          rows),
        ("/projects/{project_id}/items", "post", "404"): (f"/projects/{bobs}/items", write,
                                                          rows),
        ("/projects/{project_id}/items", "post", "415"): (
            f"/projects/{empty}/items", write, {"data": b"x", "content_type": "text/plain"}
        ),
        ("/projects/{project_id}/answers", "get", "200"): (f"/projects/{done}/answers", alice,
                                                           {}),
        ("/projects/{project_id}/answers", "get", "400"): (f"/projects/{done}/answers?page=0",
                                                           alice, {}),
        ("/projects/{project_id}/answers", "get", "401"): (f"/projects/{done}/answers", None,
                                                           {}),
        ("/projects/{project_id}/answers", "get", "403"): (f"/projects/{done}/answers", mia, {}),
        ("/projects/{project_id}/answers", "get", "404"): (f"/projects/{bobs}/answers", alice,
                                                           {}),
        ("/projects/{project_id}/reviews", "post", "200"): (
            f"/projects/{done}/reviews", write, {"json": {"accept": [p.answer]}}
        ),
        ("/projects/{project_id}/reviews", "post", "400"): (
            f"/projects/{done}/reviews", write, {"json": {}}
        ),
        ("/projects/{project_id}/reviews", "post", "401"): (
            f"/projects/{done}/reviews", None, {"json": {"accept": "all"}}
        ),
        ("/projects/{project_id}/reviews", "post", "403"): (
            f"/projects/{done}/reviews", alice, {"json": {"accept": "all"}}
        ),
        ("/projects/{project_id}/reviews", "post", "404"): (
            f"/projects/{bobs}/reviews", write, {"json": {"accept": "all"}}
        ),
        ("/projects/{project_id}/reviews", "post", "409"): (
            f"/projects/{done}/reviews", write, {"json": reject}
        ),
        ("/projects/{project_id}/results", "get", "200"): (
            f"/projects/{done}/results?format=csv", alice, {}
        ),
        ("/projects/{project_id}/results", "get", "400"): (
            f"/projects/{done}/results?format=xml", alice, {}
        ),
        ("/projects/{project_id}/results", "get", "401"): (f"/projects/{done}/results", None,
                                                           {}),
        ("/projects/{project_id}/results", "get", "403"): (f"/projects/{done}/results", mia, {}),
        ("/projects/{project_id}/results", "get", "404"): (f"/projects/{bobs}/results", alice,
                                                           {}),
        ("/projects/{project_id}/results/proof", "get", "200"): (
            f"/projects/{done}/results/proof", alice, {}
        ),
        ("/projects/{project_id}/results/proof", "get", "400"): (
            f"/projects/{done}/results/proof?size=x", alice, {}
        ),
        ("/projects/{project_id}/results/proof", "get", "401"): (
            f"/projects/{done}/results/proof", None, {}
        ),
        ("/projects/{project_id}/results/proof", "get", "403"): (
            f"/projects/{done}/results/proof", mia, {}
        ),
        ("/projects/{project_id}/results/proof", "get", "404"): (
            f"/projects/{bobs}/results/proof?size=99999", alice, {}
        ),
    }


def _calls(w, p):
    """Return {(path, method, status): (url, token, kwargs)} exercising each documented
    response, in an order where the POSTs leave each later call's project as it needs."""
    file_id = w.delivery_a.files[0].id
    other_file = w.delivery_b.files[0].id
    alice = w.tokens["alice"]
    calls = {
        ("/tasks", "get", "200"): ("/tasks?page=1&per_page=5", alice),
        ("/tasks", "get", "400"): ("/tasks?per_page=1000", alice),
        ("/tasks", "get", "401"): ("/tasks", None),
        ("/tasks/{task_id}", "get", "200"): (f"/tasks/{w.task_a.id}", alice),
        ("/tasks/{task_id}", "get", "401"): (f"/tasks/{w.task_a.id}", "coop_revoked-or-fake"),
        ("/tasks/{task_id}", "get", "404"): (f"/tasks/{w.task_b.id}", alice),
        ("/deliveries/{delivery_id}/files/{file_id}", "get", "200"): (
            f"/deliveries/{w.delivery_a.id}/files/{file_id}", alice
        ),
        ("/deliveries/{delivery_id}/files/{file_id}", "get", "401"): (
            f"/deliveries/{w.delivery_a.id}/files/{file_id}", None
        ),
        ("/deliveries/{delivery_id}/files/{file_id}", "get", "404"): (
            f"/deliveries/{w.delivery_b.id}/files/{other_file}", alice
        ),
        ("/deliveries/{delivery_id}/bundle", "get", "200"): (
            f"/deliveries/{w.delivery_a.id}/bundle", w.tokens["mia"]
        ),
        ("/deliveries/{delivery_id}/bundle", "get", "401"): (
            f"/deliveries/{w.delivery_a.id}/bundle", None
        ),
        ("/deliveries/{delivery_id}/bundle", "get", "404"): (
            f"/deliveries/{w.delivery_b.id}/bundle", alice
        ),
        ("/openapi.json", "get", "200"): ("/openapi.json", None),
    }
    calls |= _ledger_calls(w)
    return {key: (url, token, {}) for key, (url, token) in calls.items()} | _project_calls(w, p)


def _ledger_calls(w):
    """The public ledger endpoints, documented under the site's root."""
    from coop.audit.ledger import latest_checkpoint
    from coop.audit.receipts import delivery_event

    size = latest_checkpoint().size  # its tiles are written
    index = delivery_event(w.delivery_a).ledger_index
    other = delivery_event(w.delivery_b).ledger_index
    alice = w.tokens["alice"]
    return {
        ("/ledger/checkpoint", "get", "200"): ("/ledger/checkpoint", None),
        ("/ledger/key", "get", "200"): ("/ledger/key", None),
        ("/ledger/keys", "get", "200"): ("/ledger/keys", None),
        ("/ledger/proof/inclusion", "get", "200"): (
            f"/ledger/proof/inclusion?index={index}&size={index + 1}", None
        ),
        ("/ledger/proof/inclusion", "get", "400"): ("/ledger/proof/inclusion?index=1&size=1",
                                                    None),
        ("/ledger/timestamps", "get", "200"): (f"/ledger/timestamps?size={size}", None),
        ("/ledger/timestamps", "get", "400"): ("/ledger/timestamps?size=many", None),
        ("/ledger/proof/consistency", "get", "200"): ("/ledger/proof/consistency?from=1&to=2",
                                                      None),
        ("/ledger/proof/consistency", "get", "400"): ("/ledger/proof/consistency?from=0&to=2",
                                                      None),
        ("/ledger/tile/{level}/{tile}", "get", "200"): (
            f"/ledger/tile/0/000.p/{size}" if size < 256 else "/ledger/tile/0/000", None
        ),
        ("/ledger/tile/{level}/{tile}", "get", "404"): ("/ledger/tile/0/67", None),
        ("/ledger/entries/{index}", "get", "200"): (f"/ledger/entries/{index}", alice),
        ("/ledger/entries/{index}", "get", "401"): (f"/ledger/entries/{index}", None),
        ("/ledger/entries/{index}", "get", "404"): (f"/ledger/entries/{other}", alice),
    }


def _prefix(doc, path: str) -> str:
    """Where a documented path is served: under /api/v1 unless it names its own server."""
    return "" if doc["paths"][path].get("servers") else PREFIX


def _documented(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                for status in operation["responses"]:
                    yield path, method, status


def _validate(doc, schema, instance):
    # Resolve "#/components/…" references against the document's own components.
    Draft202012Validator({**schema, "components": doc["components"]}).validate(instance)


def test_every_documented_response_is_what_the_api_answers(client, world, projects):  # noqa: F811
    served = client.get(f"{PREFIX}/openapi.json")
    assert served.status_code == 200
    doc = served.json
    assert doc == document()
    assert doc["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
    calls = _calls(world, projects)
    assert set(_documented(doc)) == set(calls)
    for (path, method, status), (url, token, kwargs) in calls.items():
        response = client.open(
            _prefix(doc, path) + url, method=method.upper(), headers=bearer(token) if token else {},
            **kwargs,
        )
        body = response.data
        response.close()
        assert str(response.status_code) == status, (path, method, status, body[:200])
        documented = doc["paths"][path][method]["responses"][status]
        media_type = response.mimetype if response.mimetype in documented["content"] else "*/*"
        assert media_type in documented["content"], (path, method, status, response.mimetype)
        if media_type == "application/json":
            _validate(doc, documented["content"][media_type]["schema"], response.json)
        for header in documented.get("headers", {}):
            assert header in response.headers, (path, status, header)
        needs_token = doc["paths"][path][method].get("security", doc["security"]) != []
        public = url == "/openapi.json" or (path.startswith("/ledger/") and "entries" not in path)
        assert needs_token == (not public)


def test_member_and_board_answers_match_the_schemas_too(client, world):  # noqa: F811
    doc = document()
    for who in ("mia", "noe", "board"):
        token = world.tokens[who]
        page = client.get(f"{PREFIX}/tasks", headers=bearer(token))
        _validate(doc, doc["paths"]["/tasks"]["get"]["responses"]["200"]["content"]
                  ["application/json"]["schema"], page.json)
        for task in page.json["tasks"]:
            detail = client.get(f"{PREFIX}/tasks/{task['id']}", headers=bearer(token))
            schema = doc["paths"]["/tasks/{task_id}"]["get"]["responses"]["200"]["content"][
                "application/json"
            ]["schema"]
            _validate(doc, schema, detail.json)
            assert detail.json["deliveries"], who


def test_the_schemas_are_strict(client, world):  # noqa: F811
    """An undocumented field in an answer fails validation: the schemas cannot drift silently."""
    doc = document()
    detail = client.get(f"{PREFIX}/tasks/{world.task_a.id}", headers=bearer(world.tokens["alice"]))
    schema = {"$ref": "#/components/schemas/Task"}
    _validate(doc, schema, detail.json)
    from jsonschema import ValidationError

    with pytest.raises(ValidationError):
        _validate(doc, schema, {**detail.json, "secret": "x"})
    broken = dict(detail.json)
    broken["deliveries"] = [{**broken["deliveries"][0], "submitted_at": "yesterday"}]
    with pytest.raises(ValidationError):
        _validate(doc, schema, broken)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)[len(PREFIX):]


def test_every_api_route_is_documented_and_nothing_else(app):
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    doc = document()
    documented = {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS and "servers" not in item
    }
    assert routes == documented
    # The ledger's endpoints are documented at the site's root, and exist there.
    served = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    at_root = {
        (path.replace("{tile}", "{rest}"), method)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS and "servers" in item
    }
    assert at_root <= served
    assert {path for path, _ in served if path.startswith("/ledger/")} - {"/ledger/"} <= {
        path for path, _ in at_root
    }
    # Only projects are written through the API; tasks and deliveries are read.
    assert all(method == "get" or path.startswith("/projects") for path, method in routes)


def test_path_parameters_match_the_templates():
    for path, item in document()["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
