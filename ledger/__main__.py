"""Command line: verify a ledger export or a receipt bundle without the app or a database.

    python -m ledger verify-export DIR --key VKEY [--strict]
    python -m ledger verify-bundle FILE --key VKEY [--file PATH]
    python -m ledger verify-results RESULTS PROOF --key VKEY [--format csv|jsonl]

VKEY is a note verifier key (``name+keyid+base64``) or the path of a file holding one.
Exit status: 0 verified, 1 verification failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        verifier = read_key_argument(args.key)
        if args.command == "verify-export":
            result = verify_export(args.folder, verifier, strict=args.strict)
            print(
                f"OK: {result.size} entries, root {result.checkpoint.root.hex()}, "
                f"checkpoint {result.checkpoint.origin} signed by {verifier.name}"
            )
        elif args.command == "verify-results":
            checked = verify_results(args.results, args.proof, verifier, args.format)
            print(
                f"OK: {checked.rows} rows verified against checkpoint size "
                f"{checked.checkpoint.size} of {checked.checkpoint.origin}, "
                f"signed by {verifier.name}"
            )
        else:
            try:
                with open(args.bundle, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as exc:
                raise InvalidProof(f"cannot read bundle: {exc}") from None
            if not isinstance(data, dict):
                raise InvalidProof("bundle is not a JSON object")
            result = verify_bundle(data, verifier, args.file)
            extra = f", file sha256 {result.matched_sha256}" if result.matched_sha256 else ""
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
