"""C2SP signed notes and tlog checkpoints with Ed25519 keys.

Follows golang.org/x/mod/sumdb/note byte for byte, so a checkpoint we sign opens with Go's
``note.Open`` and a note Go signs opens here. Key strings use the note formats:

- verifier key ``name+hexkeyid+base64(0x01 ‖ public key)``
- signer key ``PRIVATE+KEY+name+hexkeyid+base64(0x01 ‖ seed)``

where keyid is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "InvalidNote",
    "Note",
    "NoteSignature",
    "Signer",
    "UnverifiedNote",
    "Verifier",
    "format_checkpoint",
    "generate_signer_key",
    "load_signer_key",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "read_key_argument",
    "read_key_arguments",
    "sign_note",
    "write_signer_key",
]

ALG_ED25519 = 0x01
# Go's note.Open gives up after this many signature lines, so a note cannot make us spin.
MAX_SIGNATURES = 100
_SIG_PREFIX = "\u2014 ".encode()  # em dash, space
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class InvalidNote(ValueError):
    """A signed note, checkpoint or key is malformed or does not verify."""


class UnverifiedNote(InvalidNote):
    """A well-formed note carries no signature by any key we know."""


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidNote("bad base64") from None


def _public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse ``name+hexkeyid+base64(0x01 ‖ public key)``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8 or not _valid_name(parts[0]):
            raise InvalidNote("malformed verifier key")
        name, hex_id, key64 = parts
        try:
            key_id = bytes.fromhex(hex_id)
        except ValueError:
            raise InvalidNote("malformed verifier key id") from None
        key = _b64decode(key64)
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise InvalidNote("verifier key is not an Ed25519 key")
        if _key_id(name, key[1:]) != key_id:
            raise InvalidNote("verifier key id does not match its key")
        return cls(name, key_id, key[1:])

    def __str__(self) -> str:
        key64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{key64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether signature is this key's Ed25519 signature of message."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """A named Ed25519 private key; its repr and str never show the key."""

    __slots__ = ("_private", "key_id", "name")

    def __init__(self, name: str, seed: bytes):
        if not _valid_name(name):
            raise InvalidNote("signer name must be non-empty, without spaces or '+'")
        if len(seed) != 32:
            raise InvalidNote("Ed25519 seed must be 32 bytes")
        self.name = name
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.key_id = _key_id(name, _public_bytes(self._private.public_key()))

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+name+hexkeyid+base64(0x01 ‖ seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or len(parts[3]) != 8:
            raise InvalidNote("malformed signer key")
        _, _, name, hex_id, key64 = parts
        key = _b64decode(key64)
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise InvalidNote("signer key is not an Ed25519 key")
        signer = cls(name, key[1:])
        if signer.key_id.hex() != hex_id.lower():
            raise InvalidNote("signer key id does not match its key")
        return signer

    def __repr__(self) -> str:
        return f"<Signer {self.name}+{self.key_id.hex()}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Signer is not pickled, so its key is never copied by accident")

    @property
    def verifier(self) -> Verifier:
        """Return the matching verifier."""
        return Verifier(self.name, self.key_id, _public_bytes(self._private.public_key()))

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of message."""
        return self._private.sign(message)

    def secret_key_string(self) -> str:
        """Return the note-format signer key (for writing to a 0600 file, nowhere else)."""
        seed = self._private.private_bytes_raw()
        key64 = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{key64}"


def generate_signer_key(name: str) -> tuple[str, str]:
    """Return a new (signer key string, verifier key string) pair for name."""
    signer = Signer(name, os.urandom(32))
    return signer.secret_key_string(), str(signer.verifier)


def write_signer_key(path: str | os.PathLike, signer_key: str) -> None:
    """Write a signer key to a new file readable by its owner only; never overwrite."""
    Signer.parse(signer_key)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(signer_key.strip() + "\n")


def load_signer_key(path: str | os.PathLike) -> Signer:
    """Load a signer key file written by write_signer_key."""
    return Signer.parse(Path(path).read_text(encoding="ascii"))


def read_key_argument(value: str) -> Verifier:
    """Return the verifier given as a key string or as the path of a file holding one."""
    keys = read_key_arguments([value])
    if len(keys) != 1:
        raise InvalidNote(f"{value} holds {len(keys)} verifier keys, expected one")
    return keys[0]


def read_key_arguments(values: Iterable[str]) -> tuple[Verifier, ...]:
    """Return the verifiers given as key strings or files holding one key per line.

    A log that rotated its key is verified with all its keys: the old key's checkpoints stay
    valid, so a file listing them (the app's ``/ledger/keys``) can be passed as it is.
    """
    keys: list[Verifier] = []
    for value in values:
        path = Path(value)
        if "+" not in value or path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidNote(
                    f"cannot read verifier key file {value}: {exc.strerror}"
                ) from None
            keys += [Verifier.parse(line) for line in text.splitlines() if line.strip()]
        else:
            keys.append(Verifier.parse(value))
    if not keys:
        raise InvalidNote("no verifier key given")
    return tuple(keys)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    base64: str


@dataclass(frozen=True)
class Note:
    """An opened note: its text and which signatures verified."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...] = field(default=())


def sign_note(text: str, *signers: Signer) -> str:
    """Return text followed by a blank line and one signature line per signer."""
    if not text.endswith("\n"):
        raise InvalidNote("note text must end in a newline")
    message = text.encode()
    _check_characters(message)
    if b"\n\n" in message:
        # Open splits at the last blank line, so a blank line in the text would not round-trip.
        raise InvalidNote("note text must not contain a blank line")
    lines = []
    for signer in signers:
        sig64 = base64.b64encode(signer.key_id + signer.sign(message)).decode()
        lines.append(f"\u2014 {signer.name} {sig64}\n")
    return text + "\n" + "".join(lines)


def _check_characters(message: bytes) -> None:
    try:
        decoded = message.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNote("note is not valid UTF-8") from None
    if any(c < " " and c != "\n" for c in decoded):
        raise InvalidNote("note contains a control character")


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Check a signed note like Go's note.Open; return it if a known key signed it.

    :raises UnverifiedNote: only unknown keys signed it.
    :raises InvalidNote: it is malformed or a known key's signature is wrong.
    """
    if isinstance(message, str):
        try:
            message = message.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidNote("note is not valid UTF-8") from None
    _check_characters(message)
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known and known[(v.name, v.key_id)] != v:
            raise InvalidNote(f"ambiguous verifier keys for {v.name}")
        known[(v.name, v.key_id)] = v
    split = message.rfind(b"\n\n")
    if split < 0:
        raise InvalidNote("note has no signature block")
    text, sigs = message[: split + 1], message[split + 2 :]
    if not sigs or not sigs.endswith(b"\n"):
        raise InvalidNote("signature block must end in a newline")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, bytes]] = set()
    seen_lines: set[bytes] = set()
    for count, line in enumerate(sigs[:-1].split(b"\n"), start=1):
        if count > MAX_SIGNATURES:
            raise InvalidNote(f"more than {MAX_SIGNATURES} signatures")
        if not line.startswith(_SIG_PREFIX):
            raise InvalidNote("signature line does not start with an em dash and a space")
        name, _, sig64 = line[len(_SIG_PREFIX) :].decode().partition(" ")
        sig = _b64decode(sig64) if sig64 else b""
        if not _valid_name(name) or len(sig) < 5:
            raise InvalidNote("malformed signature line")
        key_id, signature = sig[:4], sig[4:]
        entry = NoteSignature(name, key_id, sig64)
        verifier = known.get((name, key_id))
        if verifier is None:
            if line not in seen_lines:
                seen_lines.add(line)
                unverified.append(entry)
            continue
        if (name, key_id) in seen:
            continue
        seen.add((name, key_id))
        if not verifier.verify(text, signature):
            raise InvalidNote(f"invalid signature by {name}")
        verified.append(entry)
    note = Note(text.decode(), tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNote("note is not signed by any known key")
    return note


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog checkpoint: origin, tree size, root hash and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """Return the checkpoint body (the note text that gets signed)."""
        return format_checkpoint(self.origin, self.size, self.root, self.extensions)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """Return the checkpoint note text for a tree."""
    extensions = tuple(extensions)
    if not origin or "\n" in origin or size < 0 or len(root) != 32:
        raise InvalidNote("bad checkpoint fields")
    if any(not line or "\n" in line for line in extensions):
        raise InvalidNote("extension lines must be non-empty single lines")
    lines = [origin, str(size), base64.b64encode(root).decode(), *extensions]
    return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (without signatures)."""
    if not text.endswith("\n"):
        raise InvalidNote("checkpoint must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise InvalidNote("checkpoint needs origin, size and root lines")
    origin, size, root64, *extensions = lines
    if not _DECIMAL.fullmatch(size):
        raise InvalidNote("checkpoint size is not a canonical decimal")
    root = _b64decode(root64)
    if len(root) != 32 or base64.b64encode(root).decode() != root64:
        raise InvalidNote("checkpoint root is not a base64 SHA-256 hash")
    if any(not line for line in extensions):
        raise InvalidNote("empty checkpoint extension line")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def open_checkpoint(
    message: str | bytes, verifier: Verifier | Sequence[Verifier], origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint by the log's key (or one of its keys) and return it.

    The origin line must be origin when given, else the name of the key that signed it (a
    log's key is named after its origin, as C2SP tlog-checkpoint recommends): a log key's
    signature over another origin is not this log's checkpoint.
    """
    verifiers = (verifier,) if isinstance(verifier, Verifier) else tuple(verifier)
    note = open_note(message, verifiers)
    names = {v.name for v in verifiers}
    signed_by = [s.name for s in note.signatures if s.name in names]
    if not signed_by:
        raise InvalidNote("checkpoint is not signed by the log key")
    checkpoint = parse_checkpoint(note.text)
    expected = origin if origin is not None else signed_by[0]
    if checkpoint.origin != expected:
        raise InvalidNote(f"checkpoint origin is {checkpoint.origin!r}, expected {expected!r}")
    return checkpoint
