"""The file store is transactional: an upload reaches its content address only once the
transaction recording it commits. A refused upload (over the client's storage quota, a task in
the wrong state, an attempt past the limit), an exception after staging or an upload killed
mid-stream leaves no file at all in the store's folder; a content address already present is
kept. A post-task form that fails keeps its files, at their address, for the next submit.
`coop tick` removes temporary files older than a day, publishes a committed upload stranded
before its rename, and reports (never deletes) blobs nothing refers to."""

import hashlib
import io
import os
import time
from pathlib import Path

import pytest
from test_delivery_submit import CONTENT, SHA, assigned, post_delivery  # noqa: F401 (fixture)
from test_market_posting import fixed_form

from coop import files
from coop.delivery import operations
from coop.errors import DomainError
from coop.models import Delivery, DeliveryFile, Parameter, Task, TaskAttachment, TaskState

MIB = 1024 * 1024


def login_client(app, user):
    return app.test_client(user=user)


def store_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())


def post_task(web, attachments):
    data = fixed_form()
    data["attachments"] = [(io.BytesIO(body), name) for body, name in attachments]
    return web.post("/tasks/new", data=data, content_type="multipart/form-data")


def test_an_upload_is_published_only_after_its_transaction_commits(app, assigned):  # noqa: F811
    task, member = assigned
    upload = _Upload(CONTENT, "boxes.csv")
    with app.test_request_context():
        with files.staged_uploads([upload]) as staged:
            operations.submit_delivery(member, task.id, staged, "Done.")
            # Committed, but not yet at its address: only the staged temporary file exists.
            assert not files.path_for(SHA).exists()
            (temp,) = store_files(app)
            assert temp.name.startswith(files.STAGED_PREFIX + SHA)
    assert store_files(app) == [files.path_for(SHA)]
    assert files.path_for(SHA).read_bytes() == CONTENT


def test_a_delivery_over_the_web_stores_one_file_under_its_hash(app, assigned):  # noqa: F811
    task, member = assigned
    assert post_delivery(login_client(app, member), task).status_code == 302
    assert store_files(app) == [files.path_for(SHA)]


def test_a_delivery_in_the_wrong_state_leaves_no_file(app, assigned):  # noqa: F811
    task, member = assigned
    Task.update(state=TaskState.DELIVERED).where(Task.id == task.id).execute()
    response = post_delivery(login_client(app, member), task)
    assert response.status_code == 409
    assert store_files(app) == []
    assert not Delivery.select().exists()


def test_an_attempt_past_the_limit_leaves_no_file(app, assigned):  # noqa: F811
    task, member = assigned
    Task.update(state=TaskState.REJECTED, attempts=3).where(Task.id == task.id).execute()
    response = post_delivery(login_client(app, member), task, files=((b"new work", "v4.csv"),))
    assert response.status_code == 400
    assert "all 3 attempts" in response.get_data(as_text=True)
    assert store_files(app) == []


def test_an_exception_after_staging_leaves_no_file(app, assigned, monkeypatch):  # noqa: F811
    task, member = assigned

    def ledger_down(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    # The failure comes from inside the operation's transaction, after the files were staged.
    monkeypatch.setattr(operations, "record", ledger_down)
    with app.test_request_context():
        with pytest.raises(RuntimeError), files.staged_uploads([_Upload(CONTENT, "a.csv")]) as s:
            operations.submit_delivery(member, task.id, s, "Done.")
    assert store_files(app) == []
    assert not Delivery.select().exists() and not DeliveryFile.select().exists()
    assert Task.get_by_id(task.id).state == TaskState.ASSIGNED


def test_an_upload_killed_mid_stream_leaves_no_file(app):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("client went away")
            return super().read(4)

    with app.test_request_context(), pytest.raises(ConnectionResetError):
        with files.staged_uploads([_Upload(b"partial upload", "p.bin", Broken)]):
            pass
    assert store_files(app) == []


def test_a_content_address_already_present_is_kept(app):
    with app.test_request_context():
        first = files.save(io.BytesIO(CONTENT), "a.csv")
        path = files.path_for(first.sha256)
        before = path.stat()
        with files.staged_uploads([_Upload(CONTENT, "b.csv")]) as staged:
            assert staged[0].sha256 == first.sha256
    assert store_files(app) == [path]
    assert path.stat().st_ino == before.st_ino


def test_attachments_over_the_clients_quota_are_refused_and_not_stored(
    app, make_client_user, make_task
):
    client = make_client_user()
    Parameter.create(key="client_storage_quota_mb", value=1)
    old = make_task(client=client)
    TaskAttachment.create(task=old, filename="old.zip", sha256="0" * 64, size=MIB - 10)
    web = login_client(app, client)

    response = post_task(web, [(b"x" * 20, "guide.pdf")])
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "past your storage quota of 1 MiB" in text and "nothing was stored" in text
    assert Task.select().count() == 1 and TaskAttachment.select().count() == 1
    assert store_files(app) == []

    # Another client's files do not count against this one.
    other = login_client(app, make_client_user())
    assert post_task(other, [(b"x" * 20, "guide.pdf")]).status_code == 302
    assert len(store_files(app)) == 1


def test_the_quota_counts_every_attachment_of_the_post(app, make_client_user, make_task):
    client = make_client_user()
    Parameter.create(key="client_storage_quota_mb", value=1)
    TaskAttachment.create(task=make_task(client=client), filename="old.zip", sha256="0" * 64,
                          size=MIB - 30)
    # Each file alone fits; the two together do not.
    response = post_task(login_client(app, client), [(b"a" * 20, "a.bin"), (b"b" * 20, "b.bin")])
    assert response.status_code == 413
    assert store_files(app) == [] and Task.select().count() == 1
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        operations_post(app, make_client_user())
    assert refused.value.status == 413


def operations_post(app, client):
    from datetime import timedelta

    from coop.market import operations as market
    from coop.models import utcnow

    big = files.StoredFile("1" * 64, 2 * MIB, "big.bin", "application/octet-stream")
    return market.post_task(
        client, title="Sort receipts", description="Scans.", instructions="", category="data_entry",
        estimated_minutes=30, deadline=utcnow() + timedelta(days=1), pricing="fixed",
        price_cents=1000, attachments=[big],
    )


def test_an_invalid_post_keeps_its_attachments_at_their_address(app, make_client_user):
    web = login_client(app, make_client_user())
    data = fixed_form(price="0")
    data["attachments"] = [(io.BytesIO(b"guide"), "guide.pdf")]
    response = web.post("/tasks/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    # Kept for the next submit (tests/test_market_post_form.py): published, no temporary file.
    with app.test_request_context():
        assert store_files(app) == [files.path_for(hashlib.sha256(b"guide").hexdigest())]


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_tick_removes_old_temporary_files_and_reports_unreferenced_blobs(
    app, runner, assigned  # noqa: F811
):
    task, member = assigned
    assert post_delivery(login_client(app, member), task).status_code == 302
    root = Path(app.config["UPLOAD_DIR"])
    with app.test_request_context():
        orphan = files.save(io.BytesIO(b"nobody refers to me"), "orphan.txt")
    old_temp = root / ".upload-killed"
    old_temp.write_bytes(b"half an upl")
    _age(old_temp, 25 * 3600)
    young_temp = root / ".upload-in-flight"
    young_temp.write_bytes(b"still coming")
    # A committed delivery whose rename never happened (the process died in between).
    stranded_body = b"committed, then the process died"
    stranded_sha = hashlib.sha256(stranded_body).hexdigest()
    stranded = root / f"{files.STAGED_PREFIX}{stranded_sha}-abc123"
    stranded.write_bytes(stranded_body)
    _age(stranded, 3 * 24 * 3600)
    delivery = Delivery.get()
    DeliveryFile.create(delivery=delivery, filename="s.bin", sha256=stranded_sha,
                        size=len(stranded_body))

    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 temporary upload file(s) older than a day removed." in result.output
    assert "1 committed upload(s) moved to their address." in result.output
    size = len(b"nobody refers to me")
    assert f"1 stored file(s) referenced by no task or delivery ({size} bytes" in result.output
    assert not old_temp.exists() and young_temp.exists() and not stranded.exists()
    with app.test_request_context():
        assert files.path_for(orphan.sha256).exists()  # reported, not deleted
        assert files.path_for(stranded_sha).read_bytes() == stranded_body
        assert files.path_for(SHA).exists()


class _Upload:
    """What a form's FileStorage offers the store: a stream, a filename, a MIME type."""

    def __init__(self, body: bytes, filename: str, stream_class=io.BytesIO):
        self.stream = stream_class(body)
        self.filename = filename
        self.mimetype = "text/csv"
