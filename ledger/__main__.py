"""Command line: verify exports, receipt bundles and results offline, watch a log, run a witness.

    python -m ledger verify-export DIR --key VKEY [--strict] [--witness WKEY ... --quorum K]
    python -m ledger verify-bundle FILE --key VKEY [--file PATH] [--witness WKEY ... --quorum K]
    python -m ledger verify-results RESULTS PROOF --key VKEY [--format csv|jsonl] [--witness ...]
    python -m ledger monitor URL --state FILE [--key VKEY] [--witness WKEY ... --quorum K]
    python -m ledger witness keygen NAME --out FILE
    python -m ledger witness serve --key FILE --db FILE --log VKEY [--log VKEY ...] [--port N]

Each verify command takes [--witness WKEY ... [--quorum K]]: at least K (default: all) of these
witnesses must have cosigned the checkpoint. VKEY is a note verifier key (``name+keyid+base64``)
or the path of a file holding one per line; --key repeats (a log that rotated its key is
checked with its old and new keys). The checkpoint's origin line must be --origin, by default
the name of the log key that signed it; WKEY a witness's cosignature key, or a file holding it.
RFC 3161 time-stamps carried by the bundle, export or proof are always verified; with
[--tsa-ca PEM ...] their signer must also be issued by one of these CA certificates.
Exit status: 0 verified, 1 verification failed (for monitor: the log is inconsistent), 2 bad
usage, 3 verified but flagged: an entry's NTP time lies outside the interval its time-stamps
give (docs/ledger-format.md §9); for monitor, 3 means the log could not be fetched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from .entry import InvalidEntry
from .merkle import InvalidProof
from .note import InvalidNote, read_key_argument, read_key_arguments
from .results import ResultsFormat, ResultsTampered, verify_results
from .tsa import InvalidTimestamp
from .verify import LedgerTampered, verify_bundle, verify_export

# Verified, but an entry's NTP time lies outside the interval its time-stamps give.
EXIT_FLAGGED = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ledger",
        description="Verify Coop ledger exports, receipts and results offline.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("verify-export", help="recompute an export's chain and root")
    export.add_argument("folder", help="export folder holding entries.bin and checkpoint")
    export.add_argument(
        "--strict", action="store_true", help="also fully decode and validate every entry"
    )
    bundle = sub.add_parser("verify-bundle", help="check a receipt bundle (JSON)")
    bundle.add_argument("bundle", help="receipt bundle file")
    bundle.add_argument("--file", help="a delivered file whose SHA-256 must be in the entry")
    results = sub.add_parser(
        "verify-results", help="check every row of a results file against its proof file"
    )
    results.add_argument("results", help="results file (CSV or JSON Lines)")
    results.add_argument("proof", help="the proof file downloaded with it")
    results.add_argument(
        "--format",
        choices=[f.value for f in ResultsFormat],
        help="results format (default: by extension, else by the first byte)",
    )
    for verifying in (export, bundle, results):
        verifying.add_argument(
            "--key",
            action="append",
            required=True,
            help="the log's verifier key, or a file holding its keys one per line; repeatable "
            "(old and new keys after a rotation)",
        )
        verifying.add_argument(
            "--origin",
            help="the log's origin the checkpoint must name (default: the signing key's name)",
        )
        verifying.add_argument(
            "--witness",
            action="append",
            default=[],
            help="a witness's cosignature key (name+keyid+base64), or a file holding it; "
            "repeatable",
        )
        verifying.add_argument(
            "--quorum",
            type=int,
            help="how many of the --witness keys must have cosigned (default: all of them)",
        )
        verifying.add_argument(
            "--tsa-ca",
            action="append",
            default=[],
            help="a PEM file of CA certificates that must have issued each time-stamp's "
            "signer; repeatable (default: check the tokens' own signatures only)",
        )
    monitor = sub.add_parser(
        "monitor",
        help="check a log over HTTP against what this monitor saw last (run it from cron)",
    )
    monitor.add_argument("url", help="the log's address, e.g. https://coop.example.org/ledger")
    monitor.add_argument(
        "--state", required=True, help="file keeping what was seen last (written atomically)"
    )
    monitor.add_argument(
        "--key",
        action="append",
        default=[],
        help="the log's verifier key (or a file of keys) to trust; default: the keys the state "
        "file holds, else the one the log serves on the first run",
    )
    monitor.add_argument("--origin", help="the log's origin (default: its key's name)")
    monitor.add_argument("--witness", action="append", default=[],
                         help="a witness's cosignature key, or a file holding it; repeatable")
    monitor.add_argument("--quorum", type=int,
                         help="how many of the --witness keys must have cosigned (default: all)")
    witness = sub.add_parser("witness", help="run a C2SP tlog-witness for one or more logs")
    wsub = witness.add_subparsers(dest="witness_command", required=True)
    keygen = wsub.add_parser("keygen", help="write a new witness key (0600) and print its vkey")
    keygen.add_argument("name", help="the witness's name, e.g. witness.example.org/w1")
    keygen.add_argument("--out", required=True, help="new file for the private key")
    serve = wsub.add_parser("serve", help="serve POST /add-checkpoint")
    serve.add_argument("--key", required=True, help="the witness's private key file")
    serve.add_argument("--db", required=True, help="SQLite file for the witness's state")
    serve.add_argument(
        "--log", action="append", required=True, help="a log's verifier key (or a file holding it)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8787, help="port (0: any free one)")
    return parser


def _witness(args) -> int:
    from .witness.cosignature import CosignatureSigner, generate_witness_key

    if args.witness_command == "keygen":
        secret, vkey = generate_witness_key(args.name)
        write_signer_key_file(args.out, secret)
        print(vkey)
        return 0
    from .witness.server import Witness, make_server

    witness = Witness(
        CosignatureSigner.load(args.key), args.db, [read_key_argument(v) for v in args.log]
    )
    server = make_server(witness, args.host, args.port)
    host, port = server.server_address[:2]
    # The first line says where it listens (port 0 picks one), so scripts and tests can read it.
    print(f"witness {witness.signer.verifier} listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _witness_key(value: str):
    from .witness.cosignature import CosignatureVerifier

    if "+" not in value or os.path.isfile(value):
        try:
            with open(value, encoding="utf-8") as f:
                value = f.read()
        except OSError as exc:
            raise InvalidNote(f"cannot read witness key file {value}: {exc.strerror}") from None
    return CosignatureVerifier.parse(value)


def _tsa_cas(paths: Sequence[str]) -> list:
    from cryptography import x509

    cas = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                cas += x509.load_pem_x509_certificates(f.read())
        except ValueError as exc:
            raise InvalidTimestamp(f"{path} holds no PEM certificate: {exc}") from None
    return cas


def _intervals(intervals) -> str:
    from .entry import rfc3339_ns

    parts = []
    for i in intervals:
        after = "-" if i.after_ns is None else rfc3339_ns(i.after_ns)
        before = "-" if i.before_ns is None else rfc3339_ns(i.before_ns)
        qualified = ", qualified" if i.qualified else ""
        parts.append(f"bounded between {after} and {before} by {i.tsa}{qualified}")
    return "".join(f"; {p}" for p in parts)


def _flagged(flags: Sequence[str]) -> int:
    for flag in flags:
        print(f"FLAGGED: {flag}", file=sys.stderr)
    return EXIT_FLAGGED if flags else 0


def write_signer_key_file(path: str, secret: str) -> None:
    """Write a private key to a new file readable by its owner only; never overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret + "\n")


def _monitor(args, witnesses, quorum) -> int:
    from .monitor import (
        MonitorAlarm,
        MonitorState,
        Unreachable,
        check_log,
        load_state,
        log_url,
        save_evidence,
        save_state,
    )

    try:
        url = log_url(args.url)
    except ValueError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 2
    try:
        state = load_state(args.state)
        if state is not None and state.url != url:
            raise MonitorAlarm(f"the state file {args.state} watches {state.url}, not {url}")
        state = state or MonitorState(url, origin=args.origin)
        pinned = [str(k) for k in read_key_arguments(args.key)] if args.key else []
        first = not state.keys and not pinned
        state.keys += [k for k in pinned if k not in state.keys]
        new_state, seen = check_log(state, witnesses=witnesses, quorum=quorum)
    except Unreachable as exc:
        print(f"FAILED: cannot fetch the log: {exc}", file=sys.stderr)
        return 3
    except MonitorAlarm as exc:
        if exc.note:
            kept = save_evidence(args.state, exc.note, str(exc))
            print(f"ALARM: {exc} (checkpoint kept in {kept})", file=sys.stderr)
        else:
            print(f"ALARM: {exc}", file=sys.stderr)
        return 1
    save_state(args.state, new_state)
    cp = seen.checkpoint
    grew = f"grew from {seen.previous_size}" if seen.previous_size else "first seen"
    print(f"OK: {cp.origin} size {cp.size} ({grew}), root {cp.root.hex()}, consistent")
    if first:
        print(f"Trusting the key the log serves, on first use: {new_state.keys[0]}")
    for key in seen.learned_keys:
        print(f"Learned the log's new key {key}: it signed beside a key already trusted")
    if seen.cosigned_by:
        print(f"Cosigned by {', '.join(seen.cosigned_by)} ({quorum} required)")
    print(seen.timestamps)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "monitor":
        try:
            witnesses = [_witness_key(w) for w in args.witness]
        except InvalidNote as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 2
        quorum = len(witnesses) if args.quorum is None else args.quorum
        if not 0 <= quorum <= len(witnesses):
            print("FAILED: --quorum must be between 0 and the number of --witness keys",
                  file=sys.stderr)
            return 2
        try:
            return _monitor(args, witnesses, quorum)
        except InvalidNote as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 2
    if args.command == "witness":
        try:
            return _witness(args)
        except (InvalidNote, OSError) as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 2
    try:
        verifiers = read_key_arguments(args.key)
        verifier = verifiers[0]
        witnesses = [_witness_key(w) for w in args.witness]
        quorum = len(witnesses) if args.quorum is None else args.quorum
        if not 0 <= quorum <= len(witnesses):
            print(
                "FAILED: --quorum must be between 0 and the number of --witness keys",
                file=sys.stderr,
            )
            return 2
        policy = f", cosigned by {quorum} of {len(witnesses)} witnesses" if quorum else ""
        trusted = _tsa_cas(args.tsa_ca)
        if args.command == "verify-export":
            result = verify_export(
                args.folder, verifiers, strict=args.strict, witnesses=witnesses, quorum=quorum,
                trusted_tsas=trusted, origin=args.origin,
            )  # fmt: skip
            stamped = f", {len(result.stamps)} time-stamps verified" if result.stamps else ""
            print(
                f"OK: {result.size} entries, root {result.checkpoint.root.hex()}, "
                f"checkpoint {result.checkpoint.origin} signed by {verifier.name}{policy}{stamped}"
            )
            return _flagged(result.flags)
        elif args.command == "verify-results":
            checked = verify_results(
                args.results, args.proof, verifiers, args.format, witnesses, quorum, trusted,
                args.origin,
            )
            stamped = f", {checked.stamps} time-stamps verified" if checked.stamps else ""
            print(
                f"OK: {checked.rows} rows verified against checkpoint size "
                f"{checked.checkpoint.size} of {checked.checkpoint.origin}, "
                f"signed by {verifier.name}{policy}{stamped}"
            )
            # Say what the OK does not vouch for: reviews and the item's computed columns.
            print("Not covered by the proof: status, gold, aggregate, confidence, method.")
            return _flagged(checked.flags)
        else:
            try:
                with open(args.bundle, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as exc:
                raise InvalidProof(f"cannot read bundle: {exc}") from None
            if not isinstance(data, dict):
                raise InvalidProof("bundle is not a JSON object")
            result = verify_bundle(
                data, verifiers, args.file, witnesses, quorum, trusted, args.origin
            )
            extra = f", file sha256 {result.matched_sha256}" if result.matched_sha256 else ""
            extra += policy + _intervals(result.intervals)
            print(
                f"OK: entry {result.index} is in {result.checkpoint.origin} at size "
                f"{result.size}, signed by {verifier.name}{extra}"
            )
            return _flagged(result.flags)
    except LedgerTampered as exc:
        print(f"FAILED: tampered at index {exc.index}: {exc.reason}", file=sys.stderr)
        return 1
    except (
        ResultsTampered, InvalidNote, InvalidProof, InvalidEntry, InvalidTimestamp, OSError
    ) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
