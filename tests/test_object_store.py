"""The file store on S3-compatible object storage (a real SeaweedFS on loopback): uploads are
hashed, then streamed to `<sha[:2]>/<sha>` with their SHA-256; downloads stream back, ranges
included; `coop tick` finishes a publication a killed process left; readiness sees the bucket."""

import hashlib
import io
import os
import uuid

import boto3
import pytest
from s3_server import ACCESS_KEY, SECRET_KEY, seaweedfs

from coop import files
from coop.housekeeping import referenced_hashes


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    try:
        with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
            yield endpoint
    except RuntimeError as error:
        pytest.skip(f"no S3 server on loopback: {error}")


@pytest.fixture
def bucket(app, s3_endpoint):
    """A fresh bucket, and the app storing its files there."""
    name = f"coop-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    host = s3_endpoint.removeprefix("http://")
    app.config["STORAGE_URL"] = f"s3+http://{ACCESS_KEY}:{SECRET_KEY}@{host}/{name}"
    app.extensions.pop("coop.object_store", None)
    return client, name


def _objects(client, name):
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    return {item["Key"]: item["Size"] for item in listed}


def test_a_delivered_file_goes_to_the_bucket_under_its_hash_and_nowhere_else(
    app, bucket, make_delivery
):
    client, name = bucket
    _task, delivery = make_delivery()
    body = b"bike,1 2 3 4\n"
    sha = hashlib.sha256(body).hexdigest()
    assert _objects(client, name) == {f"{sha[:2]}/{sha}": len(body)}
    head = client.head_object(Bucket=name, Key=f"{sha[:2]}/{sha}")
    assert head["Metadata"] == {"sha256": sha}
    # Nothing left in the local folder: not the file, not a staged copy.
    local = [p for p in os.scandir(app.config["UPLOAD_DIR"])] if os.path.isdir(
        app.config["UPLOAD_DIR"]) else []
    assert local == []


def test_downloads_stream_from_the_bucket_with_ranges(app, bucket, make_delivery):
    _task, delivery = make_delivery()
    stored = delivery.files[0]
    client = app.test_client(user=delivery.task.client)
    url = f"/deliveries/{delivery.id}/files/{stored.id}"
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.data == b"bike,1 2 3 4\n"
    assert whole.headers["Content-Disposition"] == 'attachment; filename="boxes.csv"'
    assert whole.headers["Cache-Control"] == "private, no-store"
    part = client.get(url, headers={"Range": "bytes=5-9"})
    assert part.status_code == 206
    assert part.data == b"1 2 3"
    assert part.headers["Content-Range"] == "bytes 5-9/13"


def test_a_large_upload_streams_in_parts_and_keeps_its_hash(app, bucket):
    client, name = bucket
    body = os.urandom(9 * 1024 * 1024)  # above boto3's 8 MiB multipart threshold
    with app.test_request_context():
        stored = files.save(io.BytesIO(body), "clip.wav", "audio/wav")
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    got = client.get_object(Bucket=name, Key=f"{stored.sha256[:2]}/{stored.sha256}")["Body"]
    assert hashlib.sha256(got.read()).hexdigest() == stored.sha256


def test_tick_publishes_a_staged_file_a_killed_process_left(app, bucket, make_delivery):
    client, name = bucket
    with app.test_request_context():
        staging = files.Staging()
        stored = staging.add(io.BytesIO(b"left behind"), "notes.txt", "text/plain")
        # The process died after its commit, before publishing: the staged file is all there is.
        assert _objects(client, name) == {}
        report = files.sweep({stored.sha256}, older_than=0)
    assert report.staged_published == 1
    assert f"{stored.sha256[:2]}/{stored.sha256}" in _objects(client, name)


def test_sweep_counts_unreferenced_objects_without_deleting(app, bucket, make_delivery):
    client, name = bucket
    make_delivery()
    with app.test_request_context():
        files.save(io.BytesIO(b"nobody refers to me"), "orphan.txt", "text/plain")
        report = files.sweep(referenced_hashes(), older_than=0)
    assert report.unreferenced == 1
    assert report.unreferenced_bytes == len(b"nobody refers to me")
    assert len(_objects(client, name)) == 2


def test_readiness_sees_a_missing_bucket(app, bucket, client):
    s3, name = bucket
    assert client.get("/readyz").get_json()["checks"]["storage"] == "ok"
    app.config["STORAGE_URL"] = app.config["STORAGE_URL"].rsplit("/", 1)[0] + "/no-such-bucket"
    app.extensions.pop("coop.object_store", None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] == "failed"


def test_a_mistyped_storage_url_stops_the_start(tmp_path):
    from coop import create_app

    with pytest.raises(ValueError, match="COOP_STORAGE_URL"):
        create_app({"SECRET_KEY": "x", "STORAGE_URL": "s3://no-bucket-here",
                    "INSTANCE_DIR": str(tmp_path), "NTP_SERVERS": "",
                    "QUEUE_URL": "immediate://"})
