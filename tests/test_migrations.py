"""Migrations describe their own changes: a database made by any earlier release upgrades to
the same schema as a fresh one, and that schema is what the live models declare.

An older database is simulated by applying the migrations only up to a step (with a row in
each table that exists then), then upgrading it as `coop init` does on a deployed instance.
"""

import peewee
import pytest

import ledger.store
from coop import migrations
from coop.db import database
from coop.governance.models import MODELS as GOVERNANCE_MODELS
from coop.migrations.m0001_initial import frozen_models
from coop.models import MODELS, ApiToken, SchemaVersion, utcnow
from coop.projects.models import MODELS as PROJECT_MODELS
from coop.quality.models import MODELS as QUALITY_MODELS
from coop.statements.models import MODELS as STATEMENT_MODELS

LIVE_MODELS = [
    SchemaVersion, *MODELS, *STATEMENT_MODELS, *PROJECT_MODELS, *QUALITY_MODELS,
    *GOVERNANCE_MODELS, ApiToken, *ledger.store.TABLES,
]


def _drop_everything():
    tables = database.get_tables()
    if not tables:
        return
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        database.execute_sql("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    else:
        database.execute_sql("PRAGMA foreign_keys = OFF")
        for table in tables:
            # IF EXISTS: dropping the search index (task_fts) drops its shadow tables with it.
            database.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
        database.execute_sql("PRAGMA foreign_keys = ON")


def _schema() -> dict:
    """Tables -> (columns with type and nullability, indexes with their columns and uniqueness)."""
    schema = {}
    for table in sorted(database.get_tables()):
        columns = sorted(
            (c.name, c.data_type.lower(), c.null, c.primary_key)
            for c in database.get_columns(table)
        )
        indexes = sorted(
            (tuple(i.columns), i.unique) for i in database.get_indexes(table)
        )
        schema[table] = (columns, indexes)
    return schema


def _an_old_member():
    """Store a member as the first release's schema had them."""
    (user,) = [m for m in frozen_models(database) if m.__name__ == "User"]
    user.create(
        email="old@example.test", name="Old", password_hash="x", role="member",
        member_status="active", application_note="", decline_reason="", pseudonym="w-old",
        sensitive_opt_in=False, capital_cents=0, timezone="Europe/Paris", created_at=utcnow(),
    )  # fmt: skip


def _columns_only(schema: dict) -> dict:
    return {table: columns for table, (columns, _indexes) in schema.items()}


@pytest.fixture
def fresh_schema(app):
    _drop_everything()
    migrations.upgrade()
    yield _schema()
    # Leave the (shared, on PostgreSQL) database fully migrated for the tests that follow.
    _drop_everything()
    migrations.upgrade()


@pytest.mark.parametrize("step", range(len(migrations.available())))
def test_upgrading_from_each_earlier_step_gives_the_fresh_schema(app, fresh_schema, step):
    names = migrations.available()
    _drop_everything()
    migrations.upgrade(until=names[0])
    _an_old_member()
    migrations.upgrade(until=names[step])
    assert [row.name for row in SchemaVersion.select().order_by(SchemaVersion.name)] == names[
        : step + 1
    ]
    applied = migrations.upgrade()
    assert applied == names[step + 1 :]
    assert _schema() == fresh_schema
    assert database.execute_sql('SELECT email FROM "user"').fetchall() == [("old@example.test",)]


def _not_search_index(schema: dict) -> dict:
    """Leave out SQLite's search index (task_fts and its shadow tables): no model declares it."""
    return {t: v for t, v in schema.items() if not t.startswith("task_fts")}


def test_the_migrated_schema_is_what_the_live_models_declare(app, fresh_schema):
    _drop_everything()
    database.create_tables(LIVE_MODELS)
    declared = _columns_only(_schema())
    assert _columns_only(_not_search_index(fresh_schema)) == declared
