"""Where the ledger's signing key lives: apart from the data it signs, and how it is rotated.

Whoever holds the key can sign any checkpoint, so it must not travel with the database: a
backup or a copy of the instance folder alone must not be able to re-sign a rewritten history.
The key comes from COOP_LEDGER_KEY (the note signer key itself, for a secret manager) or from
the 0600 file COOP_LEDGER_KEY_FILE. Without either, `coop init` writes one under the user's
configuration folder (``$XDG_CONFIG_HOME/coop/<instance id>/ledger_key``), so `make run` keeps
working with one command; in production mode (COOP_MODE=production) a key inside the instance
folder stops the app.

Rotation signs the latest checkpoint with both keys (the handover a client can check with the
key it already trusts) and keeps the old verifier keys in ``<instance>/ledger_keys.pub``: they
are public, and the checkpoints they signed stay verifiable.
"""

import enum
import hashlib
import os
from pathlib import Path

from coop.instance import FILE_MODE, make_private_folder
from ledger.note import InvalidNote, Signer, Verifier, generate_signer_key

LEGACY_KEY_FILE = "ledger_key"  # where versions before 0.9 kept it: inside the instance folder
RETIRED_KEYS_FILE = "ledger_keys.pub"


class Mode(enum.StrEnum):
    """How strict the app is about where its secrets live (COOP_MODE)."""

    DEMO = "demo"
    PRODUCTION = "production"


class KeyLocationError(RuntimeError):
    """The signing key is where a copy of the data would carry it (production refuses)."""


def mode(app) -> Mode:
    try:
        return Mode(str(app.config.get("MODE") or Mode.DEMO).strip().lower())
    except ValueError:
        raise KeyLocationError(
            f"COOP_MODE must be 'demo' or 'production', not {app.config.get('MODE')!r}"
        ) from None


def _config_home() -> Path:
    configured = os.environ.get("XDG_CONFIG_HOME")
    return Path(configured) if configured else Path.home() / ".config"


def default_key_file(instance_dir: str | os.PathLike) -> Path:
    """Return the demo's key file: under the user's configuration folder, one per instance."""
    instance = Path(instance_dir).resolve()
    tag = hashlib.sha256(str(instance).encode()).hexdigest()[:12]
    return _config_home() / "coop" / f"{instance.name}-{tag}" / "ledger_key"


def key_file(app) -> Path:
    """Return the key file: COOP_LEDGER_KEY_FILE, else the default outside the instance."""
    configured = app.config.get("LEDGER_KEY_FILE")
    return Path(configured) if configured else default_key_file(app.config["INSTANCE_DIR"])


def legacy_key_file(app) -> Path:
    return Path(app.config["INSTANCE_DIR"]) / LEGACY_KEY_FILE


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def key_from_environment(app) -> str | None:
    return (app.config.get("LEDGER_KEY") or "").strip() or None


def misplaced_key(app) -> Path | None:
    """Return a signing key file inside the instance folder, if there is one."""
    instance = Path(app.config["INSTANCE_DIR"])
    if not key_from_environment(app) and _inside(key_file(app), instance):
        return key_file(app)
    legacy = legacy_key_file(app)
    return legacy if legacy.exists() else None


def check_location(app) -> None:
    """Refuse, in production mode, a signing key kept inside the instance folder.

    :raises KeyLocationError: with what to do instead.
    """
    strict = mode(app) is Mode.PRODUCTION  # a mistyped COOP_MODE stops the start too
    found = misplaced_key(app)
    if found is not None and strict:
        raise KeyLocationError(
            f"the ledger signing key {found} is inside the instance folder, so a backup of the "
            "data could re-sign a rewritten ledger. Set COOP_LEDGER_KEY_FILE to a path "
            "outside it and move the key there (`COOP_MODE=demo coop init` moves a key an "
            "older version left in the folder), or provide it as COOP_LEDGER_KEY."
        )
    if found is not None:
        app.logger.warning("the ledger signing key %s is inside the instance folder", found)


def _write_new(path: Path, secret: str) -> None:
    """Write a private key to a new 0600 file (its folder 0700); never overwrite."""
    make_private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret.strip() + "\n")


def ensure_key(app) -> str | None:
    """Make sure a signing key exists; return what was done (for `coop init`), None if nothing.

    Moves a key an older version left in the instance folder out of it; writes a new key only
    when there is none at all.
    """
    if key_from_environment(app):
        return None
    path, legacy = key_file(app), legacy_key_file(app)
    if legacy.exists() and not path.exists() and not _inside(path, legacy.parent):
        Signer.parse(legacy.read_text(encoding="ascii"))  # never move something else
        _write_new(path, legacy.read_text(encoding="ascii"))
        legacy.unlink()
        return f"Moved the ledger signing key out of the instance folder to {path} (mode 0600)."
    if path.exists():
        return None
    secret, _verifier = generate_signer_key(app.config["LEDGER_ORIGIN"])
    _write_new(path, secret)
    return f"Wrote a new ledger signing key to {path} (mode 0600)."


def load_signer(app) -> Signer:
    """Return the signing key from the environment or the key file.

    :raises RuntimeError: there is none (run `coop init`), or it is not a signer key.
    """
    secret = key_from_environment(app)
    where = "COOP_LEDGER_KEY"
    if secret is None:
        path = key_file(app)
        if not path.exists():
            raise RuntimeError(f"no ledger key at {path}: run `coop init` first")
        secret, where = path.read_text(encoding="ascii"), str(path)
    try:
        return Signer.parse(secret)
    except InvalidNote as exc:
        raise RuntimeError(f"the ledger key in {where} is not a signer key: {exc}") from None


def retired_keys_file(app) -> Path:
    return Path(app.config["INSTANCE_DIR"]) / RETIRED_KEYS_FILE


def retired_verifiers(app) -> list[Verifier]:
    """Return the verifier keys the log signed with before its current one, newest first."""
    path = retired_keys_file(app)
    if not path.exists():
        return []
    lines = path.read_text(encoding="ascii").splitlines()
    return [Verifier.parse(line) for line in reversed(lines) if line.strip()]


def rotate(app, current: Signer, sign_handover) -> Signer:
    """Replace the signing key by a new one of the same name; return the new signer.

    sign_handover(new) adds the new key's signature to the latest checkpoint before the new
    key takes over, so clients can learn it from a note the old key also signed.

    :raises RuntimeError: the key comes from the environment (rotate it where it is kept).
    """
    if key_from_environment(app):
        raise RuntimeError(
            "the ledger key comes from COOP_LEDGER_KEY: put a new key there yourself and "
            f"add the old verifier key to {retired_keys_file(app)}"
        )
    path = key_file(app)
    new = Signer.parse(generate_signer_key(current.name)[0])
    # The old public key first: if anything below fails, its checkpoints stay verifiable.
    with open(retired_keys_file(app), "a", encoding="ascii") as f:
        f.write(f"{current.verifier}\n")
    sign_handover(new)
    staged = path.with_name(path.name + ".new")
    staged.unlink(missing_ok=True)
    _write_new(staged, new.secret_key_string())
    os.replace(staged, path)  # atomic: the key file holds the old key or the new, never half
    return new
