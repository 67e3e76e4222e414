"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Schemas are strict (every field required, no others allowed) so the test that calls each
documented operation and validates the answer catches any drift between this and the views.
"""

from coop.api.openapi_ledger import LEDGER_PATHS
from coop.models import CATEGORIES, DeliveryState, Pricing, TaskState
from coop.projects.models import ProjectState
from ledger.verify import BUNDLE_FORMAT

PER_PAGE = 20
MAX_PER_PAGE = 100
RFC3339_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
SHA256_HEX = r"^[0-9a-f]{64}$"
CHECKPOINT_SIZE_HEADER = "Coop-Checkpoint-Size"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, description: str = "") -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _time(description: str, nullable: bool = False) -> dict:
    return {
        "type": ["string", "null"] if nullable else "string",
        "format": "date-time",
        "pattern": RFC3339_UTC,
        "description": description + " (RFC 3339, UTC)",
    }


def _integer(description: str, nullable: bool = False, minimum: int | None = None) -> dict:
    schema = {"type": ["integer", "null"] if nullable else "integer", "description": description}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


TASK_FIELDS = {
    "id": _integer("The task's id.", minimum=1),
    "title": {"type": "string"},
    "description": {"type": "string"},
    "instructions": {"type": "string"},
    "category": {"type": "string", "enum": list(CATEGORIES)},
    "state": {"type": "string", "enum": [state.value for state in TaskState]},
    "pricing": {"type": "string", "enum": [pricing.value for pricing in Pricing]},
    "price_cents": _integer("Fixed price, or the awarded bid, in euro cents.", nullable=True),
    "budget_cents": _integer("Ceiling for bids, in euro cents.", nullable=True),
    "estimated_minutes": _integer("The client's estimate of the work.", minimum=1),
    "deadline": _time("Delivery deadline"),
    "bidding_deadline": _time("End of bidding, for tasks open to bids", nullable=True),
    "created_at": _time("When the task was posted"),
    "completed_at": _time("When a delivery was accepted", nullable=True),
    "attempts": _integer("Deliveries made so far.", minimum=0),
    "sensitive": {"type": "boolean"},
    "member": {
        "type": ["string", "null"],
        "description": "Pseudonym of the member who holds the task now; shown to the "
        "client, the board and that member only (null for anyone else).",
    },
    "url": {"type": "string", "format": "uri", "description": "This task in the API."},
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for a person."},
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
            "field": {"type": "string", "description": "The input field at fault, if one is."},
        },
        "required": ["error", "status"],
        "additionalProperties": False,
    },
    "TaskSummary": _object(TASK_FIELDS),
    "TaskPage": _object(
        {
            "tasks": {"type": "array", "items": _ref("TaskSummary")},
            "page": _integer("This page's number.", minimum=1),
            "per_page": _integer("Tasks per page.", minimum=1),
            "total": _integer("Tasks in all pages.", minimum=0),
            "pages": _integer("Number of pages (at least 1).", minimum=1),
        },
        "One page of my tasks, newest first.",
    ),
    "DeliveredFile": _object(
        {
            "id": _integer("The file's id.", minimum=1),
            "filename": {"type": "string"},
            "size": _integer("Size in bytes.", minimum=0),
            "sha256": {"type": "string", "pattern": SHA256_HEX},
            "url": {"type": "string", "format": "uri", "description": "Download address."},
        }
    ),
    "LedgerRef": _object(
        {
            "index": _integer("The entry's 0-based index in the ledger.", minimum=0),
            "unix_ns": _integer("The entry's NTP time, nanoseconds since the Unix epoch."),
        },
        "Where the delivery.submitted entry sits in the ledger.",
    ),
    "Delivery": _object(
        {
            "id": _integer("The delivery's id.", minimum=1),
            "attempt": _integer("1 for the first delivery, 2 for a resubmission…", minimum=1),
            "state": {"type": "string", "enum": [state.value for state in DeliveryState]},
            "submitted_at": _time("When it was delivered"),
            "on_time": {"type": "boolean", "description": "Delivered by the deadline."},
            "note": {"type": "string", "description": "The member's note."},
            "files": {"type": "array", "items": _ref("DeliveredFile")},
            "ledger": {"oneOf": [_ref("LedgerRef"), {"type": "null"}]},
            "bundle_url": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "The proof bundle of the ledger entry.",
            },
        }
    ),
    "Task": _object(
        {**TASK_FIELDS, "deliveries": {"type": "array", "items": _ref("Delivery")}},
        "A task with the deliveries the caller may see, oldest first.",
    ),
    "Bundle": {
        "type": "object",
        "description": (
            "A receipt bundle (docs/ledger-format.md): check it offline with "
            "`python -m ledger verify-bundle FILE --key VKEY --file DELIVERABLE`."
        ),
        "properties": {
            "format": {"type": "string", "const": BUNDLE_FORMAT},
            "index": _integer("The entry's index.", minimum=0),
            "size": _integer("Tree size of the checkpoint.", minimum=1),
            "entry": {"type": "string", "contentEncoding": "base64"},
            "inclusion": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "size": {"type": "integer"},
                    "leaf_hash": {"type": "string", "contentEncoding": "base64"},
                    "hashes": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["index", "size", "leaf_hash", "hashes"],
            },
            "checkpoint": {"type": "string", "description": "C2SP signed checkpoint note."},
            "verifier_key": {"type": "string", "description": "Note verifier key."},
            "timestamps": {
                "type": "array",
                "description": (
                    "RFC 3161 time-stamps of checkpoints bounding the entry's time "
                    "(docs/ledger-format.md §9); present when TSAs are configured."
                ),
                "items": {
                    "type": "object",
                    "properties": {
                        "checkpoint": {"type": "string"},
                        "token": {"type": "string", "contentEncoding": "base64"},
                        "qualified": {"type": "boolean"},
                        "consistency": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["checkpoint", "token", "qualified", "consistency"],
                },
            },
            "interval": {
                "type": "array",
                "description": "Per TSA, the interval its stamps prove (RFC 3339; null: none).",
                "items": {
                    "type": "object",
                    "properties": {
                        "tsa": {"type": "string"},
                        "qualified": {"type": "boolean"},
                        "after": {"type": ["string", "null"]},
                        "before": {"type": ["string", "null"]},
                    },
                    "required": ["tsa", "qualified", "after", "before"],
                },
            },
        },
        "required": ["format", "index", "size", "entry", "inclusion", "checkpoint"],
    },
}


def _error(description: str, challenge: bool = False) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if challenge:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": 'Bearer realm="coop" (with error="invalid_token" for a bad one)',
                "schema": {"type": "string"},
            }
        }
    return response


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_id(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 0},
    }


UNAUTHORIZED = _error("No token, or an unknown or revoked one.", challenge=True)
NOT_FOUND = _error("No such object, or not the caller's to see.")

PATHS = {
    "/tasks": {
        "get": {
            "operationId": "listTasks",
            "summary": "My tasks",
            "description": (
                "A client's posted tasks; a member's tasks they hold or held; "
                "every task for the board. Newest first."
            ),
            "parameters": [
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PER_PAGE,
                        "default": PER_PAGE,
                    },
                },
            ],
            "responses": {
                "200": _json("One page of tasks.", _ref("TaskPage")),
                "400": _error("page or per_page is not a whole number in range."),
                "401": UNAUTHORIZED,
            },
        }
    },
    "/tasks/{task_id}": {
        "get": {
            "operationId": "getTask",
            "summary": "A task with its deliveries",
            "parameters": [_path_id("task_id", "The task's id.")],
            "responses": {
                "200": _json("The task.", _ref("Task")),
                "401": UNAUTHORIZED,
                "404": NOT_FOUND,
            },
        }
    },
    "/deliveries/{delivery_id}/files/{file_id}": {
        "get": {
            "operationId": "downloadDeliveryFile",
            "summary": "Download a delivered file",
            "description": "For the task's client, the delivering member and the board.",
            "parameters": [
                _path_id("delivery_id", "The delivery's id."),
                _path_id("file_id", "The file's id, from the delivery's files."),
            ],
            "responses": {
                "200": {
                    "description": "The bytes, as an attachment, typed as the upload declared.",
                    "headers": {
                        "Repr-Digest": {
                            "description": "RFC 9530 digest: sha-256=:base64 of the SHA-256:",
                            "schema": {"type": "string"},
                        },
                        "Content-Disposition": {"schema": {"type": "string"}},
                    },
                    "content": {
                        "*/*": {
                            "schema": {"type": "string", "format": "binary"},
                        }
                    },
                },
                "401": UNAUTHORIZED,
                "404": NOT_FOUND,
            },
        }
    },
    "/deliveries/{delivery_id}/bundle": {
        "get": {
            "operationId": "getDeliveryBundle",
            "summary": "The proof bundle of a delivery's ledger entry",
            "description": "Sent as the attachment delivery-<id>-bundle.json.",
            "parameters": [_path_id("delivery_id", "The delivery's id.")],
            "responses": {
                "200": {
                    **_json("The receipt bundle.", _ref("Bundle")),
                    "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                },
                "401": UNAUTHORIZED,
                "404": NOT_FOUND,
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": _json("The OpenAPI document.", {"type": "object"}),
            },
        }
    },
}


# --- projects --------------------------------------------------------------------------------

PROJECT_FIELDS = {
    "id": _integer("The project's id.", minimum=1),
    "title": {"type": "string"},
    "instructions": {"type": "string", "description": "Shown to members beside every item."},
    "template": {
        "type": "object",
        "description": "The template and its configuration (docs/guides/client-projects.md).",
    },
    "state": {"type": "string", "enum": [state.value for state in ProjectState]},
    "pause_reason": {
        "type": ["string", "null"],
        "description": "below_floor when the coop paused it: members' median time pays less "
        "than the floor, raise the price on the project page.",
    },
    "price_cents": _integer("Price per answer, the coop's margin included.", minimum=1),
    "estimated_seconds": _integer("The client's estimate per item.", minimum=1),
    "overlap": _integer("Answers wanted per item.", minimum=1),
    "deadline": _time("No item is handed out after this"),
    "budget_cents": _integer("Budget cap, in euro cents.", minimum=1),
    "sensitive": {"type": "boolean"},
    "content_note": {"type": "string", "description": "What the sensitive content is."},
    "fair_share": {
        "type": "boolean",
        "description": "The last share of the answers is kept for members who worked less "
        "this week (the board's fair_share_bp and fair_share_hours).",
    },
    "items": _integer("Items uploaded.", minimum=0),
    "created_at": _time("When the project was created"),
    "published_at": _time("When it was first published", nullable=True),
    "url": {"type": "string", "format": "uri", "description": "This project in the API."},
}

STATS_FIELDS = {
    "items": _integer("Items uploaded.", minimum=0),
    "wanted": _integer("Answers wanted: items × overlap.", minimum=0),
    "answered": _integer("Answers given.", minimum=0),
    "pending": _integer("Answers waiting for review.", minimum=0),
    "accepted": _integer("Answers accepted (paid).", minimum=0),
    "rejected": _integer("Answers rejected.", minimum=0),
    "skipped": _integer("Items skipped by a member.", minimum=0),
    "median_seconds": _integer("Median measured seconds per answer.", nullable=True),
    "net_cents": _integer("What a member earns per answer.", minimum=0),
    "net_per_hour_cents": _integer("Net pay per hour on the median time.", nullable=True),
    "spent_cents": _integer("Paid so far, top-ups included.", minimum=0),
    "budget_cents": _integer("The budget cap.", minimum=0),
    "minimum_price_cents": _integer("The lowest price that keeps the pay floor.", minimum=0),
}

PROJECT_SCHEMAS = {
    "ProjectSummary": _object(PROJECT_FIELDS),
    "Project": _object(
        {
            **PROJECT_FIELDS,
            "qualifications": {
                "type": "array",
                "description": "Qualifications a member must hold to receive the items, with "
                "how many members hold each now (never who).",
                "items": _object({
                    "id": _integer("The qualification's id.", minimum=1),
                    "name": {"type": "string"},
                    "holders": _integer("Members holding it now.", minimum=0),
                }),
            },
            "stats": _object(STATS_FIELDS, "The project's figures."),
        },
        "A project with its figures.",
    ),
    "ProjectPage": _object(
        {
            "projects": {"type": "array", "items": _ref("ProjectSummary")},
            "page": _integer("This page's number.", minimum=1),
            "per_page": _integer("Projects per page.", minimum=1),
            "total": _integer("Projects in all pages.", minimum=0),
            "pages": _integer("Number of pages (at least 1).", minimum=1),
        },
        "One page of my projects, newest first.",
    ),
    "NewProject": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 120},
            "instructions": {"type": "string", "maxLength": 10_000},
            "template": {"type": "object", "description": "kind and configuration."},
            "price_cents": {"type": "integer", "minimum": 1},
            "estimated_seconds": {"type": "integer", "minimum": 1, "maximum": 3600},
            "overlap": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            "deadline": {"type": "string", "format": "date-time"},
            "budget_cents": {"type": "integer", "minimum": 1},
            "sensitive": {"type": "boolean", "default": False},
            "content_note": {"type": "string", "maxLength": 300, "default": ""},
            "fair_share": {"type": "boolean", "default": False},
        },
        "required": [
            "title", "instructions", "template", "price_cents", "estimated_seconds",
            "deadline", "budget_cents",
        ],
        "additionalProperties": False,
    },
    "ImportReport": _object(
        {
            "imported": _integer("Items added.", minimum=0),
            "unchanged": _integer("Rows whose external_id the project has: left as they are.",
                                  minimum=0),
            "errors": {
                "type": "array",
                "items": _object({
                    "line": _integer("Line number in the file (1 is the first).", minimum=1),
                    "reason": {"type": "string"},
                }),
            },
            "more_errors": _integer("Bad rows beyond those listed.", minimum=0),
        },
        "What an upload did; with any error, nothing was imported.",
    ),
    "Review": {
        "oneOf": [
            _object({
                "accept": {
                    "oneOf": [
                        {"const": "all"},
                        {"type": "array", "items": {"type": "integer", "minimum": 1},
                         "minItems": 1},
                    ]
                }
            }),
            _object({
                "reject": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object({
                        "answer": {"type": "integer", "minimum": 1},
                        "category": {
                            "type": "string",
                            "enum": ["wrong", "instructions", "incomplete", "spam"],
                        },
                        "reason": {"type": "string", "minLength": 10, "maxLength": 2000},
                    }),
                }
            }),
        ],
    },
    "AnswerPage": _object(
        {
            "answers": {
                "type": "array",
                "items": _object({
                    "id": _integer("The answer's id, for reviews.", minimum=1),
                    "external_id": {"type": "string", "description": "The item's id."},
                    "answer": {"type": "object", "description": "As the template shapes it."},
                    "member": {"type": "string", "description": "The member's pseudonym."},
                    "seconds": _integer("Measured seconds.", minimum=0),
                    "state": {"type": "string", "enum": ["pending", "accepted", "rejected"]},
                    "reject_reason": {"type": "string"},
                }),
            },
            "page": _integer("This page's number.", minimum=1),
            "more": {"type": "boolean", "description": "Another page follows."},
        },
        "A page of the project's answers (50), pending first, then by id.",
    ),
    "ReviewResult": _object(
        {
            "accepted": _integer("Answers accepted (and paid).", minimum=0),
            "rejected": _integer("Answers rejected.", minimum=0),
        }
    ),
}
SCHEMAS.update(PROJECT_SCHEMAS)

FORBIDDEN = _error("A read-only token (for a POST), or a caller who is not a client.")
BAD_INPUT = _error("The operation refused the input; field names the input at fault.")
CHECKPOINT_SIZE = {
    CHECKPOINT_SIZE_HEADER: {
        "description": "Size of the published checkpoint the file is cut at.",
        "schema": {"type": "integer"},
    },
    "Content-Disposition": {"schema": {"type": "string"}},
}
PROJECT_ID = _path_id("project_id", "The project's id.")
SIZE = {
    "name": "size",
    "in": "query",
    "description": "A published checkpoint's size (the latest when absent); download the "
    "results and the proof with the same size.",
    "schema": {"type": "integer", "minimum": 1},
}


def _body(schema: dict, media_types=("application/json",)) -> dict:
    return {"required": True, "content": {t: {"schema": schema} for t in media_types}}


def _state_change(operation_id: str, summary: str, extra: dict) -> dict:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [PROJECT_ID],
            "responses": {
                "200": _json("The project in its new state.", _ref("ProjectSummary")),
                **extra,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": _error("The project's state does not allow it."),
            },
        }
    }


PATHS.update({
    "/projects": {
        "get": {
            "operationId": "listProjects",
            "summary": "My projects",
            "parameters": PATHS["/tasks"]["get"]["parameters"],
            "responses": {
                "200": _json("One page of projects.", _ref("ProjectPage")),
                "400": _error("page or per_page is not a whole number in range."),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
            },
        },
        "post": {
            "operationId": "createProject",
            "summary": "Create a draft project",
            "description": "The price per item must keep the pay floor on the estimate.",
            "requestBody": _body(_ref("NewProject")),
            "responses": {
                "201": {
                    **_json("The new draft.", _ref("ProjectSummary")),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": BAD_INPUT,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
            },
        },
    },
    "/projects/{project_id}": {
        "get": {
            "operationId": "getProject",
            "summary": "A project with its counts, median time, net pay per hour and spend",
            "parameters": [PROJECT_ID],
            "responses": {
                "200": _json("The project.", _ref("Project")),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        }
    },
    "/projects/{project_id}/items": {
        "post": {
            "operationId": "uploadItems",
            "summary": "Add items from a CSV or JSON Lines body",
            "description": (
                "One item per row with its external_id and the template's fields, streamed as "
                "it arrives. Rows whose external_id the project has are left unchanged and "
                "counted. Any bad row imports nothing. Media (zip) only through the web page."
            ),
            "parameters": [PROJECT_ID],
            "requestBody": _body(
                {"type": "string"},
                ("text/csv", "application/x-ndjson", "application/jsonl"),
            ),
            "responses": {
                "200": _json("The import report.", _ref("ImportReport")),
                "400": _json(
                    "Bad rows (the report; nothing imported), or a refusal.",
                    {"oneOf": [_ref("ImportReport"), _ref("Error")]},
                ),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "415": _error("The body is neither CSV nor JSON Lines."),
            },
        }
    },
    "/projects/{project_id}/publish": _state_change(
        "publishProject", "Publish a draft or resume a paused project",
        {"400": _error("No items, the deadline passed, or the price or budget is too low.")},
    ),
    "/projects/{project_id}/pause": _state_change(
        "pauseProject", "Stop handing out items", {},
    ),
    "/projects/{project_id}/answers": {
        "get": {
            "operationId": "listProjectAnswers",
            "summary": "The project's answers with their ids, pending first",
            "parameters": [
                PROJECT_ID,
                {"name": "page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
            ],
            "responses": {
                "200": _json("A page of answers.", _ref("AnswerPage")),
                "400": _error("page is not a whole number in range."),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        }
    },
    "/projects/{project_id}/reviews": {
        "post": {
            "operationId": "reviewAnswers",
            "summary": "Accept answers (all, or some) or reject some with a reason",
            "description": "A list of rejections is applied all or none.",
            "parameters": [PROJECT_ID],
            "requestBody": _body(_ref("Review")),
            "responses": {
                "200": _json("How many answers were reviewed.", _ref("ReviewResult")),
                "400": BAD_INPUT,
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": _error("An answer was already reviewed."),
            },
        }
    },
    "/projects/{project_id}/results": {
        "get": {
            "operationId": "getProjectResults",
            "summary": "The results file, one row per answer, streamed",
            "description": (
                "Cut at one published checkpoint; check it with the proof of the same size: "
                "`python -m ledger verify-results RESULTS PROOF --key VKEY`. 503 when no "
                "checkpoint has been published yet. Each row also gives its item's gold flag "
                "and aggregated answer (`gold`, `aggregate`, `confidence`, `method`), which the "
                "proof does not cover."
            ),
            "parameters": [
                PROJECT_ID,
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"},
                },
                SIZE,
                {
                    "name": "method",
                    "in": "query",
                    "description": (
                        "How each item's answers are aggregated: majority or dawid_skene for "
                        "labels (default majority), most_similar or majority for free text "
                        "(default most_similar)."
                    ),
                    "schema": {"type": "string",
                               "enum": ["majority", "dawid_skene", "most_similar"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "The results.",
                    "headers": CHECKPOINT_SIZE,
                    "content": {
                        "application/x-ndjson": {"schema": {"type": "string"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "400": _error("format, size or method is not valid."),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": _error("No such project among yours, or no checkpoint of that size."),
            },
        }
    },
    "/projects/{project_id}/results/proof": {
        "get": {
            "operationId": "getProjectResultsProof",
            "summary": "The proof file binding every results row to the checkpoint",
            "description": "Format in docs/ledger-format.md.",
            "parameters": [PROJECT_ID, SIZE],
            "responses": {
                "200": {
                    "description": "The proof (JSON Lines).",
                    "headers": CHECKPOINT_SIZE,
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                "400": _error("size is not valid."),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN,
                "404": _error("No such project among yours, or no checkpoint of that size."),
            },
        }
    },
})


def document() -> dict:
    """Return the OpenAPI document of /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Coop client API",
            "version": "1.0.0",
            "description": (
                "Read your tasks, their deliveries, the delivered files and the ledger "
                "proof of each delivery; fetch the public ledger's checkpoint, keys, proofs "
                "and tiles (under the site's root, no token); run micro-task projects "
                "(create, upload items, publish, review, download results with their "
                "proof). Create a token under Settings → API tokens and send it as "
                "`Authorization: Bearer coop_…`; a read-only token is refused every POST (403)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {**PATHS, **LEDGER_PATHS},
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (coop_…) from Settings → API tokens.",
                }
            },
            "schemas": SCHEMAS,
        },
    }
