"""The client API under /api/v1: read-only JSON, authenticated by bearer tokens only.

views.py holds the routes, openapi.py the OpenAPI 3.1 document that describes them.
"""
