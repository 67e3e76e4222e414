"""RFC 3161 time-stamps from a real TSA (openssl ts -reply on loopback): the token our client
fetches for a checkpoint verifies with our verifier and with `openssl ts -verify`; a token for
another checkpoint, an altered token, a foreign CA or a certificate that is not for
time-stamping are refused; and the interval rule picks, per TSA, the last stamp at or below an
entry and the first above it."""

import pytest
from cryptography import x509
from tsa_support import make_tsa, openssl_verify, serve_tsa, url_of

from ledger.interval import CheckedStamp, Interval, intervals_for, time_flag
from ledger.note import Signer, format_checkpoint, generate_signer_key, sign_note
from ledger.tsa import (
    InvalidTimestamp,
    TimestampError,
    checkpoint_imprint,
    request_timestamp,
    verify_token,
)


def _note(size: int = 3, root: bytes = b"\x07" * 32) -> str:
    signer = Signer.parse(generate_signer_key("coop.test/ledger")[0])
    return sign_note(format_checkpoint("coop.test/ledger", size, root), signer)


def _ca(files):
    return x509.load_pem_x509_certificate(files.ca_cert.read_bytes())


def test_a_token_from_an_openssl_tsa_verifies_here_and_with_openssl(tsa, tmp_path):
    files, _server, url = tsa
    note = _note()
    token = request_timestamp(url, checkpoint_imprint(note))
    stamp = verify_token(token, checkpoint_imprint(note), [_ca(files)])
    assert stamp.tsa_name == "Loopback TSA"
    assert stamp.accuracy_ns == 1_000_000_000  # the TSA's "accuracy = secs:1"
    assert stamp.earliest_ns < stamp.gen_ns < stamp.latest_ns
    assert "Verification: OK" in openssl_verify(files, token, note, tmp_path)


def test_the_imprint_is_of_the_body_only_so_cosignatures_do_not_change_it(tsa):
    note = _note()
    assert checkpoint_imprint(note) == checkpoint_imprint(note + "\u2014 witness AAAA\n")
    assert checkpoint_imprint(note) != checkpoint_imprint(_note(size=4))


def test_a_token_for_another_checkpoint_is_refused(tsa):
    _files, _server, url = tsa
    token = request_timestamp(url, checkpoint_imprint(_note(size=3)))
    with pytest.raises(InvalidTimestamp, match="another text"):
        verify_token(token, checkpoint_imprint(_note(size=4)))


def test_an_altered_token_is_refused(tsa):
    _files, _server, url = tsa
    note = _note()
    token = bytearray(request_timestamp(url, checkpoint_imprint(note)))
    # The signature is near the end of the SignerInfo, the last thing in the token.
    token[-5] ^= 0x01
    with pytest.raises(InvalidTimestamp):
        verify_token(bytes(token), checkpoint_imprint(note))


def test_a_tsa_not_issued_by_the_trusted_ca_is_refused(tsa, tmp_path):
    _files, _server, url = tsa
    other = make_tsa(tmp_path / "other", name="Other TSA")
    note = _note()
    token = request_timestamp(url, checkpoint_imprint(note))
    with pytest.raises(InvalidTimestamp, match="trusted TSA CA"):
        verify_token(token, checkpoint_imprint(note), [_ca(other)])


def test_a_certificate_not_for_time_stamping_is_refused(tmp_path):
    files = make_tsa(tmp_path / "bad")
    # Re-issue the TSA certificate with a non-critical timeStamping usage.
    config = files.config.read_text().replace(
        "extendedKeyUsage = critical,timeStamping", "extendedKeyUsage = timeStamping"
    )
    files.config.write_text(config)
    import subprocess

    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(files.folder / "tsa.csr"), "-CA",
         str(files.ca_cert), "-CAkey", str(files.folder / "ca.key"), "-CAcreateserial",
         "-out", str(files.tsa_cert), "-days", "2", "-extfile", str(files.config),
         "-extensions", "tsa_ext"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = serve_tsa(files)
    try:
        with pytest.raises(TimestampError):
            # openssl itself refuses to sign with it, or our check refuses the token.
            token = request_timestamp(url_of(server), checkpoint_imprint(_note()))
            verify_token(token, checkpoint_imprint(_note()))
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_tsa_is_a_timestamp_error():
    with pytest.raises(TimestampError, match="unreachable"):
        request_timestamp("http://127.0.0.1:9/tsa", b"\x00" * 32, timeout=0.5)


def _stamp(size, tsa, at, accuracy=1):
    return CheckedStamp(size, tsa, False, at - accuracy, at + accuracy)


def test_the_interval_is_the_last_stamp_at_or_below_and_the_first_above_per_tsa():
    stamps = [
        _stamp(5, "A", 100), _stamp(10, "A", 200), _stamp(20, "A", 300),
        _stamp(12, "B", 250),
    ]  # fmt: skip
    # Entry 10 is not in the checkpoint of size 10: that stamp bounds it from below.
    assert intervals_for(10, stamps) == [
        Interval("A", False, 199, 301),
        Interval("B", False, None, 251),
    ]
    assert intervals_for(4, stamps)[0] == Interval("A", False, None, 101)
    assert intervals_for(25, stamps)[0] == Interval("A", False, 299, None)
    inside, after = Interval("A", False, 199, 301), 302
    assert time_flag(10, 250, inside) is None
    assert "after A's upper bound" in time_flag(10, after, inside)
    assert "before A's lower bound" in time_flag(10, 150, inside)
