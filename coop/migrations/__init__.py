"""Schema migrations, applied in order and recorded in schema_version.

Each migration is a module `mNNNN_name.py` with `up(migrator, database)`, where migrator is
peewee's playhouse.migrate SchemaMigrator for the backend. A deployed database upgrades by
running `coop init` (or `coop migrate`) again: only migrations not yet recorded run, each in
its own transaction. Never edit a migration that has shipped; add a new one.

A migration describes its own change: it declares the columns and tables it adds as they are at
that step and never imports coop.models, whose shapes move on (tests/test_migrations.py upgrades
a database from every earlier step and compares it with a fresh one and with the live models).
"""

import importlib
import pkgutil

from playhouse.migrate import SchemaMigrator

from coop.db import database
from coop.models import SchemaVersion


def available() -> list[str]:
    """Return the names of the migration modules, in the order they apply."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("m")]
    return sorted(names)


def pending() -> list[str]:
    """Return the migrations this database has not run yet."""
    database.create_tables([SchemaVersion], safe=True)
    done = {row.name for row in SchemaVersion.select()}
    return [name for name in available() if name not in done]


def upgrade(until: str | None = None) -> list[str]:
    """Apply the pending migrations (up to and including `until`); return the names applied."""
    applied = []
    migrator = SchemaMigrator.from_database(database.obj)
    for name in pending():
        if until is not None and name > until:
            break
        module = importlib.import_module(f"{__name__}.{name}")
        with database.atomic():
            module.up(migrator, database)
            SchemaVersion.create(name=name)
        applied.append(name)
    return applied
