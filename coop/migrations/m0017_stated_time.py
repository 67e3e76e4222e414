"""Deliveries state the minutes actually spent, and the top-up that time implies.

topup_cents is fixed at submission: what the member's net pay falls short of the pay floor
over the stated minutes (0: at or above the floor, or no time stated, as before m0017).
Earnings keep the top-up apart so statements can show it. A dispute gets a kind: the member's
dispute of a rejection (all disputes before m0017) or the client's dispute of a stated time.
"""

import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(
        migrator.add_column("delivery", "minutes_spent", peewee.IntegerField(null=True)),
        migrator.add_column("delivery", "topup_cents", peewee.BigIntegerField(default=0)),
        migrator.add_column("earning", "topup_cents", peewee.BigIntegerField(default=0)),
        migrator.add_column(
            "dispute", "kind", peewee.CharField(max_length=16, default="rejection")
        ),
    )
