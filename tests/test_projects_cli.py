"""`coop project create|import|publish|status|export`: each has --help; a project is created,
its items imported with a progress bar (bad rows listed by line, nothing imported), published,
followed and exported, all through the operations."""

import csv
import io
import json

import pytest
from projects_support import keep

from coop.projects import operations as ops
from coop.projects.models import Item, Project

COMMANDS = ["create", "import", "publish", "status", "export"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner, command):
    result = runner.invoke(args=["project", command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_create_import_publish_status_export(app, runner, make_client_user, make_member,
                                             tmp_path):
    client = make_client_user()
    template = json.dumps({"kind": "classify", "text_field": "comment",
                           "labels": ["keep", "remove"]})
    args = ["project", "create", "--client", client.email, "--title", "Moderate",
            "--instructions", "Remove insults.", "--template", template, "--price", "20",
            "--seconds", "30", "--deadline", "2999-01-01", "--budget", "20000"]
    cheap = runner.invoke(args=args[:-7] + ["10"] + args[-6:])
    assert cheap.exit_code != 0 and "at least €0.11" in cheap.output
    created = runner.invoke(args=args)
    assert created.exit_code == 0, created.output
    project = Project.get()

    bad = tmp_path / "bad.csv"
    bad.write_text("external_id,comment\nc1,Hello\nc1,Again\n")
    refused = runner.invoke(args=["project", "import", str(project.id), str(bad)])
    assert refused.exit_code != 0 and "line 3: duplicate id c1" in refused.output
    good = tmp_path / "items.csv"
    good.write_text("external_id,comment\n" + "".join(f"c{i},Comment {i}\n" for i in range(700)))
    imported = runner.invoke(args=["project", "import", str(project.id), str(good)])
    assert imported.exit_code == 0, imported.output
    assert "700 item(s) imported" in imported.output and Item.select().count() == 700

    assert runner.invoke(args=["project", "publish", str(project.id)]).exit_code == 0
    member = make_member()
    with app.test_request_context():
        project = Project.get_by_id(project.id)
        ops.submit_answer(member, ops.next_assignment(member, project), keep())
    status = runner.invoke(args=["project", "status", str(project.id)])
    assert "published" in status.output and "answered 1" in status.output

    exported = runner.invoke(args=["project", "export", str(project.id)])
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert rows[0][0] == "external_id" and rows[1][:3] == ["c0", '{"label":"keep"}',
                                                           member.pseudonym]
    jsonl = runner.invoke(args=["project", "export", str(project.id), "--format", "jsonl"])
    assert json.loads(jsonl.output.splitlines()[0])["answer"] == {"label": "keep"}
