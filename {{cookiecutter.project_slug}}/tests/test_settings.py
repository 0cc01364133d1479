from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import settings


def test_params_are_read_from_the_project(project: settings.Settings) -> None:
    assert project.model_name == "{{ cookiecutter.model_name }}"
    assert project.section("gate")["primary_metric"] == "{{ cookiecutter.primary_metric }}"


def test_tracking_defaults_to_sqlite_in_the_project_and_env_overrides(
    project: settings.Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert project.tracking_uri == f"sqlite:///{project.root / 'mlflow.db'}"
    assert project.artifact_location == (project.root / "mlartifacts").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert project.tracking_uri == "http://127.0.0.1:5000"
    assert project.artifact_location is None
    monkeypatch.setenv("MLFLOW_ARTIFACT_LOCATION", "s3://bucket/mlflow")
    assert project.artifact_location == "s3://bucket/mlflow"


def test_root_is_found_from_a_subfolder(project: settings.Settings) -> None:
    sub = project.root / "data" / "raw"
    assert settings.find_root(sub) == project.root


def test_malformed_params_give_a_config_error(project: settings.Settings) -> None:
    (project.root / "params.yaml").write_text("model: [unclosed\n")
    with pytest.raises(settings.ConfigError, match="not valid YAML"):
        settings.load(project.root)


def test_missing_section_names_the_section(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("model: {name: m, experiment: e}\n")
    with pytest.raises(settings.ConfigError, match="'gate'"):
        settings.load(tmp_path).section("gate")


def test_ci_context_builds_the_run_url(project: settings.Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PR_NUMBER", "42")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "7")
    context = project.ci_context
    assert context["ci.pr_number"] == "42"
    assert context["ci.workflow_run_url"] == "https://github.com/org/repo/actions/runs/7"
