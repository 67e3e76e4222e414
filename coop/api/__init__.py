"""The client API under /api/v1: JSON, authenticated by bearer tokens only (read or write scope).

views.py holds the routes, projects.py those of micro-task projects, openapi.py the OpenAPI 3.1
document that describes them.
"""
