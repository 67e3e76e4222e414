"""Create the marketplace's tables."""

from coop.models import MODELS


def up(migrator, database):
    database.create_tables(MODELS, safe=True)
