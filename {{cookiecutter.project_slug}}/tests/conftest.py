"""Fixtures: a throw-away copy of the project (params, schema, raw data) with its own tracking store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import sample_data, settings

ROOT = Path(__file__).resolve().parents[1]


def copy_inputs(dest: Path) -> None:
    """params, pipeline, schema and the raw data into `dest`. Where the data was not pulled (CI's checks job
    has no cloud credentials), the same bytes are exported again from scikit-learn's copy."""
    for relative in ("params.yaml", "dvc.yaml", "data/schema.yaml", "data/raw/breast_cancer.csv.dvc"):
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, dest / relative)
    raw = ROOT / "data/raw/breast_cancer.csv"
    (dest / "data/raw/breast_cancer.csv").write_text(
        raw.read_text(encoding="utf-8") if raw.exists() else sample_data.export(), encoding="utf-8"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> settings.Settings:
    copy_inputs(tmp_path)
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
    from {{ cookiecutter.package_name }}.dataset import prepare, read_raw

    return prepare(read_raw(str(project.path("data/raw/breast_cancer.csv"))))
