"""Command line: verify a ledger export or a receipt bundle without the app or a database.

    python -m ledger verify-export DIR --key VKEY [--strict] [--witness WKEY ... --quorum K]
    python -m ledger verify-bundle FILE --key VKEY [--file PATH] [--witness WKEY ... --quorum K]
    python -m ledger verify-results RESULTS PROOF --key VKEY [--format csv|jsonl] [--witness ...]
    python -m ledger witness keygen NAME --out FILE
    python -m ledger witness serve --key FILE --db FILE --log VKEY [--log VKEY ...] [--port N]

Each verify command takes [--witness WKEY ... [--quorum K]]: at least K (default: all) of these
witnesses must have cosigned the checkpoint. VKEY is a note verifier key (``name+keyid+base64``)
or the path of a file holding one; WKEY a witness's cosignature key, or a file holding it.
Exit status: 0 verified, 1 verification failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from .entry import InvalidEntry
from .merkle import InvalidProof
from .note import InvalidNote, read_key_argument
from .results import ResultsFormat, ResultsTampered, verify_results
from .verify import LedgerTampered, verify_bundle, verify_export


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ledger",
        description="Verify Coop ledger exports, receipts and results offline.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("verify-export", help="recompute an export's chain and root")
    export.add_argument("folder", help="export folder holding entries.bin and checkpoint")
    export.add_argument("--key", required=True, help="verifier key, or a file holding it")
    export.add_argument(
        "--strict", action="store_true", help="also fully decode and validate every entry"
    )
    bundle = sub.add_parser("verify-bundle", help="check a receipt bundle (JSON)")
    bundle.add_argument("bundle", help="receipt bundle file")
    bundle.add_argument("--key", required=True, help="verifier key, or a file holding it")
    bundle.add_argument("--file", help="a delivered file whose SHA-256 must be in the entry")
    results = sub.add_parser(
        "verify-results", help="check every row of a results file against its proof file"
    )
    results.add_argument("results", help="results file (CSV or JSON Lines)")
    results.add_argument("proof", help="the proof file downloaded with it")
    results.add_argument("--key", required=True, help="verifier key, or a file holding it")
    results.add_argument(
        "--format",
        choices=[f.value for f in ResultsFormat],
        help="results format (default: by extension, else by the first byte)",
    )
    for verifying in (export, bundle, results):
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


def write_signer_key_file(path: str, secret: str) -> None:
    """Write a private key to a new file readable by its owner only; never overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "witness":
        try:
            return _witness(args)
        except (InvalidNote, OSError) as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 2
    try:
        verifier = read_key_argument(args.key)
        witnesses = [_witness_key(w) for w in args.witness]
        quorum = len(witnesses) if args.quorum is None else args.quorum
        if not 0 <= quorum <= len(witnesses):
            print(
                "FAILED: --quorum must be between 0 and the number of --witness keys",
                file=sys.stderr,
            )
            return 2
        policy = f", cosigned by {quorum} of {len(witnesses)} witnesses" if quorum else ""
        if args.command == "verify-export":
            result = verify_export(
                args.folder, verifier, strict=args.strict, witnesses=witnesses, quorum=quorum
            )
            print(
                f"OK: {result.size} entries, root {result.checkpoint.root.hex()}, "
                f"checkpoint {result.checkpoint.origin} signed by {verifier.name}{policy}"
            )
        elif args.command == "verify-results":
            checked = verify_results(
                args.results, args.proof, verifier, args.format, witnesses, quorum
            )
            print(
                f"OK: {checked.rows} rows verified against checkpoint size "
                f"{checked.checkpoint.size} of {checked.checkpoint.origin}, "
                f"signed by {verifier.name}{policy}"
            )
            # Say what the OK does not vouch for: reviews and the item's computed columns.
            print("Not covered by the proof: status, gold, aggregate, confidence, method.")
        else:
            try:
                with open(args.bundle, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as exc:
                raise InvalidProof(f"cannot read bundle: {exc}") from None
            if not isinstance(data, dict):
                raise InvalidProof("bundle is not a JSON object")
            result = verify_bundle(data, verifier, args.file, witnesses, quorum)
            extra = f", file sha256 {result.matched_sha256}" if result.matched_sha256 else ""
            extra += policy
            print(
                f"OK: entry {result.index} is in {result.checkpoint.origin} at size "
                f"{result.size}, signed by {verifier.name}{extra}"
            )
    except LedgerTampered as exc:
        print(f"FAILED: tampered at index {exc.index}: {exc.reason}", file=sys.stderr)
        return 1
    except (ResultsTampered, InvalidNote, InvalidProof, InvalidEntry, OSError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
