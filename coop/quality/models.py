"""Contests of gold items: a member says the expected answer is wrong, the client (or, on
appeal, the board) decides. Fraud findings: a report of answers given in bad faith, the
member's answer, the board's decision. Qualifications: a test of gold items, its sittings, and the
projects that require it."""

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


class FraudKind(enum.StrEnum):
    BOT = "bot"  # answers made by a program
    COPY_PASTE = "copy_paste"  # the same or copied text given again and again
    OTHER = "other"


class FindingState(enum.StrEnum):
    OPEN = "open"  # waiting for the board; the member may answer meanwhile
    UPHELD = "upheld"  # the named answers are voided and their pay taken back
    DISMISSED = "dismissed"  # nothing changes


class FraudFinding(BaseModel):
    """A report that a member gave a project's answers in bad faith, and the board's decision.

    It names the member's answers on the project given on or after `since` (all of them when
    None); only an upheld finding takes their pay back (coop/quality/fraud.py).
    """

    project = peewee.ForeignKeyField(Project, backref="fraud_findings", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="fraud_findings", on_delete="RESTRICT")
    reporter = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=16)  # a FraudKind
    reason = peewee.TextField()
    since = peewee.DateTimeField(null=True)
    state = peewee.CharField(max_length=16, default=FindingState.OPEN, index=True)
    created_at = peewee.DateTimeField(default=utcnow)
    member_answer = peewee.TextField(default="")
    answered_at = peewee.DateTimeField(null=True)
    decision_note = peewee.TextField(default="")
    decided_at = peewee.DateTimeField(null=True)
    answers_voided = peewee.IntegerField(default=0)
    taken_back_cents = peewee.BigIntegerField(default=0)  # the member's earnings taken back

    class Meta:
        table_name = "fraud_finding"
        indexes = ((("member", "project"), False),)


class AggregateCache(BaseModel):
    """A large project's aggregates, computed by a worker (coop/quality/aggregate_cache.py).

    Valid while the answers it was computed from are the ones counted: as many (`answers`),
    the newest being `last_answer`. cut is the results file's checkpoint size, 0 for all.
    """

    project = peewee.ForeignKeyField(Project, backref="+", on_delete="CASCADE")
    method = peewee.CharField(max_length=16)
    cut = peewee.BigIntegerField()
    answers = peewee.IntegerField()
    last_answer = peewee.BigIntegerField()
    votes = peewee.TextField()  # JSON: item id -> [answer, confidence, votes]
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "aggregate_cache"
        indexes = ((("project", "method", "cut"), False),)


class Qualification(BaseModel):
    """A skill shown by passing a test: a client's own, or the coop's (owner None).

    The test is a project of gold items (Project.is_test) held by whoever defined it.
    """

    owner = peewee.ForeignKeyField(User, null=True, backref="qualifications",
                                   on_delete="RESTRICT")
    name = peewee.CharField(max_length=120)
    description = peewee.TextField()
    test = peewee.ForeignKeyField(Project, unique=True, on_delete="RESTRICT")
    pass_mark_bp = peewee.IntegerField()
    validity_days = peewee.IntegerField()
    retake_days = peewee.IntegerField()
    created_at = peewee.DateTimeField(default=utcnow)


class Sitting(BaseModel):
    """One go of a member at a qualification's test: open until every item is answered."""

    qualification = peewee.ForeignKeyField(Qualification, backref="sittings",
                                           on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="sittings", on_delete="RESTRICT")
    number = peewee.IntegerField()  # 1 for the first, 2 for the first retake, ...
    started_at = peewee.DateTimeField(default=utcnow)
    finished_at = peewee.DateTimeField(null=True)
    correct = peewee.IntegerField(default=0)
    total = peewee.IntegerField(default=0)
    passed = peewee.BooleanField(null=True)  # None while open
    expires_at = peewee.DateTimeField(null=True)  # when a pass stops counting

    class Meta:
        table_name = "qualification_sitting"
        indexes = ((("qualification", "member", "number"), True),)


class Requirement(BaseModel):
    """A project that hands out its items only to members holding a qualification."""

    project = peewee.ForeignKeyField(Project, backref="requirements", on_delete="CASCADE")
    qualification = peewee.ForeignKeyField(Qualification, on_delete="RESTRICT")

    class Meta:
        table_name = "project_qualification"
        indexes = ((("project", "qualification"), True),)


MODELS = [GoldContest, Qualification, Sitting, Requirement, FraudFinding, AggregateCache]
