"""`coop demo` on a fresh instance makes the three demo projects through the operations: the
moderation and relevance batches in progress with answers reviewed and waiting, the transcription
project finished and paid, every answer on the ledger, and `coop ledger verify` passes."""

from coop.models import Event
from coop.projects.models import Answer, AnswerState, Assignment, Project, ProjectState


def _project(client_email: str) -> Project:
    return next(p for p in Project.select() if p.client.email == client_email)


def test_demo_creates_projects_in_progress_and_finished(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output

    moderation = _project("news@coop.example")
    assert moderation.state == ProjectState.PUBLISHED
    assert moderation.sensitive and moderation.content_note
    assert moderation.items_count == 200
    answers = Answer.select().where(Answer.project == moderation.id)
    assert answers.count() == 40
    assert set(a.member.email for a in answers) == {"alice@coop.example", "chloe@coop.example"}
    states = [a.state for a in answers]
    assert states.count(AnswerState.REJECTED) == 1
    assert states.count(AnswerState.ACCEPTED) == 29
    assert states.count(AnswerState.PENDING) == 10
    rejected = answers.where(Answer.state == AnswerState.REJECTED).get()
    assert rejected.reject_reason
    skips = Assignment.select().where(
        (Assignment.project == moderation.id) & (Assignment.skip_reason == "distressing")
    )
    assert skips.count() == 1

    relevance = _project("shop@coop.example")
    assert relevance.state == ProjectState.PUBLISHED
    assert relevance.template_data["kind"] == "compare"
    assert 0 < Answer.select().where(Answer.project == relevance.id).count() < 2 * 40

    transcription = _project("bank@coop.example")
    assert transcription.state == ProjectState.FINISHED
    done = Answer.select().where(Answer.project == transcription.id)
    assert done.count() == 8
    assert {a.state for a in done} == {AnswerState.ACCEPTED}

    # Every answer has its ledger entry, and the measured times are believable.
    every = list(Answer.select())
    assert all(a.ledger_index is not None for a in every)
    submitted = Event.select().where(Event.kind == "answer.submitted").count()
    assert submitted == len(every)
    assert all(0 < a.seconds <= 10 * a.project.estimated_seconds for a in every)

    verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK:")
