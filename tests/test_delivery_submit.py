"""Delivering work: files are stored by SHA-256 and shown to both sides; a delivery needs a
file and stays under the size limits (413 otherwise, with nothing stored); resubmissions stop
at the attempts limit; only the client, the delivering member and the board can download."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest

from coop import create_app
from coop.db import database
from coop.delivery import operations
from coop.files import StoredFile, path_for
from coop.models import Delivery, DeliveryFile, Event, Task, TaskState, utcnow

CONTENT = b"bicycle,12,40,80,120\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def assigned(make_task, make_member):
    """A task assigned to a member, waiting for a delivery."""
    member = make_member()
    task = make_task(state=TaskState.ASSIGNED, member=member, assigned_at=utcnow())
    return task, member


@pytest.fixture
def small_app(app):
    """The same database and folders, with a per-file limit of 1 KiB."""
    keys = (
        "TESTING", "SECRET_KEY", "DATABASE_URL", "INSTANCE_DIR", "LEDGER_KEY_FILE", "UPLOAD_DIR",
        "WTF_CSRF_ENABLED", "SESSION_COOKIE_SECURE", "RATELIMIT_ENABLED", "NTP_SERVERS",
        "CHECKPOINT_INTERVAL",
    )
    database.close()  # create_app binds a new database object; leave no connection behind
    small = create_app({**{k: app.config[k] for k in keys}, "MAX_FILE_BYTES": 1024})
    small.test_client_class = app.test_client_class
    with small.app_context():
        database.connect(reuse_if_open=True)
        yield small
        database.close()


def login_client(app, user):
    """A test client signed in as user (None: anonymous), as conftest's helper makes it.

    Not imported: tests/ledger has a conftest module too, and the name is ambiguous.
    """
    return app.test_client(user=user) if user is not None else app.test_client()


def post_delivery(web, task, files=((CONTENT, "boxes.csv"),), note="Done, see CSV.",
                  minutes="30"):
    data = {"note": note, "files": [(io.BytesIO(body), name) for body, name in files],
            "minutes_spent": minutes}
    return web.post(f"/tasks/{task.id}/deliver", data=data, content_type="multipart/form-data")


def task_page(app, task, viewer):
    """The task's page (the market's) as viewer sees it, with the delivery panel in it."""
    response = login_client(app, viewer).get(f"/tasks/{task.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stored(name="boxes.csv", body=CONTENT):
    return [StoredFile(hashlib.sha256(body).hexdigest(), len(body), name, "text/csv")]


def test_upload_stores_by_sha256_and_shows_it_to_both_sides(app, assigned):
    task, member = assigned
    response = post_delivery(login_client(app, member), task)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")

    delivery = Delivery.get(Delivery.task == task.id)
    assert (delivery.attempt, delivery.state, delivery.on_time) == (1, "pending", True)
    assert delivery.note == "Done, see CSV."
    (file,) = delivery.files
    assert (file.filename, file.sha256, file.size) == ("boxes.csv", SHA, len(CONTENT))
    assert path_for(SHA).read_bytes() == CONTENT
    task = Task.get_by_id(task.id)
    assert (task.state, task.attempts) == (TaskState.DELIVERED, 1)

    for viewer in (member, task.client):
        page = task_page(app, task, viewer)
        assert f'<code class="hash">{SHA}</code>' in page
        assert "boxes.csv" in page
    assert "Accept and pay" in task_page(app, task, task.client)
    assert "Accept and pay" not in task_page(app, task, member)


def test_delivery_is_recorded_with_hashes_not_names(app, assigned):
    task, member = assigned
    with app.test_request_context():
        delivery = operations.submit_delivery(member, task.id, stored(), "note")
    (event,) = Event.select().where(Event.kind == "delivery.submitted")
    assert event.subject == f"delivery:{delivery.id}"
    assert event.payload == {
        "task": task.id,
        "delivery": delivery.id,
        "files": [{"sha256": SHA, "size": len(CONTENT)}],
        "member": member.pseudonym,
        "deadline": task.deadline.isoformat(timespec="seconds") + "Z",
        "on_time": True,
        "attempt": 1,
    }
    assert "boxes.csv" not in event.data and "note" not in event.data


def test_late_delivery_is_marked_late(app, make_task, make_member):
    member = make_member()
    task = make_task(
        state=TaskState.ASSIGNED, member=member, deadline=utcnow() - timedelta(hours=1)
    )
    with app.test_request_context():
        delivery = operations.submit_delivery(member, task.id, stored(), "")
    assert delivery.on_time is False
    assert Event.get(Event.kind == "delivery.submitted").payload["on_time"] is False


@pytest.mark.parametrize("files", [(), ((b"", ""),)], ids=["no part", "empty file input"])
def test_delivery_without_a_file_is_refused(app, assigned, files):
    task, member = assigned
    response = post_delivery(login_client(app, member), task, files=files)
    assert response.status_code == 400
    assert "Attach at least one file." in response.get_data(as_text=True)
    assert not Delivery.select().exists()
    assert Task.get_by_id(task.id).state == TaskState.ASSIGNED


def test_file_over_the_limit_answers_413_and_stores_nothing(small_app, assigned):
    task, member = assigned
    response = post_delivery(
        login_client(small_app, member), task, files=((b"x" * 2048, "big.bin"),)
    )
    assert response.status_code == 413
    assert "big.bin is larger than the limit" in response.get_data(as_text=True)
    assert not Delivery.select().exists() and not DeliveryFile.select().exists()
    task = Task.get_by_id(task.id)
    assert (task.state, task.attempts) == (TaskState.ASSIGNED, 0)
    upload_dir = small_app.config["UPLOAD_DIR"]
    assert not [p for p in Path(upload_dir).rglob("*") if p.is_file()]


def test_request_over_the_content_length_answers_413(small_app, assigned):
    task, member = assigned
    assert small_app.config["MAX_CONTENT_LENGTH"] == 1024 * 8 + 1024 * 1024
    # A raw body: the test client would spool a large multipart body to a temporary file
    # that nobody closes when the app refuses it unread.
    boundary = "coopboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.bin"'
        f"\r\n\r\n".encode()
        + b"x" * small_app.config["MAX_CONTENT_LENGTH"]
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = login_client(small_app, member).post(
        f"/tasks/{task.id}/deliver",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "The upload is too large." in response.get_data(as_text=True)
    assert not Delivery.select().exists()
    assert Task.get_by_id(task.id).state == TaskState.ASSIGNED


def test_resubmission_stops_at_the_attempts_limit(app, assigned):
    task, member = assigned
    web = login_client(app, member)
    with app.test_request_context():
        for attempt in (1, 2, 3):
            assert post_delivery(web, task).status_code == 302
            delivery = Delivery.get((Delivery.task == task.id) & (Delivery.attempt == attempt))
            operations.reject_delivery(
                task.client, delivery.id, "Boxes too loose on rows 3-9.", "wrong"
            )
        assert Task.get_by_id(task.id).state == TaskState.REJECTED

        response = post_delivery(web, task)
        assert response.status_code == 400
        assert "You have used all 3 attempts." in response.get_data(as_text=True)
        with pytest.raises(operations.DomainError, match="all 3 attempts"):
            operations.submit_delivery(member, task.id, stored(), "")
    assert Delivery.select().where(Delivery.task == task.id).count() == 3
    assert Task.get_by_id(task.id).attempts == 3
    assert "Resubmit" not in task_page(app, task, member)
    assert "used all 3 attempts" in task_page(app, task, member)


def test_only_the_assigned_member_can_deliver(app, assigned, make_member):
    task, _member = assigned
    assert post_delivery(login_client(app, make_member()), task).status_code == 404
    assert post_delivery(login_client(app, task.client), task).status_code == 403
    assert not Delivery.select().exists()


def test_a_delivered_task_takes_no_second_delivery(app, assigned):
    task, member = assigned
    web = login_client(app, member)
    assert post_delivery(web, task).status_code == 302
    assert post_delivery(web, task).status_code == 409
    assert Delivery.select().count() == 1


@pytest.fixture
def delivered_file(app, assigned):
    """A delivered file, uploaded through the web."""
    task, member = assigned
    files = ((CONTENT, "report <1>.csv"),)
    assert post_delivery(login_client(app, member), task, files=files).status_code == 302
    return DeliveryFile.get(), task, member


@pytest.mark.parametrize("viewer", ["client", "member", "board"])
def test_client_member_and_board_download_the_file(
    app, delivered_file, make_board, viewer
):
    file, task, member = delivered_file
    user = {"client": task.client, "member": member, "board": make_board()}[viewer]
    response = login_client(app, user).get(f"/deliveries/{file.delivery_id}/files/{file.id}")
    response.close()  # the body streams from an open file
    assert response.status_code == 200
    assert path_for(file.sha256).read_bytes() == CONTENT
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "report" in disposition


@pytest.mark.parametrize("viewer", ["other member", "other client"])
def test_anyone_else_gets_404(app, delivered_file, make_member, make_client_user, viewer):
    file, _task, _member = delivered_file
    user = make_member() if viewer == "other member" else make_client_user()
    web = login_client(app, user)
    assert web.get(f"/deliveries/{file.delivery_id}/files/{file.id}").status_code == 404
    # The same answer as for a file that does not exist: existence does not leak.
    assert web.get(f"/deliveries/{file.delivery_id}/files/{file.id + 99}").status_code == 404


def test_a_file_is_reached_only_through_its_own_delivery(app, delivered_file):
    file, task, _member = delivered_file
    web = login_client(app, task.client)
    assert web.get(f"/deliveries/{file.delivery_id + 1}/files/{file.id}").status_code == 404


def test_anonymous_is_sent_to_sign_in(app, delivered_file):
    file, _task, _member = delivered_file
    response = login_client(app, None).get(f"/deliveries/{file.delivery_id}/files/{file.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_new_member_of_a_reopened_task_does_not_see_earlier_deliveries(
    app, delivered_file, make_member
):
    file, task, member = delivered_file
    newcomer = make_member()
    Task.update(state=TaskState.ASSIGNED, member=newcomer, attempts=0).where(
        Task.id == task.id
    ).execute()
    assert SHA not in task_page(app, task, newcomer)
    url = f"/deliveries/{file.delivery_id}/files/{file.id}"
    assert login_client(app, newcomer).get(url).status_code == 404
    response = login_client(app, member).get(url)
    response.close()
    assert response.status_code == 200
