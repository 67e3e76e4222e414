"""Exposure to sensitive projects: measured time counts toward the daily sensitive cap
shared with tasks (both ways); after sensitive_break_minutes in a row the member is asked to
rest sensitive_pause_minutes (a break page, the answer kept); media stay blurred until
revealed, without script; members see their exposure today and this week."""

import io
import zipfile
from datetime import timedelta

import pytest
from projects_support import keep, make_project

from coop.errors import DomainError
from coop.market import operations as market_ops
from coop.models import Parameter, utcnow
from coop.projects import operations as ops
from coop.projects.exposure import BreakNeeded
from coop.projects.models import Answer, Assignment


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def sensitive(client, **extra):
    return make_project(client, items=5, sensitive=True, content_note="Graphic violence", **extra)


def answer_after(member, project, seconds):
    lease = ops.next_assignment(member, project)
    Assignment.update(started_at=utcnow() - timedelta(seconds=seconds)).where(
        Assignment.id == lease.id).execute()
    return ops.submit_answer(member, lease, keep())


def test_measured_time_counts_toward_the_daily_cap(make_client_user, make_member, make_task):
    Parameter.create(key="sensitive_minutes_per_day", value=10)
    member = make_member(sensitive_opt_in=True)
    project = sensitive(make_client_user())
    answer_after(member, project, 200)
    Answer.update(seconds=580).execute()  # 9 min 40 s: 30 s more would pass 10 minutes
    with pytest.raises(DomainError, match="10 minutes a day"):
        ops.next_assignment(member, project)
    task = make_task(sensitive=True, content_note="Violence", estimated_minutes=2)
    with pytest.raises(DomainError, match="10 minutes a day"):
        market_ops.claim_task(member, task.id)  # tasks count the project's time too
    other = make_member(sensitive_opt_in=True)
    assert ops.next_assignment(other, project) is not None


def test_a_break_after_a_run_of_sensitive_work(make_client_user, make_member):
    Parameter.create(key="sensitive_break_minutes", value=5)
    Parameter.create(key="sensitive_pause_minutes", value=2)
    member = make_member(sensitive_opt_in=True)
    project = sensitive(make_client_user())
    answer_after(member, project, 150)
    answer_after(member, project, 150)  # 5 minutes in a row (300 s cap per item)
    with pytest.raises(BreakNeeded) as pause:
        ops.next_assignment(member, project)
    last = Answer.select().order_by(Answer.id.desc()).get()
    assert pause.value.until == last.submitted_at + timedelta(minutes=2)
    # Not sensitive: no break needed there.
    assert ops.next_assignment(member, make_project(make_client_user(), items=1)) is not None
    for answer in Answer.select():
        Answer.update(submitted_at=answer.submitted_at - timedelta(minutes=3)).where(
            Answer.id == answer.id).execute()
    assert ops.next_assignment(member, project) is not None  # the break was taken


def png_zip():
    media = io.BytesIO()
    with zipfile.ZipFile(media, "w") as archive:
        archive.writestr("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    media.seek(0)
    return media


def test_the_pages_blur_media_show_exposure_and_the_break(app, make_client_user, make_member):
    Parameter.create(key="sensitive_break_minutes", value=5)
    client = make_client_user()
    project = ops.create_project(
        client, title="Violent images", instructions="Flag gore.",
        template={"kind": "classify", "image_field": "photo", "labels": ["ok", "gore"]},
        price_cents=20, estimated_seconds=30, deadline=utcnow() + timedelta(days=2),
        budget_cents=1000, sensitive=True, content_note="Gore",
    )
    rows = b"external_id,photo\n" + b"".join(b"p%d,a.png\n" % i for i in range(3))
    ops.upload_items(client, project, io.BytesIO(rows), "items.csv", png_zip())
    ops.publish_project(client, project)
    member = make_member(sensitive_opt_in=True)
    web = app.test_client(user=member)
    page = web.post(f"/projects/{project.id}/start").get_data(as_text=True)
    assert 'class="reveal"' in page and 'class="sensitive-media"' in page
    assert "<script" not in page
    Assignment.update(started_at=utcnow() - timedelta(seconds=300)).execute()
    lease = Assignment.get()
    pause = web.post(f"/assignments/{lease.id}/answer", data={"label": "ok"})
    assert pause.status_code == 200 and "Time for a break" in pause.get_data(as_text=True)
    assert Answer.select().count() == 1
    listing = web.get("/projects").get_data(as_text=True)
    assert "Sensitive content: 5 min today" in listing and "5 min this week" in listing
