"""Fixtures. Two kinds of tests use them:

- the stages' own behaviour, on small synthetic data the tests make (`synthetic`): they pass
  whatever dataset the project holds;
- the project's data (`project_data`): params.yaml `data.raw` read and checked against the schema,
  skipped with the reason when the file is not in this checkout (CI's checks job has no cloud
  credentials to pull it; the bundled sample is exported again from scikit-learn instead).
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }} import settings

ROOT = Path(__file__).resolve().parents[1]


def raw_path() -> str:
    return str(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["data"]["raw"])


def raw_bytes() -> bytes | None:
    """The project's raw data: the file, else the bundled sample's export, else None (not pulled)."""
    relative = raw_path()
    if (ROOT / relative).is_file():
        return (ROOT / relative).read_bytes()
    try:
        sample = importlib.import_module("{{ cookiecutter.package_name }}.sample_data")
    except ImportError:
        return None
    return str(sample.export()).encode() if relative == sample.PATH else None


def copy_inputs(dest: Path) -> bool:
    """params, pipeline, schema and the raw data (with its .dvc file) into `dest`; False when the
    raw data is not in this checkout."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    relatives = ["params.yaml", "dvc.yaml", str(params["data"]["schema"]), f"{raw_path()}.dvc"]
    for relative in relatives:
        if (ROOT / relative).is_file():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, dest / relative)
    data = raw_bytes()
    if data is not None:
        (dest / raw_path()).parent.mkdir(parents=True, exist_ok=True)
        (dest / raw_path()).write_bytes(data)
    return data is not None


def skip_without_data() -> None:
    pytest.skip(f"{raw_path()} is not in this checkout (DVC data not pulled: `make pull`)")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> settings.Settings:
    """A throw-away copy of the project (with its data when present) and its own tracking store."""
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
def project_data(project: settings.Settings) -> pd.DataFrame:
    """The project's own data as the prepare stage leaves it."""
    from {{ cookiecutter.package_name }}.dataset import DataSettings, prepare, read_raw

    data = DataSettings(project)
    if not project.path(data.raw).is_file():
        skip_without_data()
    return prepare(read_raw(str(project.path(data.raw)), data.delimiter))


def synthetic_frame(rows: int = 160, seed: int = 0, classes: tuple[str, ...] = ("no", "yes")) -> pd.DataFrame:
    """Prepared-looking data (text, as prepare writes it): `size` predicts the label, `colour` helps,
    `weight` is noise with missing values, `colour` has missing values, `row_id` is an ID."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, len(classes), rows)
    size = label * 3.0 + rng.normal(10, 1, rows)
    colour = np.where(rng.random(rows) < 0.7, np.array(["red", "green", "blue"])[label % 3], "grey")
    frame = pd.DataFrame(
        {
            "row_id": [str(i + 1) for i in range(rows)],
            "size": [f"{v:.3f}" for v in size],
            "weight": [f"{v:.2f}" for v in rng.normal(50, 5, rows)],
            "colour": colour.astype(object),
            "label": np.array(classes, dtype=object)[label],
        },
        dtype=object,
    )
    frame.loc[::17, "weight"] = np.nan
    frame.loc[5::29, "colour"] = np.nan
    return frame


@pytest.fixture
def synthetic() -> pd.DataFrame:
    return synthetic_frame()


@pytest.fixture
def synthetic_schema(synthetic: pd.DataFrame) -> dict:
    from {{ cookiecutter.package_name }}.validate import infer_schema

    return infer_schema(synthetic, "label")


RULES = {"min_rows": 100, "max_null_fraction": 0.1, "min_class_fraction": 0.2}
