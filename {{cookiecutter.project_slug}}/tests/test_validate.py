"""The validate stage must reject every kind of corrupt data it claims to catch, and pass clean data."""

from collections.abc import Callable

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import settings
from {{ cookiecutter.package_name }}.validate import check, infer_schema, load_schema

Corruption = Callable[[pd.DataFrame], pd.DataFrame]


def _set(column: str, value: str, rows: int = 1) -> Corruption:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[: rows - 1, column] = value
        return frame

    return corrupt


CORRUPTIONS: dict[str, tuple[Corruption, str]] = {
    "missing column": (lambda f: f.drop(columns=["mean_radius"]), "missing columns: mean_radius"),
    "unexpected column": (lambda f: f.assign(patient_id="x"), "unexpected columns: patient_id"),
    "missing target": (lambda f: f.drop(columns=["malignant"]), "missing columns: malignant"),
    "text in numeric column": (_set("mean_area", "n/a"), "non-numeric values"),
    "null values": (_set("mean_texture", float("nan")), "missing values"),  # type: ignore[arg-type]
    "infinite value": (_set("mean_smoothness", "inf"), "infinite values"),
    "negative value": (_set("mean_perimeter", "-5"), "outside"),
    "implausibly large value": (_set("worst_area", "1e9"), "outside"),
    "unknown label": (_set("malignant", "2"), "unknown labels 2"),
    "unlabelled row": (_set("malignant", float("nan")), "have no label"),  # type: ignore[arg-type]
    "class imbalance": (
        lambda f: pd.concat([f[f.malignant == "0"], f[f.malignant == "1"].head(10)]),
        "class balance",
    ),
    "too few rows": (lambda f: f.head(50), "only 50 rows"),
    "no rows": (lambda f: f.head(0), "no rows"),
}


@pytest.fixture
def schema(project: settings.Settings) -> dict:
    return load_schema(project.path("data/schema.yaml"))


def test_clean_data_passes(clean_frame: pd.DataFrame, schema: dict, project: settings.Settings) -> None:
    assert check(clean_frame, schema, project.section("validate")) == []


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_data_is_rejected(
    kind: str, clean_frame: pd.DataFrame, schema: dict, project: settings.Settings
) -> None:
    corrupt, expected = CORRUPTIONS[kind]
    problems = check(corrupt(clean_frame), schema, project.section("validate"))
    assert any(expected in p for p in problems), problems


def test_inferred_schema_accepts_its_own_data(clean_frame: pd.DataFrame, project: settings.Settings) -> None:
    inferred = infer_schema(clean_frame, "malignant")
    assert inferred["target"] == {"name": "malignant", "labels": [0, 1]}
    assert check(clean_frame, inferred, project.section("validate")) == []
