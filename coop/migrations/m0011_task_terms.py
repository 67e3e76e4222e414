"""Tasks keep the coop's margin in force when they were taken (claimed or awarded).

The margin is what the member agreed to when taking the task: a margin raised later must not
cut their pay. Tasks taken before this migration have none and are paid at the margin in
force at completion, as before.
"""

import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    # A database whose first migration built the task table from the live models already has
    # the column; add it only where it is missing.
    if "margin_bp" not in {column.name for column in database.get_columns("task")}:
        migrate(migrator.add_column("task", "margin_bp", peewee.IntegerField(null=True)))
