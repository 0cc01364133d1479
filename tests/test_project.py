"""Every render's own commands pass: `make lint`, `make test`, `make pipeline`, `make report`.

They run through the project's Makefile in the shared environment (one per Python version);
test_demo.py covers the full fresh setup a user does. Renders whose answers change only a few
files (license, a higher-is-better metric) are proven equal to the default render apart from
those files, and those files go through the project's own hooks: running every command again
on an otherwise identical tree would prove nothing new and cost two minutes a render.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_render import RENDERS

from helpers.project import git_init, make, project_command_env, render

pytestmark = pytest.mark.slow


def check_render(project: Path, venv: Path, worker: int) -> dict:
    """Lint, test, reproduce and report exactly as a user would; returns what to assert."""
    env = project_command_env(venv)
    # Two renders run at once: each worker keeps its own mypy cache.
    env["MYPY_CACHE_DIR"] = f"{env['MYPY_CACHE_DIR']}-{worker}"
    steps = {}
    for targets in (("lint",), ("test",), ("pipeline", "report"), ("pipeline",)):
        done = make(project, *targets, env=env, check=False)
        steps[" ".join(targets)] = done
        if done.returncode != 0:
            break
    repro = subprocess.run(["uv", "run", "dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
    return {"project": project, "steps": steps, "repro": repro}


# Renders that differ from the default only in these files (everything else is byte-identical).
FEW_FILES = {
    "apache": {"LICENSE"},
    "bsd": {"LICENSE"},
    "proprietary": {"LICENSE"},
    "f1": {"params.yaml", "tests/test_settings.py"},
    "accuracy": {"params.yaml", "tests/test_settings.py"},
}
FULL = sorted(set(RENDERS) - set(FEW_FILES))


@pytest.fixture(scope="module")
def checked(request: pytest.FixtureRequest, shared_env, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The selected renders that need every command, two at a time (single-threaded work; 2 cores)."""
    selected = {item.nodeid for item in request.session.items}
    names = [n for n in FULL if any(i.endswith(f"test_project_lints_tests_and_reproduces[{n}]") for i in selected)]
    venvs = {name: shared_env(RENDERS[name].get("python_version", "3.11")) for name in names}
    root = tmp_path_factory.mktemp("projects")
    projects = {}
    for name in names:  # cookiecutter changes the working directory: render one at a time
        projects[name] = render(root / name, **RENDERS[name])
        git_init(projects[name])
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(check_render, projects[name], venvs[name], i % 2) for i, name in enumerate(names)}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", sorted(FEW_FILES))
def test_render_differs_from_default_only_in_its_files_which_pass_the_hooks(
    name: str, tmp_path: Path, shared_env
) -> None:
    default, other = render(tmp_path / "default"), render(tmp_path / name, **RENDERS[name])
    files = {str(p.relative_to(other)) for p in other.rglob("*") if p.is_file()}
    assert files == {str(p.relative_to(default)) for p in default.rglob("*") if p.is_file()}
    differing = {f for f in files if (other / f).read_bytes() != (default / f).read_bytes()}
    assert differing == FEW_FILES[name]
    git_init(other)
    env = project_command_env(shared_env())
    done = subprocess.run(
        ["uv", "run", "pre-commit", "run", "--files", *sorted(differing)],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    if "params.yaml" in differing:
        tests = subprocess.run(
            ["uv", "run", "pytest", "-q", "tests/test_settings.py"],
            cwd=other, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert tests.returncode == 0, tests.stdout[-3000:]


@pytest.mark.parametrize("name", FULL)
def test_project_lints_tests_and_reproduces(name: str, checked: dict[str, dict]) -> None:
    result = checked[name]
    for targets, done in result["steps"].items():
        assert done.returncode == 0, f"make {targets} failed in {name}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert len(result["steps"]) == 4
    project = result["project"]
    metrics = json.loads((project / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.95
    assert (project / "dvc.lock").is_file()
    report = (project / "reports/report.md").read_text()
    assert "![ROC curve](plots/roc_curve.png)" in report
    # A second run has nothing to do, and DVC agrees stage by stage.
    again = result["steps"]["pipeline"]
    assert "pipeline: up to date, nothing to run" in again.stdout
    assert "Running stage" not in again.stdout
    repro = result["repro"]
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
    assert (
        "validate: data failed validation: column 'mean_radius': 1 non-numeric values (first: 'not-a-number' in row 5)"
        in done.stderr
    )
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
