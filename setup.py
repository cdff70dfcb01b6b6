"""Build step: ship the repository's data/ inside the package as chatbot/default_data/.

Everything else is declared in pyproject.toml. data/ stays where the docs, the contract and the
analysts name it; a built package (wheel, non-editable install) carries a copy, which
chatbot/paths.py reads when no source checkout is around. An editable install reads data/.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_SOURCE = Path("data")
DATA_TARGET = Path("chatbot", "default_data")


class BuildPyWithData(build_py):
    """build_py, then the data files (not hidden ones: lock and counter files of FAQ edits)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source in sorted(DATA_SOURCE.rglob("*")):
            relative = source.relative_to(DATA_SOURCE)
            if source.is_file() and not any(part.startswith(".") for part in relative.parts):
                target = Path(self.build_lib, DATA_TARGET, relative)
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithData})
