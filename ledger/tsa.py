"""RFC 3161 time-stamps of checkpoints: ask a time-stamping authority (TSA), check its token.

A checkpoint is time-stamped by sending the SHA-256 of its body (the note text up to and
including the newline before the blank line: origin, size and root lines, with no signature)
as the message imprint. The token that comes back is a CMS SignedData whose signed content is
a TSTInfo naming that imprint and the TSA's time; ``verify_token`` checks the signature with
the certificate carried in the token, the signed attributes (content type, message digest, the
ESS signing-certificate hash when present) and that the certificate is for time-stamping only.
Whether that certificate belongs to a TSA you trust is a separate question: pass its CA
certificates as ``trusted`` (``--tsa-ca`` on the command line), or ask ``openssl ts -verify``.

The structures are asn1crypto's and the signatures are checked with ``cryptography``; the
request travels by HTTP POST as ``application/timestamp-query`` (standard library only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "InvalidTimestamp",
    "TimestampError",
    "VerifiedTimestamp",
    "checkpoint_imprint",
    "request_timestamp",
    "stamp_due",
    "timestamp_request",
    "verify_token",
]

_HASHES = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha1": hashes.SHA1,  # only for the ESS signing-certificate v1 hash, which RFC 3161 fixes
}
_MAX_RESPONSE = 64 * 1024


class InvalidTimestamp(ValueError):
    """A time-stamp token does not verify, or is not for this checkpoint."""


class TimestampError(Exception):
    """The TSA refused the request or could not be reached."""


@dataclass(frozen=True)
class VerifiedTimestamp:
    """What a verified token proved: the imprinted text existed at gen_ns ± accuracy_ns."""

    gen_ns: int
    accuracy_ns: int
    tsa_name: str
    serial: int
    certificate: x509.Certificate

    @property
    def earliest_ns(self) -> int:
        return self.gen_ns - self.accuracy_ns

    @property
    def latest_ns(self) -> int:
        return self.gen_ns + self.accuracy_ns


def stamp_due(
    size: int, stamped_size: int | None, stamped_ns: int | None, now_ns: int, interval_ns: int
) -> bool:
    """Whether the checkpoint of size should be time-stamped now.

    Only while the log grows (size beyond the last stamped one), and at most once per
    interval (since the last stamp's time): round trips are bounded by the interval, whatever
    the rate of appends or of publications.
    """
    if stamped_size is None or stamped_ns is None:
        return size > 0
    return size > stamped_size and now_ns - stamped_ns >= interval_ns


def checkpoint_imprint(note: str) -> bytes:
    """Return the SHA-256 a checkpoint's time-stamp imprints: that of the note's body."""
    body, sep, _signatures = note.partition("\n\n")
    if not sep and not note.endswith("\n"):
        raise InvalidTimestamp("the checkpoint has no body")
    return hashlib.sha256((body + "\n").encode("utf-8")).digest()


def timestamp_request(digest: bytes, nonce: int | None = None) -> bytes:
    """Return a DER TimeStampReq for a SHA-256 digest, asking for the TSA's certificate."""
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": secrets.randbits(63) if nonce is None else nonce,
            "cert_req": True,
        }
    )
    return request.dump()


def request_timestamp(url: str, digest: bytes, timeout: float = 5.0) -> bytes:
    """POST a request for digest to the TSA at url; return the DER token it answers.

    The token is checked to be for this digest and this request's nonce, and to verify.

    :raises TimestampError: the TSA refused, answered something else, or is unreachable.
    """
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"TSA URL must be http(s): {url}")
    nonce = secrets.randbits(63)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=timestamp_request(digest, nonce),
        method="POST",
        headers={"Content-Type": "application/timestamp-query"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(_MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        with exc:
            raise TimestampError(f"TSA refused ({exc.code}): {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TimestampError(f"TSA unreachable: {exc}") from None
    if len(body) > _MAX_RESPONSE:
        raise TimestampError("TSA answered more than a time-stamp response")
    try:
        answer = tsp.TimeStampResp.load(body)
        status = answer["status"]["status"].native
        token = answer["time_stamp_token"]
    except (ValueError, TypeError) as exc:
        raise TimestampError(f"TSA answered something that is not a time-stamp: {exc}") from None
    if status not in ("granted", "granted_with_mods") or token.native is None:
        text = answer["status"]["status_string"].native or []
        raise TimestampError(f"TSA refused: {status} {' '.join(text)}".strip())
    der = token.dump()
    try:
        info = _tst_info(cms.ContentInfo.load(der))
        if info["nonce"].native != nonce:
            raise InvalidTimestamp("the token does not answer this request (nonce)")
        verify_token(der, digest)
    except InvalidTimestamp as exc:
        raise TimestampError(f"TSA answered a bad token: {exc}") from None
    return der


def _tst_info(content: cms.ContentInfo) -> tsp.TSTInfo:
    if content["content_type"].native != "signed_data":
        raise InvalidTimestamp("the token is not CMS signed data")
    encap = content["content"]["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise InvalidTimestamp("the token's content is not a TSTInfo")
    return encap["content"].parsed


def _accuracy_ns(info: tsp.TSTInfo) -> int:
    accuracy = info["accuracy"].native or {}
    return (
        (accuracy.get("seconds") or 0) * 1_000_000_000
        + (accuracy.get("millis") or 0) * 1_000_000
        + (accuracy.get("micros") or 0) * 1_000
    )


def _unix_ns(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _signer_certificate(signed: cms.SignedData, signer: cms.SignerInfo) -> cms.Certificate:
    sid = signer["sid"]
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.issuer == wanted["issuer"]
                and cert.serial_number == wanted["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise InvalidTimestamp("the token does not carry its signer's certificate")


def _attribute(attrs: cms.CMSAttributes, name: str):
    values = [a["values"] for a in attrs if a["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        return None
    return values[0][0]


def _check_signing_certificate(attrs: cms.CMSAttributes, cert_der: bytes) -> None:
    """Check the ESS signing-certificate attribute (RFC 2634 / 5035) names this certificate."""
    v2 = _attribute(attrs, "signing_certificate_v2")
    v1 = _attribute(attrs, "signing_certificate")
    if v2 is not None:
        first = v2["certs"][0]
        name = first["hash_algorithm"]["algorithm"].native
        expected = first["cert_hash"].native
    elif v1 is not None:
        name, expected = "sha1", v1["certs"][0]["cert_hash"].native
    else:
        raise InvalidTimestamp("the token has no ESS signing-certificate attribute")
    if name not in _HASHES:
        raise InvalidTimestamp(f"the signing-certificate hash {name} is not supported")
    digest = hashes.Hash(_HASHES[name]())
    digest.update(cert_der)
    if not hmac.compare_digest(digest.finalize(), expected):
        raise InvalidTimestamp("the token's signing-certificate attribute names another one")


def _verify_signature(cert: x509.Certificate, signer: cms.SignerInfo, data: bytes) -> None:
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES or digest_name == "sha1":
        raise InvalidTimestamp(f"the token's digest algorithm {digest_name} is not accepted")
    algorithm = _HASHES[digest_name]()
    signature = signer["signature"].native
    key = cert.public_key()
    scheme = signer["signature_algorithm"].signature_algo
    try:
        if isinstance(key, rsa.RSAPublicKey) and scheme == "rsassa_pkcs1v15":
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, rsa.RSAPublicKey) and scheme == "rsassa_pss":
            pss = padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO)
            key.verify(signature, data, pss, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and scheme == "ecdsa":
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey) and scheme == "ed25519":
            key.verify(signature, data)
        else:
            raise InvalidTimestamp(f"the token's signature scheme {scheme} is not supported")
    except InvalidSignature:
        raise InvalidTimestamp("the token's signature does not verify") from None


def _check_certificate(cert: x509.Certificate, gen_ns: int, trusted) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        usage = None
    # RFC 3161 §2.3: the one extended key usage timeStamping, marked critical.
    only_stamping = usage is not None and list(usage.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    if not only_stamping or not usage.critical:
        raise InvalidTimestamp("the signer's certificate is not for time-stamping only")
    before = _unix_ns(cert.not_valid_before_utc)
    after = _unix_ns(cert.not_valid_after_utc)
    if not before <= gen_ns <= after:
        raise InvalidTimestamp("the token's time is outside its certificate's validity")
    if trusted:
        for anchor in trusted:
            if cert == anchor:
                return
            try:
                cert.verify_directly_issued_by(anchor)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return
        raise InvalidTimestamp("the signer's certificate is not issued by a trusted TSA CA")


def _tsa_name(cert: x509.Certificate) -> str:
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        found = cert.subject.get_attributes_for_oid(oid)
        if found:
            return str(found[0].value)
    return cert.subject.rfc4514_string()


def verify_token(
    token: bytes, digest: bytes, trusted: Sequence[x509.Certificate] = ()
) -> VerifiedTimestamp:
    """Check a DER time-stamp token for a SHA-256 digest; return its time and signer.

    :raises InvalidTimestamp: naming what does not hold.
    """
    try:
        content = cms.ContentInfo.load(token)
        info = _tst_info(content)
        signed = content["content"]
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise InvalidTimestamp("the token must have exactly one signer")
        signer = signers[0]
        imprint = info["message_imprint"]
        if imprint["hash_algorithm"]["algorithm"].native != "sha256":
            raise InvalidTimestamp("the token's imprint is not a SHA-256")
        if not hmac.compare_digest(imprint["hashed_message"].native, digest):
            raise InvalidTimestamp("the token time-stamps another text than this checkpoint")
        attrs = signer["signed_attrs"]
        if not attrs:
            raise InvalidTimestamp("the token has no signed attributes")
        content_type = _attribute(attrs, "content_type")
        if content_type is None or content_type.native != "tst_info":
            raise InvalidTimestamp("the token's signed content type is not a TSTInfo")
        digest_name = signer["digest_algorithm"]["algorithm"].native
        if digest_name not in _HASHES:
            raise InvalidTimestamp(f"the token's digest algorithm {digest_name} is not accepted")
        content_digest = hashes.Hash(_HASHES[digest_name]())
        content_digest.update(signed["encap_content_info"]["content"].contents)
        message_digest = _attribute(attrs, "message_digest")
        if message_digest is None or not hmac.compare_digest(
            message_digest.native, content_digest.finalize()
        ):
            raise InvalidTimestamp("the token's signed digest is not that of its content")
        cert_asn1 = _signer_certificate(signed, signer)
        cert_der = cert_asn1.dump()
        _check_signing_certificate(attrs, cert_der)
        cert = x509.load_der_x509_certificate(cert_der)
        # The signature covers the DER of the attributes as a SET OF (tag 0x31), not as
        # the [0] IMPLICIT field they are carried in (RFC 5652 §5.4).
        signed_bytes = b"\x31" + attrs.dump()[1:]
        _verify_signature(cert, signer, signed_bytes)
        gen_ns = _unix_ns(info["gen_time"].native)
        _check_certificate(cert, gen_ns, trusted)
        return VerifiedTimestamp(
            gen_ns, _accuracy_ns(info), _tsa_name(cert), info["serial_number"].native, cert
        )
    except InvalidTimestamp:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise InvalidTimestamp(f"the token is malformed: {exc}") from None
