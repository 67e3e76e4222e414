"""Migration m0011 upgrades a database made before it: it adds task.margin_bp and creates the
capital register's table (frozen in the migration), and the app then works with both."""

from playhouse.migrate import SchemaMigrator, migrate

from coop import migrations
from coop.db import database
from coop.models import CapitalMovement, SchemaVersion, Task


def test_m0011_adds_the_margin_column_and_the_capital_register(app, make_task, make_member):
    # Take the database back to before m0011, as a deployed coop would be.
    migrator = SchemaMigrator.from_database(database)
    database.drop_tables([CapitalMovement])
    migrate(migrator.drop_column("task", "margin_bp"))
    SchemaVersion.delete().where(SchemaVersion.name == "m0011_task_terms_and_capital").execute()
    assert "margin_bp" not in {c.name for c in database.get_columns("task")}
    assert "capital_movement" not in database.get_tables()

    assert migrations.upgrade() == ["m0011_task_terms_and_capital"]
    assert "margin_bp" in {c.name for c in database.get_columns("task")}
    assert {c.name for c in database.get_columns("capital_movement")} == {
        f.column_name for f in CapitalMovement._meta.sorted_fields}
    task = make_task()
    assert Task.get_by_id(task.id).margin_bp is None  # taken before: paid at the margin in force
    CapitalMovement.create(member=make_member(), kind="release", subscribed_delta_cents=0,
                           paid_delta_cents=100, unix_ns=1)
    assert migrations.upgrade() == []  # applied once
