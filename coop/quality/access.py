"""Who may receive a project's items, by gold accuracy; who may see and contest which gold."""

from flask_babel import gettext as _

from coop import formats
from coop.errors import DomainError, Forbidden, NotFound
from coop.models import User
from coop.projects.models import Answer, Project
from coop.quality import scores
from coop.quality.models import FindingState, FraudFinding, GoldContest, Qualification


class BelowThreshold(DomainError):
    """The member's gold accuracy is below the project's threshold: no more of its items."""

    status = 403


def check_may_receive(member: User, project: Project) -> None:
    """Refuse a new item to a member whose accuracy is surely below the project's threshold.

    :raises BelowThreshold: saying the accuracy, the threshold and where the answers are listed.
    """
    found = scores.accuracy(member, project)
    if not found.below:
        return
    raise BelowThreshold(
        _(
            "Your accuracy on this project's gold items is %(rate)s over %(n)s answers (95%% "
            "interval %(low)s–%(high)s), below the client's threshold of %(threshold)s: you "
            "will receive no more of its items. Every answer you gave is paid. Your gold "
            "answers, with the expected ones and their explanations, are on the project's "
            "quality page, where you can contest any of them.",
            rate=formats.percent(round(10_000 * found.rate), places=0),
            n=found.n,
            low=formats.percent(round(10_000 * found.interval[0]), places=0),
            high=formats.percent(round(10_000 * found.interval[1]), places=0),
            threshold=formats.percent(found.threshold_bp, places=0),
        )
    )


def check_not_barred(member: User, project: Project) -> None:
    """Refuse a new item to a member against whom the board upheld a fraud finding here.

    :raises Forbidden: saying why and where the finding is.
    """
    if FraudFinding.select().where(
        (FraudFinding.project == project.id) & (FraudFinding.member == member.id)
        & (FraudFinding.state == FindingState.UPHELD)
    ).exists():
        raise Forbidden(_("The board upheld a finding of fraud against your answers on this "
                          "project: you will receive no more of its items. The finding and its "
                          "reason are on your fraud findings page."))


def member_finding(viewer: User, finding_id: int) -> FraudFinding:
    """Return a finding against the viewer; anybody else's is NotFound."""
    found = FraudFinding.get_or_none(FraudFinding.id == finding_id)
    if found is None or found.member_id != viewer.id:
        raise NotFound(_("No such finding among yours."))
    return found


def board_finding(finding_id: int) -> FraudFinding:
    """Return any finding, for the board."""
    found = FraudFinding.get_or_none(FraudFinding.id == finding_id)
    if found is None:
        raise NotFound(_("No such finding."))
    return found


def may_report(viewer: User, project: Project) -> bool:
    """Say whether viewer may report fraud on the project: its client, or the board."""
    return viewer.is_board or (viewer.is_client and project.client_id == viewer.id)


def member_gold_answer(viewer: User, answer_id: int) -> Answer:
    """Return the viewer's own answer to a gold item; anybody else's is NotFound."""
    answer = Answer.get_or_none(Answer.id == answer_id)
    if answer is None or answer.member_id != viewer.id or answer.gold_correct is None:
        raise NotFound(_("No such gold answer among yours."))
    return answer


def client_contest(viewer: User, contest_id: int) -> GoldContest:
    """Return a contest on one of the client's projects; else NotFound."""
    contest = GoldContest.get_or_none(GoldContest.id == contest_id)
    if contest is None or contest.project.client_id != viewer.id:
        raise NotFound(_("No such contest among your projects."))
    return contest


def member_contest(viewer: User, contest_id: int) -> GoldContest:
    """Return the member's own contest; anybody else's is NotFound."""
    contest = GoldContest.get_or_none(GoldContest.id == contest_id)
    if contest is None or contest.member_id != viewer.id:
        raise NotFound(_("No such contest among yours."))
    return contest


def board_contest(contest_id: int) -> GoldContest:
    """Return any contest, for the board."""
    contest = GoldContest.get_or_none(GoldContest.id == contest_id)
    if contest is None:
        raise NotFound(_("No such contest."))
    return contest


def visible_qualification(viewer: User, qualification_id: int) -> Qualification:
    """Return a qualification the viewer may read: any for members, the coop's for everyone
    signed in, a client's own for that client; else NotFound."""
    found = Qualification.get_or_none(Qualification.id == qualification_id)
    if found is None or not (
        viewer.is_member or found.owner_id is None or found.owner_id == viewer.id
    ):
        raise NotFound(_("No such qualification."))
    return found


def owns_qualification(viewer: User, qualification: Qualification) -> bool:
    """Say whether viewer answers for a qualification: its client, or the board for the coop's."""
    if qualification.owner_id is None:
        return viewer.is_board
    return qualification.owner_id == viewer.id
