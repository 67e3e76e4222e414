"""API tokens get a scope: read (GET only) or write (GET and POST).

Tokens made before scopes existed could only read, so they keep exactly that.
"""

import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    scope = peewee.CharField(max_length=8, default="read")
    migrate(migrator.add_column("api_token", "scope", scope))
