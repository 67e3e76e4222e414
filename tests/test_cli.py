"""The `coop` command: every command has --help; init writes a private secret key and is
idempotent; user create/role/list manage accounts; tick returns overdue tasks to the board and
accepts deliveries left unreviewed; demo loads tasks in every state through the operations."""

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from coop import create_app
from coop.models import (
    Delivery,
    DeliveryState,
    Dispute,
    DisputeState,
    Earning,
    Event,
    MemberStatus,
    Role,
    Task,
    TaskState,
    User,
    utcnow,
)

COMMANDS = [
    ["init"],
    ["serve"],
    ["tick"],
    ["user"],
    ["user", "create"],
    ["user", "role"],
    ["user", "list"],
    ["user", "disable"],
    ["user", "enable"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(runner, command):
    result = runner.invoke(args=[*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_init_writes_a_private_secret_key_and_is_idempotent(app, runner, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    secret = Path(app.config["INSTANCE_DIR"]) / "secret_key"
    secret.unlink(missing_ok=True)  # the app fixture ran init already
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    key = secret.read_text()
    assert len(key) >= 40
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "(0 migration(s) applied)" in second.output
    assert "secret key" not in second.output
    assert secret.read_text() == key


def test_the_app_uses_the_key_init_wrote(app, runner, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    secret = Path(app.config["INSTANCE_DIR"]) / "secret_key"
    secret.unlink(missing_ok=True)
    assert runner.invoke(args=["init"]).exit_code == 0
    config = {k: app.config[k] for k in ("DATABASE_URL", "INSTANCE_DIR", "UPLOAD_DIR")}
    assert create_app(config).config["SECRET_KEY"] == secret.read_text()


def test_user_create_role_and_list(runner):
    created = runner.invoke(
        args=["user", "create", "--email", "Zoe@Coop.Example", "--name", "Zoé", "--role", "member"],
        input="a long password\na long password\n",
    )
    assert created.exit_code == 0, created.output
    zoe = User.get(User.email == "zoe@coop.example")
    assert (zoe.role, zoe.member_status) == (Role.MEMBER, MemberStatus.ACTIVE)

    promoted = runner.invoke(args=["user", "role", "zoe@coop.example", "board"])
    assert promoted.exit_code == 0, promoted.output
    assert User.get_by_id(zoe.id).is_board

    missing = runner.invoke(args=["user", "role", "nobody@coop.example", "board"])
    assert missing.exit_code != 0
    assert "No account with email nobody@coop.example" in missing.output

    listed = runner.invoke(args=["user", "list"])
    assert listed.exit_code == 0
    assert "zoe@coop.example\tboard\tactive\tZoé" in listed.output


def test_user_create_refuses_mismatched_passwords(runner):
    result = runner.invoke(
        args=["user", "create", "--email", "x@coop.example", "--name", "X", "--role", "client"],
        input="one password\nanother one\none password\none password\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert User.select().where(User.email == "x@coop.example").count() == 1


def test_user_create_says_why_it_refuses(runner, make_client_user):
    taken = make_client_user()
    result = runner.invoke(
        args=["user", "create", "--email", taken.email, "--name", "Y", "--role", "client"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 1
    assert "An account with this email already exists." in result.output
    assert User.select().count() == 1


def test_tick_returns_overdue_tasks_and_accepts_unreviewed_deliveries(
    runner, make_task, make_member
):
    now = utcnow()
    worker = make_member()
    overdue = make_task(
        state=TaskState.ASSIGNED,
        member=worker,
        assigned_at=now - timedelta(days=3),
        deadline=now - timedelta(hours=1),
    )
    on_time = make_task(state=TaskState.ASSIGNED, member=worker, assigned_at=now)
    waiting = make_task(state=TaskState.DELIVERED, member=worker, attempts=1, price_cents=2000)
    stale = Delivery.create(
        task=waiting, member=worker, attempt=1, submitted_at=now - timedelta(hours=73)
    )
    fresh_task = make_task(state=TaskState.DELIVERED, member=worker, attempts=1)
    fresh = Delivery.create(
        task=fresh_task, member=worker, attempt=1, submitted_at=now - timedelta(hours=71)
    )

    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 overdue task(s) returned" in result.output
    assert "1 delivery(ies) left unreviewed past the window accepted" in result.output

    back = Task.get_by_id(overdue.id)
    assert (back.state, back.member_id) == (TaskState.OPEN, None)
    assert Task.get_by_id(on_time.id).state == TaskState.ASSIGNED
    accepted = Delivery.get_by_id(stale.id)
    assert (accepted.state, accepted.auto_accepted) == (DeliveryState.ACCEPTED, True)
    assert Task.get_by_id(waiting.id).state == TaskState.COMPLETED
    assert Earning.get(Earning.task == waiting.id).price_cents == 2000
    assert Event.select().where(Event.kind == "task.completed").count() == 1
    assert Delivery.get_by_id(fresh.id).state == DeliveryState.PENDING

    again = runner.invoke(args=["tick"])
    assert "0 overdue task(s) returned" in again.output
    assert "0 delivery(ies) left unreviewed" in again.output


def test_demo_loads_every_state_through_the_operations(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "demo-password-2026" in result.output
    for email in ["board@coop.example", "alice@coop.example", "shop@coop.example"]:
        assert email in result.output
    states = {t.state for t in Task.select(Task.state).distinct()}
    assert states == set(TaskState)
    disputes = {d.state for d in Dispute.select()}
    assert disputes == {DisputeState.OPEN, DisputeState.UPHELD}
    kinds = {e.kind for e in Event.select(Event.kind).distinct()}
    expected = {
        "member.admitted",
        "parameters.changed",
        "task.awarded",
        "delivery.submitted",
        "delivery.reviewed",
        "task.completed",
        "dispute.resolved",
    }
    assert expected <= kinds
    assert User.get(User.email == "gina@coop.example").member_status == MemberStatus.APPLICANT
    assert User.get(User.email == "hugo@coop.example").member_status == MemberStatus.DECLINED


def test_demo_over_existing_data_changes_nothing(runner, make_client_user):
    make_client_user(email="shop@coop.example")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert (User.select().count(), Task.select().count(), Event.select().count()) == (1, 0, 0)


def test_demo_if_empty_loads_once(runner):
    first = runner.invoke(args=["demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    users, tasks = User.select().count(), Task.select().count()
    second = runner.invoke(args=["demo", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert (User.select().count(), Task.select().count()) == (users, tasks)
