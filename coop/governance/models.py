"""Tables of the general assembly's votes (m0023): a proposal with its rules, and the ballots.

A vote freezes its quorum and majority when it is proposed, so a later change of those
parameters never moves the goalposts of a vote already under way.
"""

import enum
import json

import peewee

from coop.models import BaseModel, User, utcnow


class ProposalKind(enum.StrEnum):
    ALLOCATION = "allocation"  # the art. 33 split of a fiscal year's surplus
    PARAMETERS = "parameters"  # the pay floor, the margin and the caps
    STATUTES = "statutes"  # the work-share key the statutes set: a change of the statutes


class Choice(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"  # counts for the quorum, not among the votes cast


class Outcome(enum.StrEnum):
    PASSED = "passed"
    REJECTED = "rejected"  # the quorum was met, the majority was not
    NO_QUORUM = "no_quorum"


class Vote(BaseModel):
    """A decision put to the members, from its proposal to its count."""

    kind = peewee.CharField(max_length=16)
    title = peewee.CharField(max_length=120)
    fiscal_year = peewee.IntegerField(null=True)  # the year an allocation is for
    changes = peewee.TextField()  # canonical JSON: {parameter: new integer value}
    statutory = peewee.BooleanField(default=False)  # the statutes' quorum and majority apply
    quorum_bp = peewee.IntegerField()  # ballots (abstentions too) out of the members
    majority_bp = peewee.IntegerField()  # votes for must be more than this share of votes cast
    opens_at = peewee.DateTimeField()
    closes_at = peewee.DateTimeField(index=True)
    proposed_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")  # null: CLI
    created_at = peewee.DateTimeField(default=utcnow)
    proposal_ledger_index = peewee.BigIntegerField(null=True)
    notified_at = peewee.DateTimeField(null=True)  # members were told it is open
    counted_at = peewee.DateTimeField(null=True)
    outcome = peewee.CharField(max_length=16, null=True)
    electorate = peewee.IntegerField(null=True)  # members entitled to vote at the count
    yes_count = peewee.IntegerField(null=True)
    no_count = peewee.IntegerField(null=True)
    abstain_count = peewee.IntegerField(null=True)
    applied = peewee.BooleanField(default=False)
    result_ledger_index = peewee.BigIntegerField(null=True)

    @property
    def changes_data(self) -> dict[str, int]:
        return json.loads(self.changes)


class Ballot(BaseModel):
    """One member's ballot in one vote: changed in place until the vote closes.

    The commitment (SHA-256 of the vote id, the ballot's secret nonce and the choice) is what
    the count publishes; only the member is shown the nonce, so only they can find theirs.
    """

    vote = peewee.ForeignKeyField(Vote, backref="ballots", on_delete="RESTRICT")
    member = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    choice = peewee.CharField(max_length=8)
    nonce = peewee.CharField(max_length=64)
    commitment = peewee.CharField(max_length=64)
    cast_at = peewee.DateTimeField(default=utcnow)
    changed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        # One ballot per member and vote: two racing POSTs update the same row.
        indexes = ((("vote", "member"), True),)


MODELS = [Vote, Ballot]
