"""A declined application keeps when it was declined.

The board's applications page shows the date of each decline, and a declined applicant may
apply again once the board's waiting period (the `reapply_after_days` parameter) has passed
since that date. Declines before m0022 have no date: their waiting period counts from the
account's creation instead.
"""

import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(migrator.add_column("user", "declined_at", peewee.DateTimeField(null=True)))
