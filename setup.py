"""Build steps that pyproject.toml cannot declare: compiled catalogues and the page templates.

The message catalogues are kept as .po sources in git; the wheel must carry the compiled .mo
files or every installed copy would speak English only. The templates live at the top of the
repository (one folder per blueprint) and are copied into the package so an installed app finds
them next to its code.
"""

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogues(build_py):
    def run(self):
        super().run()
        package = Path(self.build_lib) / "coop"
        for po_path in (HERE / "coop" / "translations").glob("*/LC_MESSAGES/messages.po"):
            target = package / po_path.relative_to(HERE / "coop").with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po, target.open("wb") as mo:
                write_mo(mo, read_po(po))
        shutil.copytree(HERE / "templates", package / "templates", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithCatalogues})
