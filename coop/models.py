"""Peewee models: people, tasks, bids, deliveries, disputes, earnings and the coop's settings.

Times are naive UTC datetimes; money is integer cents; percentages are basis points.
"""

import enum
import json
from datetime import UTC, datetime

import peewee
from flask_login import UserMixin

from coop.db import database


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (how every column stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Role(enum.StrEnum):
    CLIENT = "client"
    MEMBER = "member"
    BOARD = "board"


class MemberStatus(enum.StrEnum):
    APPLICANT = "applicant"
    ACTIVE = "active"
    DECLINED = "declined"


class Pricing(enum.StrEnum):
    FIXED = "fixed"
    BIDS = "bids"


class TaskState(enum.StrEnum):
    OPEN = "open"  # fixed price: claimable; bids: accepting bids
    ASSIGNED = "assigned"  # a member works on it
    DELIVERED = "delivered"  # waiting for the client's review
    REJECTED = "rejected"  # the member may resubmit, dispute or release
    DISPUTED = "disputed"  # the board decides
    COMPLETED = "completed"  # accepted and paid
    CANCELLED = "cancelled"


class BidState(enum.StrEnum):
    LIVE = "live"
    WITHDRAWN = "withdrawn"
    AWARDED = "awarded"
    NOT_SELECTED = "not_selected"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    # The client rejected it past the board's rejection-rate threshold: the board decides first.
    REJECTION_REVIEW = "rejection_review"


class RejectionCategory(enum.StrEnum):
    INCOMPLETE = "incomplete"
    WRONG = "wrong"
    LATE = "late"
    OTHER = "other"


class RejectionReviewState(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"  # the rejection takes effect
    OVERTURNED = "overturned"  # the delivery is accepted and the member paid


class DisputeKind(enum.StrEnum):
    """Who disputes what (m0017)."""

    REJECTION = "rejection"  # the member disputes the client's rejection
    STATED_TIME = "stated_time"  # the client disputes the time the member stated


class DisputeState(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the member was right: the delivery is accepted
    DISMISSED = "dismissed"  # the rejection stands


CATEGORIES = (
    "moderation",
    "transcription",
    "image_labelling",
    "search_relevance",
    "id_check",
    "photo_clipping",
    "data_entry",
)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(UserMixin, BaseModel):
    email = peewee.CharField(max_length=254, unique=True)
    name = peewee.CharField(max_length=100)
    password_hash = peewee.CharField(max_length=255)
    role = peewee.CharField(max_length=16, index=True)
    member_status = peewee.CharField(max_length=16, null=True, index=True)
    application_note = peewee.TextField(default="")
    decline_reason = peewee.TextField(default="")
    declined_at = peewee.DateTimeField(null=True)  # the last decline; re-applying waits from it
    pseudonym = peewee.CharField(max_length=32, unique=True)
    sensitive_opt_in = peewee.BooleanField(default=False)
    capital_cents = peewee.BigIntegerField(default=0)
    locale = peewee.CharField(max_length=8, null=True)
    timezone = peewee.CharField(max_length=64, default="Europe/Paris")
    created_at = peewee.DateTimeField(default=utcnow)
    # Bumped to end every session at once (log out, password change or reset, disabling):
    # sessions and remember cookies carry the generation they were opened with.
    session_generation = peewee.IntegerField(default=0)
    disabled_at = peewee.DateTimeField(null=True)

    def get_id(self) -> str:
        """Name the user and the session generation, so an old cookie stops matching."""
        return f"{self.id}:{self.session_generation}"

    @property
    def is_member(self) -> bool:
        """Board members are members too."""
        return self.role in (Role.MEMBER, Role.BOARD) and self.member_status == MemberStatus.ACTIVE

    @property
    def is_board(self) -> bool:
        return self.role == Role.BOARD and self.member_status == MemberStatus.ACTIVE

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_active(self) -> bool:
        """Declined applicants may still sign in to read the reason; disabled accounts may not."""
        return self.disabled_at is None


class Task(BaseModel):
    client = peewee.ForeignKeyField(User, backref="posted_tasks", on_delete="RESTRICT")
    title = peewee.CharField(max_length=120)
    description = peewee.TextField()
    instructions = peewee.TextField(default="")
    category = peewee.CharField(max_length=32, index=True)
    estimated_minutes = peewee.IntegerField()
    deadline = peewee.DateTimeField()
    sensitive = peewee.BooleanField(default=False, index=True)
    content_note = peewee.CharField(max_length=300, default="")
    pricing = peewee.CharField(max_length=8, index=True)
    price_cents = peewee.BigIntegerField(null=True)  # fixed price, or the awarded bid
    budget_cents = peewee.BigIntegerField(null=True)  # ceiling for bids
    bidding_deadline = peewee.DateTimeField(null=True)
    # Pay per hour in cents, kept so the board can sort by it with an index.
    pay_per_hour_cents = peewee.BigIntegerField(index=True)
    state = peewee.CharField(max_length=16, default=TaskState.OPEN, index=True)
    member = peewee.ForeignKeyField(User, backref="tasks", null=True, on_delete="RESTRICT")
    assigned_at = peewee.DateTimeField(null=True)
    attempts = peewee.IntegerField(default=0)
    created_at = peewee.DateTimeField(default=utcnow)
    completed_at = peewee.DateTimeField(null=True)
    # The coop's margin when the task was taken (migration m0011): a later change of the
    # margin does not touch it. None for tasks taken before, paid at the margin in force.
    margin_bp = peewee.IntegerField(null=True)

    class Meta:
        # The board's indexes are made by migration m0004 (named, with their filter columns).
        indexes = ((("member", "state"), False),)


class TaskAttachment(BaseModel):
    task = peewee.ForeignKeyField(Task, backref="attachments", on_delete="CASCADE")
    filename = peewee.CharField(max_length=255)
    sha256 = peewee.CharField(max_length=64, index=True)
    size = peewee.BigIntegerField()


class Bid(BaseModel):
    task = peewee.ForeignKeyField(Task, backref="bids", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="bids", on_delete="RESTRICT")
    amount_cents = peewee.BigIntegerField()
    eta_hours = peewee.IntegerField()
    note = peewee.CharField(max_length=500, default="")
    state = peewee.CharField(max_length=16, default=BidState.LIVE, index=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("task", "member"), True),)


class Delivery(BaseModel):
    task = peewee.ForeignKeyField(Task, backref="deliveries", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="deliveries", on_delete="RESTRICT")
    attempt = peewee.IntegerField()
    note = peewee.TextField(default="")
    state = peewee.CharField(max_length=16, default=DeliveryState.PENDING, index=True)
    submitted_at = peewee.DateTimeField(default=utcnow, index=True)
    on_time = peewee.BooleanField(default=True)
    review_reason = peewee.TextField(default="")
    reviewed_at = peewee.DateTimeField(null=True)
    auto_accepted = peewee.BooleanField(default=False)
    rejection_category = peewee.CharField(max_length=16, null=True)  # set by migration m0007
    # The time the member says they spent, and the top-up it implies to reach the pay floor,
    # fixed at submission (m0017); topup_cents > 0 means "below the floor on stated time".
    minutes_spent = peewee.IntegerField(null=True)
    topup_cents = peewee.BigIntegerField(default=0)


class DeliveryFile(BaseModel):
    delivery = peewee.ForeignKeyField(Delivery, backref="files", on_delete="CASCADE")
    filename = peewee.CharField(max_length=255)
    sha256 = peewee.CharField(max_length=64, index=True)
    size = peewee.BigIntegerField()
    content_type = peewee.CharField(max_length=127, default="application/octet-stream")


class Dispute(BaseModel):
    delivery = peewee.ForeignKeyField(Delivery, backref="disputes", on_delete="CASCADE")
    task = peewee.ForeignKeyField(Task, backref="disputes", on_delete="CASCADE")
    member = peewee.ForeignKeyField(User, backref="disputes", on_delete="RESTRICT")
    reason = peewee.TextField()
    state = peewee.CharField(max_length=16, default=DisputeState.OPEN, index=True)
    kind = peewee.CharField(max_length=16, default=DisputeKind.REJECTION)  # m0017
    resolution_reason = peewee.TextField(default="")
    resolved_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)
    resolved_at = peewee.DateTimeField(null=True)


class RejectionReview(BaseModel):
    """A client's rejection held for the board because of the client's rejection rate."""

    delivery = peewee.ForeignKeyField(Delivery, backref="rejection_reviews", on_delete="CASCADE")
    task = peewee.ForeignKeyField(Task, backref="rejection_reviews", on_delete="CASCADE")
    client = peewee.ForeignKeyField(User, on_delete="RESTRICT")
    # The client's record when the rejection was held, so the board sees why.
    client_rejected = peewee.IntegerField()
    client_reviewed = peewee.IntegerField()
    state = peewee.CharField(max_length=16, default=RejectionReviewState.OPEN, index=True)
    decision_reason = peewee.TextField(default="")
    decided_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)
    decided_at = peewee.DateTimeField(null=True)


class Earning(BaseModel):
    """A member credited for an accepted task: price = earnings + coop margin."""

    member = peewee.ForeignKeyField(User, backref="earnings", on_delete="RESTRICT")
    task = peewee.ForeignKeyField(Task, backref="earning", unique=True, on_delete="RESTRICT")
    price_cents = peewee.BigIntegerField()
    earnings_cents = peewee.BigIntegerField()
    margin_cents = peewee.BigIntegerField()
    created_at = peewee.DateTimeField(default=utcnow, index=True)
    # Paid by the client on top of the price, no margin on it, included in earnings_cents and
    # price_cents (m0017): the member's net pay for the stated time reaches the pay floor.
    topup_cents = peewee.BigIntegerField(default=0)


class Parameter(BaseModel):
    """One of the coop's settings, as an integer (cents, minutes, basis points or a count)."""

    key = peewee.CharField(max_length=64, primary_key=True)
    value = peewee.BigIntegerField()
    updated_at = peewee.DateTimeField(default=utcnow)


class Event(BaseModel):
    """An auditable event, recorded in the same transaction as the change it describes."""

    kind = peewee.CharField(max_length=64, index=True)
    subject = peewee.CharField(max_length=64, index=True)  # "task:12", "delivery:7", …
    data = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow)
    unix_ns = peewee.BigIntegerField(index=True)  # the ledger's time for the event
    ledger_index = peewee.BigIntegerField(null=True, unique=True)

    @property
    def payload(self) -> dict:
        return json.loads(self.data)


class TokenScope(enum.StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # GET and the API's POSTs


class ApiToken(BaseModel):
    """A bearer token for the API; only its SHA-256 is stored, the token is shown once."""

    user = peewee.ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    token_sha256 = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=12)  # shown in the list so people can tell tokens apart
    scope = peewee.CharField(max_length=8, default=TokenScope.READ)
    created_at = peewee.DateTimeField(default=utcnow)
    last_used_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)


class PasswordReset(BaseModel):
    """A password-reset link: only its SHA-256 is stored; it expires and works once."""

    user = peewee.ForeignKeyField(User, backref="password_resets", on_delete="CASCADE")
    token_sha256 = peewee.CharField(max_length=64, unique=True)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)


class SchemaVersion(BaseModel):
    """Which migrations have run on this database."""

    name = peewee.CharField(max_length=100, primary_key=True)
    applied_at = peewee.DateTimeField(default=utcnow)


class CapitalKind(enum.StrEnum):
    """Movements of the capital register (parts sociales)."""

    SUBSCRIPTION = "subscription"  # shares subscribed: owed, not yet paid
    RELEASE = "release"  # subscribed shares paid up ("libération"): capital held
    TRANSFER_OUT = "transfer_out"  # paid-up shares handed to another member
    TRANSFER_IN = "transfer_in"  # paid-up shares received from another member
    REDEMPTION = "redemption"  # paid-up shares repaid to the member


class CapitalMovement(BaseModel):
    """One dated line of the capital register, with its ledger entry (migration m0011).

    Deltas are signed cents: subscribed shares, and paid-up shares (the capital held, which
    User.capital_cents caches). Each line is dated by the ledger's time for its entry; capital
    held before the register existed is each member's User.capital_cents less the lines since.
    """

    member = peewee.ForeignKeyField(User, backref="capital_movements", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=16)
    subscribed_delta_cents = peewee.BigIntegerField()
    paid_delta_cents = peewee.BigIntegerField()
    counterparty = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    note = peewee.CharField(max_length=200, default="")
    recorded_by = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    unix_ns = peewee.BigIntegerField(index=True)  # the ledger's time for the entry
    ledger_index = peewee.BigIntegerField(null=True)


class JobKind(enum.StrEnum):
    ISSUE_STATEMENTS = "statements.issue"  # render and record a closed month's PDFs
    ISSUE_ANNUAL = "statements.issue_annual"  # a closed fiscal year's annual statements
    IMPORT_ITEMS = "projects.import"  # a large upload of a project's items
    TICK = "tick"  # `coop tick`'s housekeeping, run periodically by the worker
    AGGREGATE = "quality.aggregate"  # a large project's aggregates, kept for its downloads


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(BaseModel):
    """Work handed to `coop worker`: who asked, how far it got, and what came of it.

    The queue (Huey) carries only the id; this row is the truth, so a job whose message or
    worker was lost is found here and queued again (coop.jobs.requeue_abandoned).
    """

    kind = peewee.CharField(max_length=32)
    subject = peewee.CharField(max_length=64)  # what it works on: "2025-03", "project:4"
    owner = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    board = peewee.BooleanField(default=False)  # every board member may follow it
    state = peewee.CharField(max_length=16, default=JobState.QUEUED, index=True)
    done = peewee.IntegerField(default=0)
    total = peewee.IntegerField(default=0)
    result = peewee.TextField(default="")  # a sentence for people, once done
    error = peewee.TextField(default="")  # a sentence for people, once failed
    attempts = peewee.IntegerField(default=0)
    worker = peewee.CharField(max_length=128, default="")  # host:pid of the last runner
    created_at = peewee.DateTimeField(default=utcnow)
    started_at = peewee.DateTimeField(null=True)
    heartbeat_at = peewee.DateTimeField(null=True)
    finished_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("kind", "subject", "state"), False),)


class WitnessCosignature(BaseModel):
    """A witness's cosignature/v1 line for the checkpoint of one size (migration m0013)."""

    witness = peewee.CharField(max_length=255)  # the name in its verifier key
    size = peewee.BigIntegerField()
    line = peewee.TextField()  # checked against the checkpoint before it is stored
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("witness", "size"), True),)


class CheckpointTimestamp(BaseModel):
    """An RFC 3161 token a TSA returned for the checkpoint of one size (migration m0019)."""

    tsa = peewee.CharField(max_length=255)  # the name in the token's signer certificate
    size = peewee.BigIntegerField()
    token = peewee.BlobField()  # DER ContentInfo, verified against the checkpoint when stored
    gen_ns = peewee.BigIntegerField()  # the TSA's time, from the token
    accuracy_ns = peewee.BigIntegerField()  # the token's accuracy (0: none stated)
    qualified = peewee.BooleanField(default=False)  # configured as a qualified (eIDAS) TSA
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tsa", "size"), True), (("size",), False))


class NotificationKind(enum.StrEnum):
    """What a notification tells its reader (migration m0016)."""

    BID_AWARDED = "bid_awarded"  # member: the client chose their bid
    DELIVERY_REJECTED = "delivery_rejected"  # member: the rejection takes effect
    DISPUTE_RESOLVED = "dispute_resolved"  # member: the board upheld or dismissed it
    TASK_PAID = "task_paid"  # member: a delivery was accepted and credited
    ANSWERS_REJECTED = "answers_rejected"  # member: a client rejected project answers
    DELIVERY_WAITING = "delivery_waiting"  # client: review before the auto-accept deadline
    APPLICATION_RECEIVED = "application_received"  # board: someone applied to join
    DISPUTE_OPENED = "dispute_opened"  # board: a member disputes a rejection
    VOTE_OPENED = "vote_opened"  # member: the general assembly asks their vote
    VOTE_COUNTED = "vote_counted"  # member: a vote's result is on the ledger
    FRAUD_REPORTED = "fraud_reported"  # member: answers of theirs are reported as fraud
    FRAUD_DECIDED = "fraud_decided"  # member: the board upheld or dismissed the finding


class Notification(BaseModel):
    """Something that happened to a person, shown in the app until they read it (m0016).

    The text is rendered when read, in the reader's language, from the kind and params.
    """

    user = peewee.ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    kind = peewee.CharField(max_length=32)
    subject = peewee.CharField(max_length=64)  # "task:12", "dispute:3", "project:5", "user:9"
    params = peewee.TextField(default="{}")
    created_at = peewee.DateTimeField(default=utcnow)
    read_at = peewee.DateTimeField(null=True)

    class Meta:
        # The navigation counts a person's unread ones on every page.
        indexes = ((("user", "read_at"), False),)

    @property
    def values(self) -> dict:
        return json.loads(self.params)


class NotificationPreference(BaseModel):
    """Whether a person wants one kind of notification by e-mail (m0016; no row: the default)."""

    user = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    kind = peewee.CharField(max_length=32)
    email = peewee.BooleanField()

    class Meta:
        indexes = ((("user", "kind"), True),)


class ClientRating(BaseModel):
    """A member's rating of the client they completed a task for (m0026): once per task.

    Private to the coop: the board reads them all, the client only an average of several.
    """

    task = peewee.ForeignKeyField(Task, backref="+", on_delete="CASCADE", unique=True)
    member = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    client = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE", index=True)
    stars = peewee.SmallIntegerField()  # 1 to 5
    comment = peewee.CharField(max_length=300, default="")
    created_at = peewee.DateTimeField(default=utcnow)


MODELS = [
    User,
    Task,
    TaskAttachment,
    Bid,
    Delivery,
    DeliveryFile,
    Dispute,
    Earning,
    Parameter,
    Event,
    RejectionReview,
    CapitalMovement,
    PasswordReset,
    Job,
    WitnessCosignature,
    CheckpointTimestamp,
    Notification,
    NotificationPreference,
    ClientRating,
]
