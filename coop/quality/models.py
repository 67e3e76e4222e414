"""Contests of gold items: a member says the expected answer is wrong, the client (or, on
appeal, the board) decides."""

import enum

import peewee

from coop.models import BaseModel, User, utcnow
from coop.projects.models import Answer, Item, Project


class ContestState(enum.StrEnum):
    OPEN = "open"  # waiting for the client
    UPHELD = "upheld"  # the client kept the expected answer; the member may appeal
    APPEALED = "appealed"  # waiting for the board
    APPEAL_UPHELD = "appeal_upheld"  # the board kept the expected answer: final
    FOUND_WRONG = "found_wrong"  # the expected answer was wrong: the gold item is removed


# While a contest is in these states its gold item counts for nobody.
PENDING = (ContestState.OPEN, ContestState.APPEALED)


class GoldContest(BaseModel):
    item = peewee.ForeignKeyField(Item, backref="contests", on_delete="CASCADE")
    project = peewee.ForeignKeyField(Project, backref="contests", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="contests", on_delete="RESTRICT")
    answer = peewee.ForeignKeyField(Answer, on_delete="CASCADE")
    reason = peewee.TextField()
    state = peewee.CharField(max_length=16, default=ContestState.OPEN, index=True)
    created_at = peewee.DateTimeField(default=utcnow)
    decided_at = peewee.DateTimeField(null=True)
    decision_note = peewee.TextField(default="")
    appeal_reason = peewee.TextField(default="")
    appealed_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "gold_contest"
        indexes = ((("item", "member"), True),)


MODELS = [GoldContest]
