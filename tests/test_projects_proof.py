"""A client downloads a project's results and their proof, both cut at one published
checkpoint, and `python -m ledger verify-results` checks every row offline: it passes on the
download and names the row when an answer is changed or a row dropped. Answers given after
the checkpoint are left for the next one; the CLI writes the same pair. Every row carries its
item's gold flag and aggregated answer by the method the client chose (outside the proof, and
recomputable from the file's own rows)."""

import csv
import io
import json
import subprocess
import sys

import pytest
from projects_support import make_project

from coop.audit import ledger as app_ledger
from coop.projects import operations as ops


@pytest.fixture
def answered(app, make_client_user, make_member):
    owner = make_client_user()
    with app.test_request_context():
        project = make_project(owner, items=4, overlap=2)
        for _ in range(3):
            member = make_member()
            for _item in range(2):
                lease = ops.next_assignment(member, project)
                ops.submit_answer(member, lease, {"label": "remove", "reason": "Spam link."}
                                  if _item else {"label": "keep"})
    return owner, project


def _verify(tmp_path, results: bytes, proof: bytes, name="results.csv"):
    (tmp_path / name).write_bytes(results)
    (tmp_path / "proof.jsonl").write_bytes(proof)
    return subprocess.run(
        [sys.executable, "-m", "ledger", "verify-results", str(tmp_path / name),
         str(tmp_path / "proof.jsonl"), "--key", app_ledger.verifier_key()],
        capture_output=True, text=True, timeout=60,
    )


def test_downloaded_results_verify_offline_and_tampering_is_named(app, answered, tmp_path):
    owner, project = answered
    web = app.test_client(user=owner)
    page = web.get(f"/projects/{project.id}").get_data(as_text=True)
    size = app_ledger.latest_checkpoint().size
    assert f"results.proof.jsonl?size={size}" in page and "verify-results" in page
    results = web.get(f"/projects/{project.id}/results.csv?size={size}").data
    proof = web.get(f"/projects/{project.id}/results.proof.jsonl?size={size}").data
    assert results.count(b"\n") == 1 + 6

    checked = _verify(tmp_path, results, proof)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "6 rows verified" in checked.stdout

    changed = results.replace(b'{""label"":""keep""}', b'{""label"":""remove""}', 1)
    assert changed != results
    refused = _verify(tmp_path, changed, proof)
    assert refused.returncode == 1 and "row 1" in refused.stdout + refused.stderr

    lines = results.split(b"\n")
    dropped = b"\n".join(lines[:2] + lines[3:])
    assert _verify(tmp_path, dropped, proof).returncode == 1

    jsonl = web.get(f"/projects/{project.id}/results.jsonl?size={size}").data
    assert _verify(tmp_path, jsonl, proof, "results.jsonl").returncode == 0


def test_a_download_is_cut_at_its_checkpoint(app, answered, make_member):
    owner, project = answered
    web = app.test_client(user=owner)
    before = app_ledger.latest_checkpoint().size
    with app.test_request_context():
        member = make_member()
        ops.submit_answer(member, ops.next_assignment(member, project), {"label": "keep"})
    assert app_ledger.latest_checkpoint().size > before
    old = web.get(f"/projects/{project.id}/results.jsonl?size={before}").data
    new = web.get(f"/projects/{project.id}/results.jsonl").data
    assert old.count(b"\n") == 6 and new.count(b"\n") == 7
    assert web.get(f"/projects/{project.id}/results.csv?size=99999").status_code == 404
    assert web.get(f"/projects/{project.id}/results.csv?size=x").status_code == 400


def test_the_cli_writes_results_and_proof(app, runner, answered, tmp_path):
    _owner, project = answered
    results, proof = tmp_path / "r.csv", tmp_path / "p.jsonl"
    out = runner.invoke(args=["project", "export", str(project.id), "--output", str(results),
                              "--proof", str(proof)])
    assert out.exit_code == 0, out.output
    checked = _verify(tmp_path, results.read_bytes(), proof.read_bytes())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    out = runner.invoke(args=["project", "export", str(project.id), "--format", "jsonl",
                              "--method", "dawid_skene"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 6 and {r["method"] for r in rows} == {"dawid_skene"}
    out = runner.invoke(args=["project", "export", str(project.id), "--method", "most_similar"])
    assert out.exit_code == 1 and "method must be one of majority, dawid_skene" in out.output


def test_rows_carry_their_items_aggregate_by_the_chosen_method(app, answered, tmp_path):
    owner, project = answered
    web = app.test_client(user=owner)
    size = app_ledger.latest_checkpoint().size
    base = f"/projects/{project.id}/results"
    rows = [json.loads(line) for line in web.get(f"{base}.jsonl?size={size}").data.splitlines()]
    assert {r["method"] for r in rows} == {"majority"}  # the default for labels
    by_item = {}
    for row in rows:
        by_item.setdefault(row["external_id"], []).append(row)
    for item_rows in by_item.values():
        # Each row of an item repeats the item's aggregate, recomputable from these rows.
        answers = [r["answer"] for r in item_rows if r["status"] != "rejected"]
        firsts = {json.dumps({k: v for k, v in a.items() if k != "reason"}) for a in answers}
        assert len({json.dumps(r["aggregate"]) for r in item_rows}) == 1
        agg = item_rows[0]["aggregate"]
        assert json.dumps(agg) in firsts and item_rows[0]["gold"] is False
        share = sum(json.dumps({k: v for k, v in a.items() if k != "reason"}) == json.dumps(agg)
                    for a in answers) / len(answers)
        assert item_rows[0]["confidence"] == round(share, 4)

    csv_ds = web.get(f"{base}.csv?size={size}&method=dawid_skene").data
    table = list(csv.DictReader(io.StringIO(csv_ds.decode())))
    assert {r["method"] for r in table} == {"dawid_skene"}
    assert all(r["gold"] == "false" and json.loads(r["aggregate"]) for r in table)
    proof = web.get(f"{base}.proof.jsonl?size={size}").data
    checked = _verify(tmp_path, csv_ds, proof)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Not covered by the proof: status, gold, aggregate" in checked.stdout

    for bad in ("most_similar", "nonsense", "x" * 5000):
        refused = web.get(f"{base}.csv?size={size}&method={bad}")
        assert refused.status_code == 400
        assert "method must be one of majority, dawid_skene" in refused.get_data(as_text=True)
