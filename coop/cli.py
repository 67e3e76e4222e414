"""The `coop` command: thin wrappers over operations, each with --help."""

import json
import os
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale

from coop.db import database, discard_after_commit, run_after_commit


def _write_private(path: Path, text: str) -> None:
    """Create a file readable by its owner only; never overwrite one that exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


@contextmanager
def _operations():
    """Open a connection and speak the default language for the operations a command calls.

    Outside a request there is no browser to pick a language, and the app's locale selector
    reads the request's session: without a forced locale, the first message an operation
    translates would raise instead of saying what went wrong.
    """
    with database.connection_context(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            yield
        except BaseException:
            discard_after_commit()
            raise
        # Work committed outside write_transaction() still gets its callbacks.
        run_after_commit()


@click.command("init")
@with_appcontext
def init_command():
    """Create the instance folder, the secret key and the tables (upgrading an old schema)."""
    from coop import migrations
    from coop.instance import make_private_folder, tighten

    instance = make_private_folder(Path(current_app.config["INSTANCE_DIR"]))
    secret = instance / "secret_key"
    if not secret.exists() and not os.environ.get("COOP_SECRET_KEY"):
        _write_private(secret, secrets.token_urlsafe(48))
        click.echo(f"Wrote a new secret key to {secret} (mode 0600).")
    from coop.audit import keys

    done = keys.ensure_key(current_app)
    if done:
        click.echo(done)
    private = [secret, keys.key_file(current_app)]
    for path in tighten(instance, private, current_app.config["DATABASE_URL"]):
        click.echo(f"Made {path} readable by its owner only.")
    from coop.audit.ledger import publish_checkpoint

    with database.connection_context():
        applied = migrations.upgrade()
        # Readers only ever fetch a published checkpoint: start with one (size 0 when new).
        publish_checkpoint()
    click.echo(f"Database ready ({len(applied)} migration(s) applied).")


# The access log names the path without its query string (a reset link's token is there) and
# without the Referer (which may hold one too).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


def serve_plan(storage_uri: str, workers: int | None) -> int:
    """Return how many gunicorn processes may serve with this rate-limit storage.

    In-memory limits live in each process, so N processes would let N times the limit
    through: with memory:// the site runs in one process (with threads).

    :raises click.UsageError: several processes were asked for with in-memory limits.
    """
    shared = not storage_uri.startswith("memory://")
    if workers is None:
        return 2 if shared else 1
    if workers < 1:
        raise click.UsageError("--workers must be at least 1.")
    if workers > 1 and not shared:
        raise click.UsageError(
            f"--workers {workers} with in-memory rate limits would let {workers} times the "
            "sign-in limit through. Set COOP_RATELIMIT_STORAGE_URI=redis://HOST:6379 so the "
            "processes share their counts, or serve with one worker (more --threads)."
        )
    return workers


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="gunicorn processes [default: 1 with in-memory rate limits, 2 with Redis]; more than "
    "1 needs COOP_RATELIMIT_STORAGE_URI=redis://…",
)
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per process.")
@with_appcontext
def serve_command(host, port, workers, threads):
    """Serve the site with gunicorn; rate limits hold exactly however many processes run."""
    storage = current_app.config["RATELIMIT_STORAGE_URI"]
    workers = serve_plan(storage, workers)
    scheme = storage.split("://", 1)[0]  # never the URI: it may carry a password
    where = "in this one process" if scheme == "memory" else f"shared through {scheme}"
    click.echo(
        f"Serving on http://{host}:{port} with {workers} process(es) × {max(threads, 1)} "
        f"thread(s); rate limits are counted {where}."
    )
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    args += ["--threads", str(max(threads, 1)), "--bind", f"{host}:{port}"]
    if os.environ.get("COOP_LOG_FORMAT", "json") != "json":
        # Plain text: gunicorn's access log; in JSON the app writes its own request lines.
        args += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
    args += ["coop.wsgi:app"]
    sys.stdout.flush()
    os.execv(sys.executable, args)  # noqa: S606 - fixed argv, no shell


@click.command("tick")
@with_appcontext
def tick_command():
    """Return overdue tasks and expired leases, accept work left unreviewed, open and count
    the general assembly's votes, tidy the file store, publish a checkpoint (run from cron)."""
    from coop.files import format_size
    from coop.housekeeping import tick
    from coop.models import utcnow

    with _operations():
        report = tick(utcnow())
    returned, accepted, expired = report.returned, report.accepted, report.expired
    answers, swept = report.answers, report.swept
    click.echo(f"{returned} overdue task(s) returned to the board.")
    click.echo(f"{accepted} delivery(ies) left unreviewed past the window accepted.")
    click.echo(f"{expired} expired project lease(s) returned to their projects.")
    click.echo(f"{answers} project answer(s) left unreviewed past the window accepted.")
    click.echo(f"{report.votes_opened} vote(s) opened, members told.")
    click.echo(f"{report.votes_counted} closed vote(s) counted, results on the ledger.")
    click.echo(f"{swept.temporary_removed} temporary upload file(s) older than a day removed.")
    if swept.staged_published:
        click.echo(f"{swept.staged_published} committed upload(s) moved to their address.")
    click.echo(
        f"{swept.unreferenced} stored file(s) referenced by no task or delivery "
        f"({swept.unreferenced_bytes} bytes, {format_size(swept.unreferenced_bytes)}); "
        "kept, not deleted."
    )
    click.echo(f"Latest ledger checkpoint: size {report.checkpoint_size}.")
    for name, reason in sorted(report.unwitnessed.items()):
        click.echo(f"Witness {name} has not cosigned it: {reason}")
    for url, reason in sorted(report.unstamped.items()):
        click.echo(f"TSA {url} has not time-stamped it: {reason}")


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=int,
              help="Jobs run at once by this process.")
@with_appcontext
def worker_command(threads):
    """Run queued jobs (statement PDFs, …) and the periodic housekeeping until Ctrl-C.

    Jobs a dead worker left unfinished are queued again first; they resume where they stopped.
    """
    import logging

    from coop import jobs, logs

    if jobs.is_immediate():
        raise click.UsageError("COOP_QUEUE_URL=immediate:// runs each job in the process that "
                               "queues it: there is nothing for a worker to do.")
    if os.environ.get("COOP_LOG_FORMAT", "json") == "json":
        logs.configure()
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with _operations():
        requeued = jobs.requeue_abandoned()
    url = current_app.config["QUEUE_URL"]
    where = url.split("://", 1)[0] if url else "the instance's SQLite file"  # never a password
    click.echo(f"Worker {jobs.worker_name()} on {where}: {requeued} abandoned job(s) queued "
               f"again; housekeeping every {jobs.TICK_MINUTES} minutes.")
    sys.stdout.flush()
    jobs.queue().create_consumer(workers=max(threads, 1)).run()


@click.group("user")
def user_group():
    """Create, list, disable and change the role of accounts."""


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["client", "member", "board"]), required=True)
@click.password_option()
@with_appcontext
def user_create(email, name, role, password):
    """Create an account (members and board members are admitted at once)."""
    from coop.auth.operations import create_user
    from coop.errors import DomainError

    status = None if role == "client" else "active"
    with _operations():
        try:
            user = create_user(email, name, password, role, member_status=status)
        except DomainError as error:
            raise click.ClickException(error.message)
    click.echo(f"Created {user.email} ({user.role}).")


@user_group.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(["client", "member", "board"]))
@with_appcontext
def user_role(email, role):
    """Give an account another role."""
    from coop.auth.operations import set_role
    from coop.models import User

    with _operations():
        user = User.get_or_none(User.email == email.strip().lower())
        if user is None:
            raise click.ClickException(f"No account with email {email}.")
        set_role(user, role)
    click.echo(f"{user.email} is now {role}.")


@user_group.command("disable")
@click.argument("email")
@with_appcontext
def user_disable(email):
    """Disable an account: its sessions end at once, and it can no longer sign in or use the API."""
    from coop.auth.operations import disable_account
    from coop.errors import DomainError
    from coop.models import User

    with _operations():
        user = User.get_or_none(User.email == email.strip().lower())
        if user is None:
            raise click.ClickException(f"No account with email {email}.")
        try:
            disable_account(None, user)
        except DomainError as error:
            raise click.ClickException(error.message)
    click.echo(f"{user.email} is disabled; every session of it has ended.")


@user_group.command("enable")
@click.argument("email")
@with_appcontext
def user_enable(email):
    """Let a disabled account sign in again (its API tokens work again too)."""
    from coop.auth.operations import enable_account
    from coop.errors import DomainError
    from coop.models import User

    with _operations():
        user = User.get_or_none(User.email == email.strip().lower())
        if user is None:
            raise click.ClickException(f"No account with email {email}.")
        try:
            enable_account(user)
        except DomainError as error:
            raise click.ClickException(error.message)
    click.echo(f"{user.email} can sign in again.")


@user_group.command("list")
@with_appcontext
def user_list():
    """List every account: email, role, membership status."""
    from coop.models import User

    with database.connection_context():
        for user in User.select().order_by(User.id):
            disabled = "\tdisabled" if user.disabled_at else ""
            status = user.member_status or "-"
            click.echo(f"{user.email}\t{user.role}\t{status}\t{user.name}{disabled}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@with_appcontext
def demo_command(if_empty):
    """Load demo data through the same operations as the web, and print the logins."""
    from coop import demo
    from coop.errors import DomainError
    from coop.models import User

    with _operations():
        if if_empty and User.select().exists():
            click.echo("Demo data already loaded; logins are in the README.")
            return
        try:
            logins = demo.load()
        except DomainError as error:
            # Nothing was loaded: the demo runs in one transaction.
            raise click.ClickException(f"The demo data could not be loaded: {error.message}")
    click.echo(f"Demo logins (password for all: {demo.PASSWORD}):")
    for role, email in logins:
        click.echo(f"  {role:<10} {email}")


@click.group("ledger")
def ledger_group():
    """Export, verify and checkpoint the audit ledger."""


@ledger_group.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@with_appcontext
def ledger_export(folder):
    """Write the whole ledger and a fresh signed checkpoint to FOLDER (for verify-export)."""
    from coop.audit.ledger import (
        get_ledger,
        latest_checkpoint,
        origin,
        publish_outside,
        signer,
        verifier_key,
    )
    from coop.audit.timestamps import stamps_upto
    from coop.audit.witnesses import cosigned_note
    from ledger.verify import EXPORT_TIMESTAMPS

    with database.connection_context():
        size = get_ledger().export(folder, signer(), origin())
        checkpoint = latest_checkpoint()
        if checkpoint is not None and checkpoint.size == size:
            # Ask the witnesses now, so the export carries their cosignatures.
            publish_outside(checkpoint)
            path = Path(folder) / "checkpoint"
            path.write_text(cosigned_note(checkpoint), encoding="utf-8")
        stamps = stamps_upto(size)
        if stamps:
            # Every time-stamp up to the export's size: each bounds the entries around it.
            with open(Path(folder) / EXPORT_TIMESTAMPS, "w", encoding="utf-8") as f:
                json.dump(stamps, f, indent=1)
                f.write("\n")
    click.echo(f"Exported {size} entries to {folder}.")
    click.echo(f"Check it with: python -m ledger verify-export {folder} --key {verifier_key()}")


@ledger_group.command("verify")
@with_appcontext
def ledger_verify():
    """Recompute the live ledger's chain, hashes and checkpoints, and match the app's records."""
    from coop.audit.verify import verify_live
    from ledger.verify import LedgerTampered

    with database.connection_context():
        try:
            size = verify_live()
        except LedgerTampered as error:
            # Index -1: an app row that no entry records.
            where = f" at index {error.index}" if error.index >= 0 else ""
            raise click.ClickException(f"ledger tampered{where}: {error.reason}")
    click.echo(f"OK: {size} entries, chain, tree, checkpoints and records agree.")


@ledger_group.command("checkpoint")
@with_appcontext
def ledger_checkpoint():
    """Publish (if the ledger grew) and print a checkpoint covering every committed entry."""
    from coop.audit.ledger import publish_checkpoint

    with database.connection_context():
        click.echo(publish_checkpoint().note, nl=False)


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--without-files", is_flag=True,
              help="Index the stored files but do not copy them (backed up apart, e.g. S3).")
@with_appcontext
def backup_command(folder, without_files):
    """Write a consistent backup of the database, the ledger and the file store to FOLDER."""
    from coop.backup import BackupError, make_backup

    with database.connection_context():
        try:
            manifest = make_backup(folder, with_files=not without_files)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up the {manifest['database']} database with {manifest['ledger_size']} ledger "
        f"entries (root {manifest['ledger_root'][:16]}…) and {manifest['files_copied']} of "
        f"{manifest['files_indexed']} stored files to {folder}."
    )
    click.echo("The signing keys and the secret key are not in it: keep them apart.")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.File("r"),
              help="A checkpoint published earlier (a monitor's or a witness's copy); the "
              "restored ledger must contain it. May be repeated.")
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@with_appcontext
def restore_command(folder, checkpoints, force):
    """Restore a backup into this (empty) instance, verify its ledger and compare it with what
    was published. Exits with status 3 when the backup is older than what was published."""
    from coop.backup import BackupError, restore_backup
    from ledger.verify import LedgerTampered

    notes = [handle.read() for handle in checkpoints]
    try:
        report = restore_backup(folder, notes, force=force)  # opens and closes its connections
    except (BackupError, LedgerTampered) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {report.ledger_size} ledger entries (verified) and {report.files} "
               "stored files.")
    if report.warnings:
        for warning in report.warnings:
            click.secho(f"WARNING: {warning}", fg="red", bold=True, err=True)
        sys.exit(3)


@ledger_group.command("monitor")
@click.argument("url")
@click.option("--state", type=click.Path(dir_okay=False),
              help="File keeping what was seen last [default: <instance>/monitor/<host>.json].")
@click.option("--key", "keys", multiple=True,
              help="The log's verifier key (or a file of keys) to trust; repeatable.")
@click.option("--witness", "witnesses", multiple=True,
              help="A witness's cosignature key (or a file holding it); repeatable.")
@click.option("--quorum", type=int, help="How many of the witnesses must have cosigned.")
@with_appcontext
def ledger_monitor(url, state, keys, witnesses, quorum):
    """Check a log (this coop's or another's) over HTTP: signature, origin, cosignatures, and
    consistency with what the last run saw. Exits non-zero with the reason (run from cron)."""
    from urllib.parse import urlsplit

    from ledger.__main__ import main as ledger_main

    if state is None:
        host = urlsplit(url).netloc.replace(":", "_") or "log"
        state = str(Path(current_app.config["INSTANCE_DIR"]) / "monitor" / f"{host}.json")
    args = ["monitor", url, "--state", state]
    args += [f"--key={k}" for k in keys] + [f"--witness={w}" for w in witnesses]
    if quorum is not None:
        args.append(f"--quorum={quorum}")
    sys.stdout.flush()
    status = ledger_main(args)
    if status:
        sys.exit(status)


@ledger_group.command("rotate-key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def ledger_rotate_key(yes):
    """Sign checkpoints with a new key; the old key's checkpoints stay verifiable.

    The latest checkpoint gets the new key's signature beside the old one's (the handover),
    and the old verifier key stays listed at /ledger/keys.
    """
    from coop.audit import ledger as app_ledger

    if not yes:
        click.confirm("Replace the ledger signing key? Clients must learn the new one", abort=True)
    with database.connection_context():
        old = app_ledger.verifier_key()
        try:
            new = app_ledger.rotate_key()
        except RuntimeError as error:
            raise click.ClickException(str(error))
        handover = app_ledger.latest_checkpoint()
    click.echo(f"Old key (kept at /ledger/keys): {old}")
    click.echo(f"New key (now at /ledger/key):    {new.verifier}")
    click.echo(
        f"The checkpoint of size {handover.size} is signed by both: publish the new key where "
        "clients learn it (docs/deployment.md §6)."
    )


@click.group("token")
def token_group():
    """API bearer tokens."""


@token_group.command("create")
@click.option("--user", "email", required=True, help="The account the token acts for.")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@click.option(
    "--scope",
    type=click.Choice(["read", "write"]),
    default="read",
    show_default=True,
    help="read: GET only; write: the API's POSTs too.",
)
@with_appcontext
def token_create(email, name, scope):
    """Create an API token for any account (the board's included) and print it once."""
    from coop.auth.tokens import create_token
    from coop.models import TokenScope, User

    with database.connection_context():
        user = User.get_or_none(User.email == email.strip().lower())
        if user is None:
            raise click.ClickException(f"No account with email {email}.")
        _row, token = create_token(user, name, TokenScope(scope))
    click.echo(token)


@click.command("screenshots")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def screenshots_command(folder):
    """Write PNGs of each role's main page at 390 and 1280 px to FOLDER (as `make screenshots`).

    They are taken from a fresh demo instance in a temporary folder, never this one.
    """
    from coop.screenshots import ScreenshotError, take_screenshots

    try:
        written = take_screenshots(folder)
    except ScreenshotError as error:
        raise click.ClickException(str(error)) from None
    total = sum(path.stat().st_size for path in written)
    for path in written:
        click.echo(f"{path} ({path.stat().st_size // 1024} KiB)")
    click.echo(f"Wrote {len(written)} screenshot(s), {total / 1024 / 1024:.1f} MiB in all.")


COMMANDS = [
    init_command,
    serve_command,
    backup_command,
    restore_command,
    tick_command,
    worker_command,
    user_group,
    demo_command,
    ledger_group,
    token_group,
]


def init_app(app) -> None:
    from coop.projects.cli import project_group
    from coop.statements.cli import statements_group

    for command in COMMANDS + [statements_group, project_group]:
        app.cli.add_command(command)


def _create_app():
    from coop import create_app

    return create_app()


main = FlaskGroup(
    name="coop",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="Coop: a task marketplace owned by its workers.",
)
# On the group itself, not app.cli: the command would otherwise build this instance's app first,
# which creates its database file, and the screenshots must leave this instance untouched.
main.add_command(screenshots_command)
