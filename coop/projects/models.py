"""Tables of micro-task projects: projects, their items, leases, answers and answer earnings.

Items carry three counters, updated only under the project's row lock: answers_count,
active_count (open leases) and free (overlap − answers − open leases, the answers still to
hand out), so that answers + open leases never exceed the overlap the client asked for.
Partial indexes made by m0010 find the items with free > 0 or active_count > 0 at once,
however many items are already done.
"""

import enum
import json

import peewee

from coop.models import BaseModel, User, utcnow


class ProjectState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class PauseReason(enum.StrEnum):
    BELOW_FLOOR = "below_floor"  # the median measured time pays less than the floor


class GoldState(enum.StrEnum):
    """A gold item's standing: counted, held while contested, or found wrong and removed."""

    ACTIVE = "active"
    CONTESTED = "contested"
    REMOVED = "removed"


class AssignmentState(enum.StrEnum):
    ACTIVE = "active"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    EXPIRED = "expired"


class AnswerState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    # Given in bad faith, as the board found (coop/quality/fraud.py): unpaid, left out of the
    # results and their aggregates.
    VOIDED = "voided"


# Answers left out of results and aggregates: the client turned them down, or the board voided.
UNCOUNTED = (AnswerState.REJECTED, AnswerState.VOIDED)


class Project(BaseModel):
    client = peewee.ForeignKeyField(User, backref="projects", on_delete="RESTRICT")
    title = peewee.CharField(max_length=120)
    instructions = peewee.TextField()
    template = peewee.TextField()  # JSON: {"kind": ..., configuration}
    price_cents = peewee.BigIntegerField()  # per answer, the coop's margin included
    estimated_seconds = peewee.IntegerField()
    overlap = peewee.IntegerField(default=1)
    deadline = peewee.DateTimeField()
    budget_cents = peewee.BigIntegerField()
    sensitive = peewee.BooleanField(default=False, index=True)
    content_note = peewee.CharField(max_length=300, default="")
    state = peewee.CharField(max_length=16, default=ProjectState.DRAFT, index=True)
    pause_reason = peewee.CharField(max_length=32, default="")  # a PauseReason, or ""
    # Fixed when first published, so a later change of the board's margin never cuts pay.
    margin_bp = peewee.IntegerField(null=True)
    floor_cents_per_hour = peewee.BigIntegerField(null=True)
    items_count = peewee.IntegerField(default=0)
    # Answers stored, kept by submit_answer under the project's row lock (m0018).
    answers_count = peewee.IntegerField(default=0)
    created_at = peewee.DateTimeField(default=utcnow)
    published_at = peewee.DateTimeField(null=True)
    finished_at = peewee.DateTimeField(null=True)
    # Quality rules (coop/quality): the share of leases that are gold items, the accuracy
    # below which a member stops receiving items (0: none), and the gold answers before it counts.
    gold_rate_bp = peewee.IntegerField(default=1000)
    accuracy_threshold_bp = peewee.IntegerField(default=0)
    min_gold_answers = peewee.IntegerField(default=10)
    # The test of a qualification (coop/quality/qualifications.py): every member may answer
    # every item once per sitting, answers are paid on submission, and nobody else sees them.
    is_test = peewee.BooleanField(default=False)
    # Fair assignment (coop/projects/fairness.py): the last share of the answers is kept for
    # members who have worked less this week.
    fair_share = peewee.BooleanField(default=False)

    @property
    def template_data(self) -> dict:
        return json.loads(self.template)


class Item(BaseModel):
    project = peewee.ForeignKeyField(Project, backref="items", on_delete="CASCADE")
    external_id = peewee.CharField(max_length=200)
    data = peewee.TextField()  # JSON: field name -> text
    media = peewee.TextField(default="{}")  # JSON: field -> {sha256, content_type, filename}
    answers_count = peewee.IntegerField(default=0)
    active_count = peewee.IntegerField(default=0)
    free = peewee.IntegerField()  # answers still to hand out: overlap at import
    gold_answer = peewee.TextField(null=True)  # JSON of the expected answer on a gold item
    gold_explanation = peewee.TextField(default="")
    gold_state = peewee.CharField(max_length=16, default="")  # a GoldState, "" when not gold

    class Meta:
        indexes = ((("project", "external_id"), True),)

    @property
    def data_dict(self) -> dict:
        return json.loads(self.data)

    @property
    def media_dict(self) -> dict:
        return json.loads(self.media)


class Assignment(BaseModel):
    """A lease of one item to one member: the clock of the answer starts at started_at.

    sitting is 0 on work projects (an item never goes twice to the same member) and the number
    of the member's sitting on a qualification test (each retake answers the items again).
    """

    item = peewee.ForeignKeyField(Item, backref="assignments", on_delete="CASCADE")
    project = peewee.ForeignKeyField(Project, backref="assignments", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="assignments", on_delete="RESTRICT")
    started_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    state = peewee.CharField(max_length=16, default=AssignmentState.ACTIVE, index=True)
    skip_reason = peewee.CharField(max_length=32, default="")
    ended_at = peewee.DateTimeField(null=True)
    sitting = peewee.IntegerField(default=0)

    class Meta:
        indexes = ((("item", "member", "sitting"), True), (("member", "state"), False))


class Answer(BaseModel):
    assignment = peewee.ForeignKeyField(Assignment, unique=True, on_delete="CASCADE")
    item = peewee.ForeignKeyField(Item, backref="answers", on_delete="CASCADE")
    project = peewee.ForeignKeyField(Project, backref="answers", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="answers", on_delete="RESTRICT")
    data = peewee.TextField()  # the canonical JSON of the answer
    sha256 = peewee.CharField(max_length=64)
    seconds = peewee.IntegerField()  # measured by the server, capped at the idle cap
    state = peewee.CharField(max_length=16, default=AnswerState.PENDING)
    submitted_at = peewee.DateTimeField(default=utcnow)
    ledger_index = peewee.BigIntegerField(null=True)
    unix_ns = peewee.BigIntegerField()
    uncertainty_ns = peewee.BigIntegerField(default=0)
    reject_category = peewee.CharField(max_length=32, default="")
    reject_reason = peewee.TextField(default="")
    reviewed_at = peewee.DateTimeField(null=True)
    auto_accepted = peewee.BooleanField(default=False)
    gold_correct = peewee.BooleanField(null=True)  # on a gold item: matched the expected answer

    class Meta:
        indexes = (
            (("project", "state"), False),
            (("project", "ledger_index"), False),
            (("project", "seconds"), False),
        )


class EarningKind(enum.StrEnum):
    ANSWER = "answer"  # the pay for an accepted answer: one per answer
    TOP_UP = "top_up"  # what a price raise adds to an answer already paid
    # The pay of an answer taken back by an upheld fraud finding: the negative of all its
    # earlier rows, dated by the finding's ledger entry (so always in the month in progress).
    CLAWBACK = "clawback"


class AnswerEarning(BaseModel):
    """A member credited for an accepted answer: price = earnings + the coop's margin.

    One row of kind "answer" per accepted answer (a partial unique index, made by m0010), and
    one "top_up" row per price raise that follows its acceptance.
    """

    member = peewee.ForeignKeyField(User, backref="answer_earnings", on_delete="RESTRICT")
    answer = peewee.ForeignKeyField(Answer, index=True, on_delete="RESTRICT")
    kind = peewee.CharField(max_length=8, default=EarningKind.ANSWER)
    project = peewee.ForeignKeyField(Project, on_delete="RESTRICT")
    price_cents = peewee.BigIntegerField()
    earnings_cents = peewee.BigIntegerField()
    margin_cents = peewee.BigIntegerField()
    created_at = peewee.DateTimeField(default=utcnow)
    # The review entry that credited it: the month close dates earnings by the ledger.
    ledger_index = peewee.BigIntegerField(null=True)
    unix_ns = peewee.BigIntegerField(index=True)


MODELS = [Project, Item, Assignment, Answer, AnswerEarning]
