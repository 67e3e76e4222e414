"""The OpenAPI document says what the API does: every route under /api/v1 is documented and
every documented operation exists; calling each documented operation for each documented
status, with real tokens and real objects, answers that status with a body that validates
against the documented schema (and the documented media type)."""

import re

import pytest
from jsonschema import Draft202012Validator
from test_api import bearer, world  # noqa: F401 - world is a fixture

from coop.api.openapi import document

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _calls(w):
    """Return {(path, method, status): (url, token)} exercising each documented response."""
    file_id = w.delivery_a.files[0].id
    other_file = w.delivery_b.files[0].id
    alice = w.tokens["alice"]
    return {
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


def _documented(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                for status in operation["responses"]:
                    yield path, method, status


def _validate(doc, schema, instance):
    # Resolve "#/components/…" references against the document's own components.
    Draft202012Validator({**schema, "components": doc["components"]}).validate(instance)


def test_every_documented_response_is_what_the_api_answers(client, world):  # noqa: F811
    served = client.get(f"{PREFIX}/openapi.json")
    assert served.status_code == 200
    doc = served.json
    assert doc == document()
    assert doc["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
    calls = _calls(world)
    assert set(_documented(doc)) == set(calls)
    for (path, method, status), (url, token) in calls.items():
        response = client.open(
            PREFIX + url, method=method.upper(), headers=bearer(token) if token else {}
        )
        body = response.data
        response.close()
        assert str(response.status_code) == status, (path, status, body[:200])
        documented = doc["paths"][path][method]["responses"][status]
        ((media_type, content),) = documented["content"].items()
        if media_type != "*/*":
            assert response.mimetype == media_type, (path, status)
        if media_type == "application/json":
            _validate(doc, content["schema"], response.json)
        for header in documented.get("headers", {}):
            assert header in response.headers, (path, status, header)
        needs_token = doc["paths"][path][method].get("security", doc["security"]) != []
        assert needs_token == (url != "/openapi.json")


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
        if method in METHODS
    }
    assert routes == documented
    assert all(method == "get" for _path, method in routes)  # the API is read-only


def test_path_parameters_match_the_templates():
    for path, item in document()["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
