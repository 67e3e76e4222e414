"""An installed wheel is a whole app: it carries its templates, static files and the compiled
French catalogue (which git does not hold), so a copy installed with pip serves French."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter that imports coop from the unpacked wheel, not from this checkout.
PROBE = """
import sys, tempfile
import coop
assert coop.__file__.startswith(sys.argv[1]), coop.__file__
from coop import create_app
instance = tempfile.mkdtemp()
app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_DIR": instance,
                  "DATABASE_URL": "sqlite:///" + instance + "/coop.db", "NTP_SERVERS": ""})
assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
page = app.test_client().get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
print(page)
"""


def test_installed_wheel_serves_french(tmp_path):
    # Build from a copy without compiled catalogues or an old build/ folder, as a clone has.
    source = tmp_path / "source"
    leftovers = shutil.ignore_patterns(".git", ".venv", "build", "instance", "*.mo", "*.egg-info")
    shutil.copytree(ROOT, source, ignore=leftovers)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    assert "deprecat" not in built.stderr.lower(), built.stderr
    (wheel,) = tmp_path.glob("coop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "coop/translations/fr/LC_MESSAGES/messages.mo" in names
    assert "coop/templates/base.html" in names
    assert "coop/static/coop.css" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    served = subprocess.run(
        [sys.executable, "-c", PROBE, str(site)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert served.returncode == 0, served.stderr
    assert "Se connecter" in served.stdout
    assert "Sign in" not in served.stdout
