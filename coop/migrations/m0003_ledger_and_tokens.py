"""Create the ledger's tables (bound to the app's database) and the API tokens table."""

import ledger.store
from coop.models import ApiToken


def up(migrator, database):
    ledger.store.create_tables()
    database.create_tables([ApiToken], safe=True)
