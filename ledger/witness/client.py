"""Submit checkpoints to a C2SP tlog-witness over HTTP (standard library only)."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Sequence

__all__ = ["WitnessConflict", "WitnessError", "add_checkpoint", "add_checkpoint_request"]


class WitnessError(Exception):
    """The witness refused the checkpoint or could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class WitnessConflict(WitnessError):
    """The witness last cosigned another size (409): resend with a proof from that size."""

    def __init__(self, size: int):
        super().__init__(f"the witness last cosigned size {size}", 409)
        self.size = size


def add_checkpoint_request(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """Return the body of an add-checkpoint request."""
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + note).encode()


def add_checkpoint(
    url: str, old_size: int, proof: Sequence[bytes], note: str, timeout: float = 3.0
) -> str:
    """POST a checkpoint to the witness at url; return its cosignature line(s).

    :raises WitnessConflict: the witness last cosigned another size (it says which).
    :raises WitnessError: any other refusal, a timeout or a network failure.
    """
    endpoint = url.rstrip("/") + "/add-checkpoint"
    if not endpoint.startswith(("http://", "https://")):
        raise WitnessError(f"witness URL must be http(s): {url}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        endpoint, data=add_checkpoint_request(old_size, proof, note), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(64 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        with exc:
            text = exc.read(4096).decode("utf-8", "replace").strip()
        if exc.code == 409 and text.isdigit():
            raise WitnessConflict(int(text)) from None
        raise WitnessError(f"witness refused ({exc.code}): {text}", exc.code) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise WitnessError(f"witness unreachable: {exc}") from None
    if not body.endswith("\n") or not body.startswith("\u2014 "):
        raise WitnessError("witness answered without a cosignature line")
    return body
