"""The contract: how the package finds a project and reads its settings and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gitops import facts
from mlops_gitops.project import ConfigError, Project, find_root, load


def test_tracking_defaults_to_sqlite_in_the_project_and_env_overrides(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert project.tracking_uri == f"sqlite:///{project.root / 'mlflow.db'}"
    assert project.artifact_location == (project.root / "mlartifacts").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert project.tracking_uri == "http://127.0.0.1:5000"
    assert project.artifact_location is None
    monkeypatch.setenv("MLFLOW_ARTIFACT_LOCATION", "s3://bucket/mlflow")
    assert project.artifact_location == "s3://bucket/mlflow"


def test_root_is_found_from_a_subfolder_or_the_environment(
    project: Project, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_root(project.root / "data" / "raw") == project.root
    with pytest.raises(ConfigError, match=r"no params\.yaml"):
        find_root(tmp_path_factory.mktemp("elsewhere"))
    monkeypatch.setenv("PROJECT_ROOT", str(project.root))
    assert find_root(Path("/")) == project.root


def test_malformed_params_give_a_config_error(project: Project) -> None:
    (project.root / "params.yaml").write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(project.root)
    (project.root / "params.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load(project.root)


def test_missing_section_names_the_section(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("model: {name: m, experiment: e}\n")
    with pytest.raises(ConfigError, match="'gate'"):
        load(tmp_path).section("gate")


def test_ci_context_builds_the_run_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PR_NUMBER", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    assert facts.ci_context() == {}
    monkeypatch.setenv("PR_NUMBER", "42")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "7")
    assert facts.ci_context() == {
        "ci.pr_number": "42",
        "ci.repository": "org/repo",
        "ci.workflow_run_url": "https://github.com/org/repo/actions/runs/7",
    }
