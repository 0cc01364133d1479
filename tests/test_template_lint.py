"""The template's own Python (hooks, tests, scripts) passes ruff, as the generated code does."""

import subprocess
import sys

from helpers.project import TEMPLATE

PATHS = ["hooks", "tests", "scripts"]


def test_ruff_check() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", *PATHS], cwd=TEMPLATE, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_ruff_format() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *PATHS], cwd=TEMPLATE, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]
