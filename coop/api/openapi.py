"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Schemas are strict (every field required, no others allowed) so the test that calls each
documented operation and validates the answer catches any drift between this and the views.
"""

from coop.models import CATEGORIES, DeliveryState, Pricing, TaskState
from ledger.verify import BUNDLE_FORMAT

PER_PAGE = 20
MAX_PER_PAGE = 100
RFC3339_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
SHA256_HEX = r"^[0-9a-f]{64}$"


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
    "Error": _object(
        {
            "error": {"type": "string", "description": "What went wrong, for a person."},
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
        }
    ),
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


def document() -> dict:
    """Return the OpenAPI document of /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Coop client API",
            "version": "1.0.0",
            "description": (
                "Read your tasks, their deliveries, the delivered files and the ledger "
                "proof of each delivery. Create a token under Settings → API tokens and send "
                "it as `Authorization: Bearer coop_…`."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
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
