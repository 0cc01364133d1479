"""Static checks of every render in the matrix: exact files, no Jinja left, every config parses.

The matrix renders each cloud, every option changed one at a time, and the pairs of options that
interact (cloud x Python version: plugins and wheels; metric x cloud: gate and remotes).
test_project.py runs each render's own lint, tests and pipeline.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers.project import PROJECT_TEMPLATE, render

RENDERS: dict[str, dict[str, str]] = {
    "default": {},
    "gcp": {"cloud_provider": "gcp"},
    "azure": {"cloud_provider": "azure"},
    "py312": {"python_version": "3.12"},
    "py313": {"python_version": "3.13"},
    "f1": {"primary_metric": "f1"},
    "accuracy": {"primary_metric": "accuracy"},
    "log-loss": {"primary_metric": "log_loss", "metric_higher_is_better": "no"},
    "apache": {"license": "Apache-2.0"},
    "bsd": {"license": "BSD-3-Clause"},
    "proprietary": {"license": "Proprietary"},
    "names": {
        "project_name": "Fraud Risk Model",
        "model_name": "fraud.risk-v2",
        "github_owner": "Acme-Labs",
        "platform_owners": "@Acme-Labs/platform",
    },
    "gcp-py313": {"cloud_provider": "gcp", "python_version": "3.13"},
    "azure-py312-log-loss": {
        "cloud_provider": "azure",
        "python_version": "3.12",
        "primary_metric": "log_loss",
        "metric_higher_is_better": "no",
    },
}

# Files every project has, whatever the answers ({package} is the package name).
BASE_FILES = [
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    ".github/CODEOWNERS",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".python-version",
    "LICENSE",
    "Makefile",
    "README.md",
    "dvc.yaml",
    "docker/training.Dockerfile",
    "params.yaml",
    "pyproject.toml",
    "data/raw/.gitignore",
    "data/raw/breast_cancer.csv",
    "data/raw/breast_cancer.csv.dvc",
    "data/schema.yaml",
    "src/{package}/__init__.py",
    "src/{package}/dataset.py",
    "src/{package}/evaluate.py",
    "src/{package}/featurize.py",
    "src/{package}/metrics.py",
    "src/{package}/paths.py",
    "src/{package}/prepare.py",
    "src/{package}/report.py",
    "src/{package}/sample_data.py",
    "src/{package}/settings.py",
    "src/{package}/tracking.py",
    "src/{package}/train.py",
    "src/{package}/validate.py",
    "tests/conftest.py",
    "tests/test_evaluate.py",
    "tests/test_featurize.py",
    "tests/test_paths.py",
    "tests/test_pipeline.py",
    "tests/test_prepare.py",
    "tests/test_settings.py",
    "tests/test_train.py",
    "tests/test_validate.py",
]
# Folders that exist for one cloud only.
CLOUD_FOLDERS = {
    "aws": ("terraform/aws", "terraform/github"),
    "gcp": ("terraform/gcp", "terraform/github"),
    "azure": ("terraform/azure", "terraform/github"),
}
# Folders whose content is the same for every answer: expected = what the template holds there.
SHARED_FOLDERS = (
    ".tflint.hcl",
    ".github/workflows",
    ".github/actions",
    ".github/dependabot.yml",
    "deploy",
    "docs",
)
JINJA_LEFT = re.compile(r"\{\{\s*cookiecutter|\{%-?\s|cookiecutter\.")


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("matrix")
    return {name: render(base / name, **answers) for name, answers in RENDERS.items()}


def answers_of(name: str) -> dict[str, str]:
    """The answers a render used, for the options this file checks."""
    answers = {"primary_metric": "roc_auc", "python_version": "3.11", **RENDERS[name]}
    answers.setdefault("metric_higher_is_better", "no" if answers["primary_metric"] == "log_loss" else "yes")
    return answers


def template_files(folder: str) -> set[str]:
    root = PROJECT_TEMPLATE / folder
    if root.is_file():
        return {folder}
    return {str(p.relative_to(PROJECT_TEMPLATE)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def files_of(project: Path) -> set[str]:
    return {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_exact_files_for_the_answers(name: str, renders: dict[str, Path]) -> None:
    project = renders[name]
    package = project.joinpath("pyproject.toml").read_text().split('module-name = "')[1].split('"')[0]
    cloud = RENDERS[name].get("cloud_provider", "aws")
    expected = {f.format(package=package) for f in BASE_FILES}
    for folder in (*CLOUD_FOLDERS[cloud], *SHARED_FOLDERS):
        expected |= template_files(folder)
    assert files_of(project) == expected
    for folders in CLOUD_FOLDERS.values():
        for folder in folders:
            assert (project / folder).exists() == (folder in CLOUD_FOLDERS[cloud] and bool(template_files(folder))), (
                folder
            )


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_no_jinja_left_and_every_config_parses(name: str, renders: dict[str, Path]) -> None:
    project = renders[name]
    github_expressions = 0
    for path in sorted(project.rglob("*")):
        if not path.is_file() or path.suffix == ".csv":
            continue
        text = path.read_text(encoding="utf-8")
        assert not JINJA_LEFT.search(text), f"Jinja left in {path.relative_to(project)}"
        github_expressions += text.count("${{")
        if path.suffix in (".yaml", ".yml") or path.name.endswith(".dvc"):
            yaml.safe_load(text)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".py":
            compile(text, str(path), "exec")
    if (project / ".github/workflows").exists():
        assert github_expressions > 0, "GitHub's ${{ }} expressions must survive rendering"


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_answers_reach_the_settings_file(name: str, renders: dict[str, Path]) -> None:
    project, answers = renders[name], answers_of(name)
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["gate"]["primary_metric"] == answers["primary_metric"]
    assert params["gate"]["higher_is_better"] is (answers["metric_higher_is_better"] == "yes")
    assert (project / ".python-version").read_text().strip() == answers["python_version"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["mypy"]["python_version"] == answers["python_version"]


@pytest.mark.parametrize("cloud,scheme", [("aws", "s3://"), ("gcp", "gs://"), ("azure", "azure://")])
def test_cloud_remote_is_configured_but_not_default(cloud: str, scheme: str, renders: dict[str, Path]) -> None:
    project = renders["default" if cloud == "aws" else cloud]
    config = configparser.ConfigParser()
    config.read(project / ".dvc/config")
    assert config["core"]["remote"] == "local"
    # DVC's config format quotes section names: ['remote "cloud"']
    assert config["'remote \"cloud\"'"]["url"].startswith(scheme)
    local = config["'remote \"local\"'"]["url"]
    assert (project / ".dvc" / local).resolve() == (project / ".dvc-storage").resolve()
    plugin = {"aws": "dvc-s3", "gcp": "dvc-gs", "azure": "dvc-azure"}[cloud]
    deps = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith(f"{plugin}==") for d in deps)
    assert not any(d.startswith(("dvc-s3", "dvc-gs", "dvc-azure")) and not d.startswith(plugin) for d in deps)


@pytest.mark.parametrize(
    "name,first_line",
    [
        ("default", "MIT License"),
        ("apache", "Apache License"),
        ("bsd", "BSD 3-Clause License"),
        ("proprietary", "Copyright (c)"),
    ],
)
def test_license_follows_the_answer(name: str, first_line: str, renders: dict[str, Path]) -> None:
    text = (renders[name] / "LICENSE").read_text()
    assert text.strip().splitlines()[0].strip().startswith(first_line)
    if name != "apache":
        assert "ML Team" in text


def test_derived_names_follow_the_project_name(renders: dict[str, Path]) -> None:
    project = renders["names"]
    assert project.name == "fraud-risk-model"
    assert (project / "src/fraud_risk_model/train.py").is_file()
    owners = {
        line.split()[0]: line.split()[1:]
        for line in (project / ".github/CODEOWNERS").read_text().splitlines()
        if line and not line.startswith("#")
    }
    # The ML engineer's code (everything else) and the platform glue have their own reviewers.
    assert owners["*"] == owners["/deploy/models.yaml"] == ["@Acme-Labs/ml-reviewers"]
    for glue in ("/Makefile", "/.github/", "/terraform/", "/docs/"):
        assert owners[glue] == ["@Acme-Labs/platform"], glue
    assert owners["/pyproject.toml"] == ["@Acme-Labs/ml-reviewers", "@Acme-Labs/platform"]
    assert yaml.safe_load((project / "params.yaml").read_text())["model"]["name"] == "fraud.risk-v2"
