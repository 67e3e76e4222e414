"""The public ledger endpoints (/ledger/...) in the OpenAPI document.

They live at the site's root, not under /api/v1, so each path item names its own server; all
but the entries need no token. Formats are in docs/ledger-format.md §3 and §4.
"""

ROOT_SERVER = [{"url": "/", "description": "The site's root: the ledger is not under /api/v1."}]
BASE64_HASH = {"type": "string", "contentEncoding": "base64", "minLength": 44, "maxLength": 44}
PUBLIC = {"security": []}


def _text(description: str) -> dict:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _error(description: str) -> dict:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, minimum: int) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": minimum},
    }


def _proof(properties: dict, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": list(properties),
                    "additionalProperties": False,
                }
            }
        },
    }


HASHES = {"type": "array", "items": BASE64_HASH, "description": "Bottom-up, as RFC 9162 lists."}

LEDGER_PATHS = {
    "/ledger/checkpoint": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getCheckpoint",
            "summary": "The latest signed checkpoint, with its witnesses' cosignatures",
            "description": (
                "A C2SP tlog-checkpoint signed note: origin, tree size, base64 root, a blank "
                "line, then the log's signature and one cosignature/v1 line per witness. Check "
                "the origin line as well as the signature."
            ),
            "responses": {"200": _text("The signed checkpoint note.")},
        },
    },
    "/ledger/key": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getLedgerKey",
            "summary": "The log's current verifier key",
            "description": "name+keyid+base64 (split on the first two '+' only).",
            "responses": {"200": _text("One line: the note verifier key.")},
        },
    },
    "/ledger/keys": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getLedgerKeys",
            "summary": "Every verifier key the log has signed with, the current first",
            "description": "Old keys stay listed after a rotation: their checkpoints stay valid.",
            "responses": {"200": _text("One verifier key per line.")},
        },
    },
    "/ledger/proof/inclusion": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getInclusionProof",
            "summary": "RFC 9162 inclusion proof of a leaf in a tree size",
            "parameters": [
                _query("index", "The leaf (entry index), below size.", 0),
                _query("size", "A tree size up to the log's size.", 1),
            ],
            "responses": {
                "200": _proof(
                    {
                        "index": {"type": "integer", "minimum": 0},
                        "size": {"type": "integer", "minimum": 1},
                        "leaf_hash": BASE64_HASH,
                        "hashes": HASHES,
                    },
                    "The inclusion proof.",
                ),
                "400": _error("index or size is not a whole number, or out of range."),
            },
        },
    },
    "/ledger/timestamps": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getLedgerTimestamps",
            "summary": "RFC 3161 time-stamps of published checkpoints, up to a tree size",
            "description": (
                "Each stamp: the signed checkpoint note, the base64 DER time-stamp token "
                "imprinting its body, whether the TSA is configured as qualified, and a "
                "consistency proof from that checkpoint's tree to size (docs/ledger-format.md "
                "§9). What `python -m ledger monitor` checks."
            ),
            "parameters": [
                _query("size", "A published tree size (default: the latest checkpoint's).", 1),
            ],
            "responses": {
                "200": _proof(
                    {
                        "size": {"type": "integer", "minimum": 0},
                        "timestamps": {"type": "array", "items": {"type": "object"}},
                    },
                    "The stamps, oldest first.",
                ),
                "400": _error("size is not a whole number."),
            },
        },
    },
    "/ledger/proof/consistency": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getConsistencyProof",
            "summary": "RFC 9162 consistency proof between two tree sizes",
            "parameters": [
                _query("from", "The older size (at least 1).", 1),
                _query("to", "The newer size, up to the log's size.", 1),
            ],
            "responses": {
                "200": _proof(
                    {
                        "from": {"type": "integer", "minimum": 1},
                        "to": {"type": "integer", "minimum": 1},
                        "hashes": HASHES,
                    },
                    "The consistency proof (empty between equal sizes).",
                ),
                "400": _error("from or to is not a whole number, or out of range."),
            },
        },
    },
    "/ledger/tile/{level}/{tile}": {
        "servers": ROOT_SERVER,
        "get": {
            **PUBLIC,
            "operationId": "getTile",
            "summary": "A C2SP tlog-tiles hash tile",
            "parameters": [
                {
                    "name": "level",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
                {
                    "name": "tile",
                    "in": "path",
                    "required": True,
                    "description": (
                        "The tile index in groups of three digits, all but the last prefixed "
                        "with x and joined by unescaped '/' (067, x001/x234/067), then .p/W "
                        "for a partial tile of width W."
                    ),
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": {
                    "description": "32-byte hashes, nothing else. Full tiles are immutable.",
                    "headers": {"Cache-Control": {"schema": {"type": "string"}}},
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "404": _error("No such tile (not written yet, or not the canonical path)."),
            },
        },
    },
    "/ledger/entries/{index}": {
        "servers": ROOT_SERVER,
        "get": {
            "operationId": "getLedgerEntry",
            "summary": "An entry's stored bytes, exactly as hashed",
            "description": "For the people the entry concerns (docs/api.md, who sees what).",
            "parameters": [
                {
                    "name": "index",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
            ],
            "responses": {
                "200": {
                    "description": "The canonical entry bytes (docs/ledger-format.md §1).",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": _error("No token, or an unknown or revoked one."),
                "404": _error("No such entry, or not one the caller may see."),
            },
        },
    },
}
