"""A real RFC 3161 time-stamping authority on loopback, made with the openssl CLI.

`make_tsa(folder)` creates a CA and a TSA certificate (extendedKeyUsage critical timeStamping)
and the `openssl ts` configuration; `serve_tsa(files)` answers POSTed
application/timestamp-query bodies by piping them into `openssl ts -reply`.
`openssl_verify(files, token, note)` is the independent check: `openssl ts -verify`.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

_CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = {cn}
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = {accuracy}
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class TsaFiles:
    folder: Path
    config: Path
    ca_cert: Path
    tsa_cert: Path
    name: str


def _openssl(*args, **kwargs):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, **kwargs)


def make_tsa(folder: Path, name: str = "Loopback TSA", accuracy: str = "secs:1") -> TsaFiles:
    """Create a CA and a TSA certificate in folder with openssl; skip when openssl is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "openssl.cnf"
    config.write_text(_CONFIG.format(cn=name, dir=folder, accuracy=accuracy))
    (folder / "serial").write_text("01\n")
    _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", folder / "ca.key", "-out", folder / "ca.crt", "-days", "2",
             "-config", config, "-extensions", "ca_ext", "-subj", f"/CN={name} CA")  # fmt: skip
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "tsa.key",
             "-out", folder / "tsa.csr", "-config", config, "-subj", f"/CN={name}")  # fmt: skip
    _openssl("x509", "-req", "-in", folder / "tsa.csr", "-CA", folder / "ca.crt", "-CAkey",
             folder / "ca.key", "-CAcreateserial", "-out", folder / "tsa.crt", "-days", "2",
             "-extfile", config, "-extensions", "tsa_ext")  # fmt: skip
    return TsaFiles(folder, config, folder / "ca.crt", folder / "tsa.crt", name)


class _Handler(BaseHTTPRequestHandler):
    files: TsaFiles

    def do_POST(self):  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_error(415)
            return
        self.server.requests += 1
        reply = subprocess.run(
            ["openssl", "ts", "-reply", "-config", str(self.files.config),
             "-queryfile", "/dev/stdin", "-out", "/dev/stdout"],
            input=body, capture_output=True, check=False,
        )  # fmt: skip
        if reply.returncode != 0:
            self.send_error(500, reply.stderr.decode(errors="replace")[:200])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply.stdout)))
        self.end_headers()
        self.wfile.write(reply.stdout)

    def log_message(self, *args):
        pass


def serve_tsa(files: TsaFiles) -> ThreadingHTTPServer:
    """Start the TSA on a free loopback port in a thread; the caller shuts it down."""
    handler = type("Handler", (_Handler,), {"files": files})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def url_of(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/tsa"


def openssl_verify(files: TsaFiles, token: bytes, note: str, folder: Path) -> str:
    """Check a token for a checkpoint note with `openssl ts -verify`; return its output.

    openssl hashes the data file itself: the checkpoint's body, exactly as the docs define.
    """
    body = note.partition("\n\n")[0] + "\n"
    data, der = folder / "checkpoint-body", folder / "token.der"
    data.write_bytes(body.encode())
    der.write_bytes(token)
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(data), "-in", str(der), "-token_in",
         "-CAfile", str(files.ca_cert), "-untrusted", str(files.tsa_cert)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr
