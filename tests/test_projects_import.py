"""Importing items: CSV and JSONL, media from a zip into the content-addressed store; bad
rows are reported by line with the reason (missing field, unknown media file, duplicate id,
too long, bad JSON, bad UTF-8) and then nothing at all is imported; ids already present are
left unchanged and counted; zips with too many files or too large are refused."""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from projects_support import comments, jsonl, make_project

from coop.errors import DomainError
from coop.projects import importer
from coop.projects import operations as ops
from coop.projects.models import Item, Project

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x00" * 64


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def client(make_client_user):
    return make_client_user()


def draft(client, template=None):
    extra = {"template": template} if template else {}
    return make_project(client, items=0, publish=False, **extra)


def upload(client, project, data: bytes, name="items.csv", media=None):
    return ops.upload_items(client, project, io.BytesIO(data), name, media)


def zipped(files: dict) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    buffer.seek(0)
    return buffer


def test_csv_imports_rows_and_counts_those_already_present(client):
    project = draft(client)
    data = b"external_id,comment,extra\nc1,Nice post,x\nc2,\"Two\nlines\",y\n"
    report = upload(client, project, data)
    assert (report.ok, report.imported, report.unchanged) == (True, 2, 0)
    assert Item.get(Item.external_id == "c2").data_dict == {"comment": "Two\nlines"}
    again = upload(client, project, data + b"c3,New one,z\n")
    assert (again.imported, again.unchanged) == (1, 2)
    assert Project.get_by_id(project.id).items_count == 3


def test_jsonl_imports_in_batches(client):
    project = draft(client)
    report = ops.upload_items(client, project, jsonl(comments(1234)), "items.jsonl")
    assert report.imported == 1234
    assert Item.select().count() == 1234


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(client):
    project = draft(client)
    lines = [
        json.dumps({"external_id": "a", "comment": "fine"}).encode(),
        json.dumps({"external_id": "b"}).encode(),  # 2: missing field
        b"{not json",  # 3
        json.dumps({"external_id": "a", "comment": "again"}).encode(),  # 4: duplicate
        json.dumps({"external_id": "c", "comment": "x" * 10_001}).encode(),  # 5: too long
        b"",  # blank lines are skipped
        '{"external_id": "d", "comment": "caf\xe9"}'.encode("latin-1"),  # 7: bad UTF-8
        json.dumps({"external_id": "e", "comment": 1.5}).encode(),  # 8: a float
        json.dumps(["a list"]).encode(),  # 9
    ]
    report = upload(client, project, b"\n".join(lines), "items.jsonl")
    assert not report.ok and report.imported == 0
    reasons = dict(report.errors)
    assert sorted(reasons) == [2, 3, 4, 5, 7, 8, 9]
    assert reasons[2] == "missing field comment"
    assert reasons[3].startswith("bad JSON")
    assert reasons[4] == "duplicate id a (first on line 1)"
    assert "too long" in reasons[5]
    assert reasons[7] == "not valid UTF-8"
    assert Item.select().count() == 0
    assert Project.get_by_id(project.id).items_count == 0


def test_csv_errors_name_their_lines(client):
    project = draft(client)
    report = upload(client, project, b"external_id,comment\nc1,ok\n,no id\nc3\nc4,\xff\xfe\n")
    assert report.errors[0] == (3, "missing field external_id")
    assert report.errors[1] == (4, "1 values for 2 columns")
    assert report.errors[2] == (5, "not valid UTF-8")
    assert Item.select().count() == 0


def test_a_file_of_another_type_or_without_items_is_refused(client):
    project = draft(client)
    with pytest.raises(DomainError, match=".csv or a .jsonl"):
        upload(client, project, b"x", "items.xlsx")
    with pytest.raises(DomainError, match="no item"):
        upload(client, project, b"external_id,comment\n")


IMAGES = {"kind": "classify", "image_field": "photo", "labels": ["cat", "dog"]}
AUDIO = {"kind": "transcribe", "media": "audio", "field": "clip"}


def test_media_come_from_the_zip_into_the_store(client, app):
    project = draft(client, IMAGES)
    rows = b"external_id,photo\np1,a.png\np2,a.png\n"
    report = upload(client, project, rows, media=zipped({"a.png": PNG}))
    assert report.imported == 2, report.errors
    stored = Item.get(Item.external_id == "p1").media_dict["photo"]
    digest = hashlib.sha256(PNG).hexdigest()
    assert stored == {"sha256": digest, "content_type": "image/png", "filename": "a.png"}
    assert (Path(app.config["UPLOAD_DIR"]) / digest[:2] / digest).read_bytes() == PNG


def test_unknown_or_wrong_media_are_bad_rows(client):
    project = draft(client, IMAGES)
    rows = (b"external_id,photo\np1,missing.png\np2,song.ogg\np3,notes.txt\n"
            b"p4,https://example.com/a.png\n")
    media = zipped({"song.ogg": OGG, "notes.txt": b"hello"})
    report = upload(client, project, rows, media=media)
    reasons = dict(report.errors)
    assert reasons[2] == "unknown media file missing.png"
    assert reasons[3] == "song.ogg is not an image file"
    assert "is not a PNG" in reasons[4]
    assert reasons[5] == "unknown media file https://example.com/a.png"  # never fetched
    audio = draft(client, AUDIO)
    assert upload(client, audio, b"external_id,clip\nk1,song.ogg\n",
                  media=zipped({"song.ogg": OGG})).imported == 1


def test_zip_bombs_are_refused(client, monkeypatch):
    project = draft(client, IMAGES)
    with pytest.raises(DomainError, match="readable zip"):
        upload(client, project, b"external_id,photo\np1,a.png\n", media=io.BytesIO(b"PK no"))
    monkeypatch.setattr(importer, "MAX_ZIP_MEMBERS", 2)
    with pytest.raises(DomainError, match="more than 2 files"):
        upload(client, project, b"external_id,photo\np1,a.png\n",
               media=zipped({"a.png": PNG, "b.png": PNG, "c.png": PNG}))
    monkeypatch.setattr(importer, "MAX_ZIP_BYTES", 10_000)
    bomb = zipped({"a.png": PNG + b"\x00" * 20_000})  # compresses to almost nothing
    with pytest.raises(DomainError, match="unpacks to more than"):
        upload(client, project, b"external_id,photo\np1,a.png\n", media=bomb)
    assert Item.select().count() == 0


def test_each_media_file_is_capped_as_it_is_read(client, app):
    app.config["MAX_FILE_BYTES"] = 1000
    project = draft(client, IMAGES)
    report = upload(client, project, b"external_id,photo\np1,big.png\n",
                    media=zipped({"big.png": PNG + b"\x00" * 5000}))
    assert "larger than the limit" in report.errors[0][1]


def test_an_upload_has_a_row_limit(client, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    project = draft(client)
    report = upload(client, project, b"external_id,comment\na,1\nb,2\nc,3\n")
    assert report.errors == [(4, "more than 2 rows in one upload")]
    assert Item.select().count() == 0


def test_damaged_media_are_bad_rows(client):
    project = draft(client, IMAGES)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("crc.png", PNG + bytes(range(256)) * 40)
        archive.writestr("deflate.png", PNG + bytes(range(256)) * 40)
    data = bytearray(buffer.getvalue())
    crc = data.index(b"crc.png") + len("crc.png") + 40
    data[crc : crc + 30] = b"\xff" * 30  # the data no longer matches its CRC-32
    deflate = data.index(b"deflate.png") + len("deflate.png")
    data[deflate] = 0xFF  # zlib: "invalid block type"
    report = upload(client, project, b"external_id,photo\np1,crc.png\np2,deflate.png\n",
                    media=io.BytesIO(bytes(data)))
    assert report.errors == [(2, "crc.png cannot be read from the zip"),
                             (3, "deflate.png cannot be read from the zip")]
