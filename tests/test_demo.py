"""README command 1, as a user runs it: a fresh project, a real `make setup`, the whole loop.

This is the render that installs its own environment from scratch (uv sync into the project's
.venv); the render matrix shares one environment to stay fast.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from helpers.project import QUIET_ENV, TEMPLATE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("demo") / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_PROJECT_ENVIRONMENT", "UV_NO_SYNC"))}
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(TEMPLATE), "demo", f"DEMO_DIR={dest}"],
        capture_output=True,
        text=True,
        env={**env, **QUIET_ENV},
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return dest / "diagnosis-classifier", done.stdout


def test_demo_prints_where_everything_is(demo: tuple[Path, str]) -> None:
    project, output = demo
    for label, relative in (("report", "reports/report.md"), ("metrics", "metrics.json"), ("registry", "mlflow.db")):
        lines = [line.split() for line in output.splitlines()]
        assert [label, str(project / relative)] in [words[:2] for words in lines], label
        assert (project / relative).is_file()
    assert "make ui" in output


def test_demo_installed_its_own_environment_and_registered_a_promotable_candidate(demo: tuple[Path, str]) -> None:
    project, _ = demo
    assert (project / ".venv/bin/dvc").is_file()
    assert (project / "uv.lock").is_file()
    tracked = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert "uv.lock" in tracked.split()
    with sqlite3.connect(project / "mlflow.db") as db:
        versions = db.execute("select count(*) from model_versions").fetchone()[0]
        tagged = db.execute("select count(*) from model_version_tags where key = 'lineage.fingerprint'").fetchone()[0]
    assert versions >= 1 and tagged == versions


def test_demo_change_shows_a_delta_against_mains_model(demo: tuple[Path, str]) -> None:
    """docs/quickstart.md "Change something": a parameter changed on a branch, `make pipeline`,
    `make report`: the report finds main's model by lineage and shows numeric deltas."""
    project, output = demo
    text = (project / "reports/report.md").read_text()
    assert re.search(r"`main`'s model is version \d+, the newest trained from the model inputs", text), text
    row = re.search(r"^\| roc_auc \| (\d\.\d{4}) \| (\d\.\d{4}) \| ([+-]\d\.\d{4}) \|", text, re.MULTILINE)
    assert row, text
    assert float(row[3]) == pytest.approx(float(row[1]) - float(row[2]), abs=2e-4)
    assert "train.random_forest.max_depth | 6 | 3" in text
    assert "](plots/comparison.png)" in text and (project / "reports/plots/comparison.png").stat().st_size > 1000
    assert "| roc_auc |" in output  # the demo printed the table


def test_demo_ran_the_promotion_flow(demo: tuple[Path, str]) -> None:
    project, output = demo
    assert "promotion end-to-end: passed" in output
    with sqlite3.connect(project / "mlflow.db") as db:
        aliases = dict(db.execute("select alias, version from registered_model_aliases").fetchall())
    assert {"champion", "staging"} <= set(aliases)
    log = subprocess.run(
        ["git", "log", "--oneline", "--", "deploy/models.yaml"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert "Revert" in log


def test_demo_project_passes_its_own_tests_in_its_own_environment(demo: tuple[Path, str]) -> None:
    project, _ = demo
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_NO_SYNC")}
    done = subprocess.run(["make", "test"], cwd=project, capture_output=True, text=True, env={**env, **QUIET_ENV})
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout
