"""Create the month-close tables: expenses, closed periods and statements."""

from coop.statements.models import MODELS


def up(migrator, database):
    database.create_tables(MODELS, safe=True)
