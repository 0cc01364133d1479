"""Fixtures: a throw-away copy of the project (params, schema, raw data) with its own tracking store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import settings

# Fixtures of a throw-away registry for the promotion and lineage tests.
pytest_plugins = ["registry_helpers"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> settings.Settings:
    for relative in (
        "params.yaml",
        "data/schema.yaml",
        "data/raw/breast_cancer.csv",
        "data/raw/breast_cancer.csv.dvc",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, tmp_path / relative)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROJECT_ROOT", raising=False)
    # Tests never write to a real server or to the project's own store.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_ARTIFACT_LOCATION", raising=False)
    for name in ("PR_NUMBER", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        monkeypatch.delenv(name, raising=False)
    return settings.load(tmp_path)


@pytest.fixture
def clean_frame(project: settings.Settings) -> pd.DataFrame:
    from {{ cookiecutter.package_name }}.prepare import prepare, read_raw

    return prepare(read_raw(str(project.path("data/raw/breast_cancer.csv"))))
