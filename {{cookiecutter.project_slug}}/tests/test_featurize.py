"""The featurizer on small synthetic data: numbers and categories, missing values, unseen categories."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.dataset import as_numbers, categorical_columns, read_table, write_table
from {{ cookiecutter.package_name }}.featurize import (
    build_featurizer,
    feature_kinds,
    impute_policy,
    select_features,
    split,
    typed,
)


@pytest.fixture
def frame(synthetic: pd.DataFrame, synthetic_schema: dict) -> pd.DataFrame:
    return typed(synthetic, feature_kinds(synthetic_schema), "label")


def test_ids_are_left_out_and_types_follow_the_schema(synthetic_schema: dict, frame: pd.DataFrame) -> None:
    kinds = feature_kinds(synthetic_schema)
    assert kinds == {"size": "numeric", "weight": "numeric", "colour": "categorical"}
    assert frame["size"].dtype == float and frame["colour"].dtype == object


def test_split_is_stratified_and_reproducible(frame: pd.DataFrame) -> None:
    train, test = split(frame, "label", 0.25, 42)
    again, _ = split(frame, "label", 0.25, 42)
    assert len(test) == len(frame) // 4
    assert abs((train.label == "yes").mean() - (test.label == "yes").mean()) < 0.03
    pd.testing.assert_frame_equal(train, again)


def test_featurizer_is_fitted_on_train_only(frame: pd.DataFrame) -> None:
    train, test = split(frame, "label", 0.25, 42)
    featurizer = build_featurizer(["size", "weight"], []).fit(train[["size", "weight"]])
    assert np.allclose(featurizer.transform(train[["size", "weight"]]).mean(axis=0), 0, atol=1e-9)
    assert not np.allclose(featurizer.transform(test[["size", "weight"]]).mean(axis=0), 0, atol=1e-3)


def test_missing_values_and_unseen_categories_are_handled(frame: pd.DataFrame) -> None:
    features = ["size", "weight", "colour"]
    featurizer = build_featurizer(["size", "weight"], ["colour"]).fit(frame[features])
    assert categorical_columns(featurizer) == ["colour"]
    new = pd.DataFrame({"size": [np.nan, 11.0], "weight": [50.0, np.nan], "colour": ["purple", None]})
    out = featurizer.transform(new)
    assert np.isfinite(out).all()
    assert list(featurizer.get_feature_names_out()).count("colour_red") == 1


def test_unknown_feature_names_and_impute_settings_are_refused(synthetic_schema: dict) -> None:
    with pytest.raises(CommandError, match="row_id"):
        select_features(feature_kinds(synthetic_schema), ["size", "row_id"])
    with pytest.raises(CommandError, match=r"featurize.impute.numeric is 'avg'"):
        impute_policy({"impute": {"numeric": "avg"}})


def test_numbers_are_read_as_python_reads_them() -> None:
    """Arrow parses a clean column at once; a column it refuses goes through float() value by value."""
    clean = pd.Series(["1", "-0.5", "1e-7", "17.99", "inf", None], dtype="str")
    awkward = pd.Series(["1_000", " 2", "n/a", "3.25", None], dtype=object)

    def python(value: object) -> float:
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return np.nan

    for text in (clean, awkward):
        np.testing.assert_array_equal(as_numbers(text), np.array([python(v) for v in text.tolist()]))


@pytest.mark.parametrize("colour", ["red", "a, quoted"])
def test_splits_read_back_to_the_values_written(tmp_path: Path, colour: str) -> None:
    """The splits' CSV (Arrow's writer, pandas' when a value needs quotes): same header, same values."""
    frame = pd.DataFrame(
        {
            "size": [1001.0, 1e-7, np.nan, 0.1, 123456789.123],
            "colour": pd.Series([colour, np.nan, "green", "0", "blue"], dtype=object),
            "label": pd.Series(["0", "1", "0", "1", "0"], dtype=object),
        }
    )
    path = tmp_path / "split.csv"
    write_table(frame, path)
    assert path.read_text().splitlines()[0] == "size,colour,label"
    pd.testing.assert_frame_equal(read_table(path, ["colour"], "label"), frame)
