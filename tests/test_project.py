"""Every render's own commands pass: `make lint`, `make test`, `make pipeline`, `make report`.

They run through the project's Makefile in the shared environment (one per Python version);
test_demo.py covers the full fresh setup a user does.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from test_render import RENDERS

from support import git_init, make, project_command_env, render

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_project_lints_tests_and_reproduces(name: str, tmp_path: Path, shared_env) -> None:
    answers = RENDERS[name]
    project = render(tmp_path, **answers)
    git_init(project)
    env = project_command_env(shared_env(answers.get("python_version", "3.11")))
    make(project, "lint", env=env)
    make(project, "test", env=env)
    make(project, "pipeline", "report", env=env)
    metrics = json.loads((project / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.95
    assert (project / "dvc.lock").is_file()
    report = (project / "reports/report.md").read_text()
    assert "![ROC curve](plots/roc_curve.png)" in report
    # A second run has nothing to do, and DVC agrees stage by stage.
    again = make(project, "pipeline", env=env)
    assert "pipeline: up to date, nothing to run" in again.stdout
    assert "Running stage" not in again.stdout
    repro = subprocess.run(["uv", "run", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
    assert repro.returncode == 0 and "Running stage" not in repro.stdout, repro.stdout


def test_bad_data_stops_the_pipeline_and_registers_nothing(tmp_path: Path, shared_env) -> None:
    project = render(tmp_path)
    git_init(project)
    raw = project / "data/raw/breast_cancer.csv"
    lines = raw.read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[0], "not-a-number", 1)
    raw.write_text("\n".join(lines) + "\n")
    done = make(project, "pipeline", env=project_command_env(shared_env()), check=False)
    assert done.returncode != 0
    assert "validate: data failed validation (1 problems)" in done.stderr
    assert "column 'mean_radius': 1 non-numeric values (first: 'not-a-number' in row 5)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "models/model.joblib").exists()
    with (
        sqlite3.connect(project / "mlflow.db")
        if (project / "mlflow.db").exists()
        else sqlite3.connect(":memory:") as db
    ):
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
        versions = db.execute("select count(*) from model_versions").fetchone()[0] if "model_versions" in tables else 0
    assert versions == 0
