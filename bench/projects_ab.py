"""Compare two versions of the code on one projects database, by CPU time (load-proof).

    .venv/bin/python bench/projects_ab.py build DIR [--items 100000]
    .venv/bin/python bench/projects_ab.py measure DIR CODE_ROOT [--runs 300]

`build` makes a kept SQLite database with bench/projects.py's own steps (setup, import,
publish, fill all but 6,000 items). `measure` copies it, then with the code under CODE_ROOT
(this checkout, or an old commit unpacked with `git archive <commit> | tar -x -C DIR2` and its
.mo files copied) prints one JSON line: CPU per next item + answer (`answer_ops`), CPU per
answer POST and per static file through the Flask test client (CSRF on), and CPU per results
CSV, JSON Lines and proof file. On a shared machine, run both versions back to back: CPU time
is what the load changes least. Not run by `make test`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(folder: Path, items: int) -> None:
    sys.path.insert(0, str(HERE))
    import projects as b

    folder.mkdir(parents=True, exist_ok=True)
    run = b.Run(f"sqlite:///{folder}/coop.db", folder)
    ids = run("setup", items, 2000)
    b.write_csv(folder / "all.csv", items, "a")
    run("upload", ids["project"], str(folder / "all.csv"))
    run("publish", ids["project"])
    run("fill", ids["project"], 0, items - 6000, b.OPS_MEMBERS + b.HTTP_MEMBERS)
    (folder / "ids.json").write_text(json.dumps(ids))


def measure(folder: Path, root: Path, runs: int) -> dict:
    sys.path[:0] = [str(root), str(root / "bench")]
    import projects as b

    from coop.db import database

    work = Path(f"{folder}-copy")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(folder, work)
    # The ledger's signing key lies beside the folder (bench/projects.py's layout).
    shutil.copy(f"{folder}-ledger_key", f"{work}-ledger_key")
    project_id = json.loads((work / "ids.json").read_text())["project"]
    app = b.app_for(f"sqlite:///{work}/coop.db", str(work))
    out: dict = {"code": str(root)}
    with app.app_context(), database.connection_context():
        start = time.process_time()
        out["ops"] = b.answer_ops(project_id, runs)
        out["ops_cpu_ms"] = round((time.process_time() - start) * 1000 / runs, 2)
        out.update(_exports(project_id, work))
    out.update(_http(app, project_id, runs))
    return out


def _exports(project_id: int, work: Path) -> dict:
    from coop.projects import results
    from coop.projects.models import Project
    from ledger.results import ResultsFormat

    project, cut, out = Project.get_by_id(project_id), results.cut_at(None), {}
    for name, chunks in (
        ("csv", lambda: results.results_file(project, ResultsFormat.CSV, cut)),
        ("jsonl", lambda: results.results_file(project, ResultsFormat.JSONL, cut)),
        ("proof", lambda: results.proof_file(project, cut)),
    ):
        start = time.process_time()
        with open(work / f"out.{name}", "wb") as f:
            for block in chunks():
                f.write(block)
        out[f"{name}_cpu_s"] = round(time.process_time() - start, 2)
    return out


def _http(app, project_id: int, runs: int) -> dict:
    import projects as b

    app.config["WTF_CSRF_ENABLED"] = True
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    web.post("/login", data={"csrf_token": b.TOKEN.search(page).group(1),
                             "email": "member600@bench.test", "password": b.PASSWORD})  # fmt: skip
    page = web.get(f"/projects/{project_id}").get_data(as_text=True)
    token = b.TOKEN.search(page).group(1)
    page = web.post(f"/projects/{project_id}/start", data={"csrf_token": token})
    page = page.get_data(as_text=True)

    def answer(page: str) -> str:
        form = {"csrf_token": b.TOKEN.search(page).group(1), "label": "keep"}
        response = web.post(b.ANSWER.search(page).group(1), data=form)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    for _ in range(20):  # warm-up
        page = answer(page)
    start = time.process_time()
    for _ in range(runs):
        page = answer(page)
    per_answer = (time.process_time() - start) * 1000 / runs
    start = time.process_time()
    for _ in range(runs):
        web.get("/static/coop.css")
    per_static = (time.process_time() - start) * 1000 / runs
    return {"answer_post_cpu_ms": round(per_answer, 2), "static_cpu_ms": round(per_static, 2),
            "answer_vs_static_cpu": round(per_static / per_answer, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("build", "measure"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("root", type=Path, nargs="?", default=HERE.parent)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder, root = args.folder.resolve(), args.root.resolve()
    if args.action == "build":
        build(folder, args.items)
    elif args.inner:
        print(json.dumps(measure(folder, root, args.runs)))
    else:
        # A fresh interpreter with the measured code first on the path, nothing else of ours.
        command = [sys.executable, __file__, "measure", str(folder), str(root),
                   "--runs", str(args.runs), "--inner"]  # fmt: skip
        subprocess.run(command, check=True, env=dict(os.environ, PYTHONPATH=str(root)))


if __name__ == "__main__":
    main()
