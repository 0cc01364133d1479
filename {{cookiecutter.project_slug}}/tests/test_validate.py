"""The validate stage must reject every kind of corrupt data it claims to catch, and pass clean data.

The checks run on small synthetic data; one test checks the project's own data against its schema.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import RULES
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }} import settings
from {{ cookiecutter.package_name }}.dataset import DataSettings, load_schema
from {{ cookiecutter.package_name }}.validate import check, infer_schema

Corruption = Callable[[pd.DataFrame], pd.DataFrame]


def _set(column: str, value: object, rows: int = 1) -> Corruption:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[: rows - 1, column] = value
        return frame

    return corrupt


CORRUPTIONS: dict[str, tuple[Corruption, str]] = {
    "missing column": (lambda f: f.drop(columns=["size"]), "missing columns: size"),
    "unexpected column": (lambda f: f.assign(patient_id="x"), "unexpected columns: patient_id"),
    "missing target": (lambda f: f.drop(columns=["label"]), "missing columns: label"),
    "text in numeric column": (_set("size", "n/a"), "non-numeric values (first: 'n/a' in row 1)"),
    "too many missing values": (_set("size", np.nan, 40), "40 missing values"),
    "infinite value": (_set("size", "inf"), "infinite values"),
    "negative value": (_set("size", "-5"), "outside"),
    "implausibly large value": (_set("weight", "1e9"), "outside"),
    "unknown category": (_set("colour", "purple"), "column 'colour': unknown values 'purple'"),
    "unknown label": (_set("label", "maybe"), "unknown labels maybe"),
    "unlabelled row": (_set("label", np.nan), "have no label"),
    "one class": (lambda f: f.assign(label="yes"), "has one class ('yes')"),
    "class imbalance": (
        lambda f: pd.concat([f[f.label == "no"], f[f.label == "yes"].head(5)]),
        "rarest class 'yes'",
    ),
    "too few rows": (lambda f: f.head(50), "only 50 rows"),
    "no rows": (lambda f: f.head(0), "no rows"),
}


def test_clean_data_passes(synthetic: pd.DataFrame, synthetic_schema: dict) -> None:
    assert check(synthetic, synthetic_schema, RULES) == []


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_data_is_rejected(kind: str, synthetic: pd.DataFrame, synthetic_schema: dict) -> None:
    corrupt, expected = CORRUPTIONS[kind]
    problems = check(corrupt(synthetic), synthetic_schema, RULES)
    assert any(expected in p for p in problems), problems


def test_inferred_schema_types_and_labels(synthetic: pd.DataFrame) -> None:
    frame = synthetic.assign(day="2024-01-0" + synthetic.index.astype(str).str[-1], same="x")
    frame.loc[0, "day"] = np.nan
    inferred = infer_schema(frame, "label")
    assert inferred["target"] == {"name": "label", "labels": ["no", "yes"]}
    kinds = {name: spec["type"] for name, spec in inferred["columns"].items()}
    assert kinds == {
        "row_id": "ignore", "size": "float", "weight": "float", "colour": "category",
        "day": "ignore", "same": "ignore",
    }  # fmt: skip
    assert inferred["columns"]["colour"]["values"] == ["green", "grey", "red"]
    assert 0 < inferred["columns"]["weight"]["missing"] < 0.1
    assert "an ID" in inferred["columns"]["row_id"]["note"]
    assert "dates" in inferred["columns"]["day"]["note"]
    assert check(frame, inferred, RULES) == []


def test_a_target_that_is_not_a_class_is_refused(synthetic: pd.DataFrame) -> None:
    with pytest.raises(CommandError, match="distinct values"):
        infer_schema(synthetic, "size")
    with pytest.raises(CommandError, match="not a column"):
        infer_schema(synthetic, "nothing")


def test_positive_label_must_be_quoted_text_of_the_data(project: settings.Settings) -> None:
    def data(**values: object) -> DataSettings:
        params = {**project.params, "data": {**project.params["data"], **values}}
        return DataSettings(settings.Settings(project.root, params))

    with pytest.raises(CommandError, match=r"YAML boolean true.*quote"):
        data(positive_label=True)
    with pytest.raises(CommandError, match="one of them, quoted"):
        data(positive_label="Yes").positive_for(["no", "yes"])
    with pytest.raises(CommandError, match="positive_label: null"):
        data(positive_label="a").positive_for(["a", "b", "c"])
    assert data(positive_label=1).positive_for(["0", "1"]) == "1"
    assert data(positive_label=None).positive_for(["a", "b", "c"]) is None
    assert data(target="Alcohol %").target == "alcohol_pct"


def test_the_projects_data_passes_its_schema(project_data: pd.DataFrame, project: settings.Settings) -> None:
    """params.yaml data.raw against data.schema: what the pipeline's validate stage will say."""
    data = DataSettings(project)
    schema = load_schema(project.path(data.schema))
    assert schema["target"]["name"] == data.target
    assert check(project_data, schema, project.section("validate")) == []
