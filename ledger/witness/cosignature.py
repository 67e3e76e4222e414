"""C2SP tlog-cosignature: ``cosignature/v1`` witness signatures over checkpoints (Ed25519).

A witness signs ``cosignature/v1\\ntime <T>\\n`` followed by the checkpoint body (the note text,
without its signature lines), T being seconds since the Unix epoch. The note signature line is
``— <name> base64(key ID[4] ‖ T as big-endian uint64 ‖ signature[64])``, where the key ID is the
first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key). Key strings use the note formats with
the type byte 0x04: ``name+hexkeyid+base64(0x04 ‖ public key)`` and
``PRIVATE+KEY+name+hexkeyid+base64(0x04 ‖ seed)``. Split them on the first two (four) ``+``
only: the base64 part may hold ``+`` too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..note import InvalidNote

__all__ = [
    "ALG_COSIGNATURE_V1",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosigned_message",
    "generate_witness_key",
    "parse_cosignature_line",
    "check_witnesses",
    "verify_quorum",
]

ALG_COSIGNATURE_V1 = 0x04
_PREFIX = "\u2014 "


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public).digest()[:4]


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidNote("bad base64") from None


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def cosigned_message(body: str, timestamp: int) -> bytes:
    """Return the bytes a witness signs for a checkpoint body at a time (seconds)."""
    if not body.endswith("\n") or "\n\n" in body:
        raise InvalidNote("checkpoint body must end in one newline and hold no blank line")
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


@dataclass(frozen=True)
class Cosignature:
    """One parsed cosignature line."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """Return the note signature line, newline included."""
        packed = self.key_id + struct.pack(">Q", self.timestamp) + self.signature
        return f"{_PREFIX}{self.name} {base64.b64encode(packed).decode()}\n"


def parse_cosignature_line(line: str) -> Cosignature:
    """Parse ``— name base64(keyid ‖ time ‖ signature)``; check its shape, not its signature."""
    line = line.removesuffix("\n")
    if not line.startswith(_PREFIX):
        raise InvalidNote("signature line does not start with an em dash and a space")
    name, _, sig64 = line[len(_PREFIX) :].partition(" ")
    raw = _b64(sig64)
    if not _valid_name(name) or len(raw) != 4 + 8 + 64:
        raise InvalidNote("malformed cosignature line")
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    return Cosignature(name, raw[:4], timestamp, raw[12:])


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's name and public key: checks its cosignatures."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``name+hexkeyid+base64(0x04 ‖ public key)``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8 or not _valid_name(parts[0]):
            raise InvalidNote("malformed witness key")
        name, hex_id, key64 = parts
        try:
            key_id = bytes.fromhex(hex_id)
        except ValueError:
            raise InvalidNote("malformed witness key id") from None
        key = _b64(key64)
        if len(key) != 33 or key[0] != ALG_COSIGNATURE_V1:
            raise InvalidNote("witness key is not a cosignature/v1 (0x04) Ed25519 key")
        if _key_id(name, key[1:]) != key_id:
            raise InvalidNote("witness key id does not match its key")
        return cls(name, key_id, key[1:])

    def __str__(self) -> str:
        key64 = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{key64}"

    def matches(self, cosig: Cosignature) -> bool:
        return cosig.name == self.name and cosig.key_id == self.key_id

    def verify(self, body: str, cosig: Cosignature | str) -> int:
        """Check a cosignature (or its line) of a checkpoint body; return its timestamp.

        :raises InvalidNote: it is not this witness's valid cosignature of body.
        """
        if isinstance(cosig, str):
            cosig = parse_cosignature_line(cosig)
        if not self.matches(cosig):
            raise InvalidNote(f"cosignature is not by witness {self.name}")
        message = cosigned_message(body, cosig.timestamp)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(cosig.signature, message)
        except InvalidSignature:
            raise InvalidNote(f"invalid cosignature by {self.name}") from None
        return cosig.timestamp


class CosignatureSigner:
    """A witness's private key; its repr never shows the key."""

    __slots__ = ("_private", "key_id", "name")

    def __init__(self, name: str, seed: bytes):
        if not _valid_name(name):
            raise InvalidNote("witness name must be non-empty, without spaces or '+'")
        if len(seed) != 32:
            raise InvalidNote("Ed25519 seed must be 32 bytes")
        self.name = name
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.key_id = _key_id(name, self._public())

    def _public(self) -> bytes:
        return self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def parse(cls, skey: str) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+name+hexkeyid+base64(0x04 ‖ seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or len(parts[3]) != 8:
            raise InvalidNote("malformed witness signer key")
        key = _b64(parts[4])
        if len(key) != 33 or key[0] != ALG_COSIGNATURE_V1:
            raise InvalidNote("witness signer key is not a cosignature/v1 (0x04) key")
        signer = cls(parts[2], key[1:])
        if signer.key_id.hex() != parts[3].lower():
            raise InvalidNote("witness signer key id does not match its key")
        return signer

    @classmethod
    def load(cls, path: str | os.PathLike) -> CosignatureSigner:
        return cls.parse(Path(path).read_text(encoding="ascii"))

    def __repr__(self) -> str:
        return f"<CosignatureSigner {self.name}+{self.key_id.hex()}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a signer is not pickled, so its key is never copied by accident")

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.key_id, self._public())

    def secret_key_string(self) -> str:
        key64 = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self._private.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{key64.decode()}"

    def cosign(self, body: str, timestamp: int | None = None) -> Cosignature:
        """Cosign a checkpoint body at timestamp (default: now, whole seconds)."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = self._private.sign(cosigned_message(body, timestamp))
        return Cosignature(self.name, self.key_id, timestamp, signature)


def generate_witness_key(name: str) -> tuple[str, str]:
    """Return a new (signer key string, verifier key string) pair for a witness."""
    signer = CosignatureSigner(name, os.urandom(32))
    return signer.secret_key_string(), str(signer.verifier)


def verify_quorum(
    body: str, lines: Iterable[str], witnesses: Iterable[CosignatureVerifier], quorum: int
) -> list[str]:
    """Return the names of the given witnesses with a valid cosignature of body among lines.

    Lines by other keys are ignored; a line by a listed witness that does not verify fails.

    :raises InvalidNote: fewer than quorum of the witnesses cosigned body.
    """
    witnesses = list(witnesses)
    if quorum > len(witnesses):
        raise InvalidNote(f"a quorum of {quorum} needs at least {quorum} witness keys")
    signed: list[str] = []
    for line in lines:
        try:
            cosig = parse_cosignature_line(line)
        except InvalidNote:
            continue  # another kind of signature line (the log's own, say)
        for witness in witnesses:
            if witness.matches(cosig) and witness.name not in signed:
                witness.verify(body, cosig)
                signed.append(witness.name)
    if len(signed) < quorum:
        raise InvalidNote(
            f"checkpoint has {len(signed)} of the {quorum} witness cosignatures required"
        )
    return signed


def check_witnesses(
    note: str, witnesses: Iterable[CosignatureVerifier], quorum: int
) -> list[str]:
    """Check that a signed checkpoint note carries a quorum of the witnesses' cosignatures.

    :raises InvalidNote: it does not (see verify_quorum).
    """
    split = note.rfind("\n\n")
    if split < 0:
        raise InvalidNote("note has no signature block")
    return verify_quorum(note[: split + 1], note[split + 2 :].splitlines(True), witnesses, quorum)
