import numpy as np
import pandas as pd
import pytest
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.featurize import build_featurizer, select_features, split


def test_split_is_stratified_and_reproducible(clean_frame: pd.DataFrame) -> None:
    frame = clean_frame.astype(float)
    train, test = split(frame, "malignant", 0.2, 42)
    again, _ = split(frame, "malignant", 0.2, 42)
    assert len(test) == round(len(frame) * 0.2)
    assert abs(train.malignant.mean() - test.malignant.mean()) < 0.02
    pd.testing.assert_frame_equal(train, again)


def test_featurizer_is_fitted_on_train_only(clean_frame: pd.DataFrame) -> None:
    frame = clean_frame.astype(float)
    train, test = split(frame, "malignant", 0.2, 42)
    features = select_features(frame, "malignant", "all")
    featurizer = build_featurizer(features, scale=True).fit(train[features])
    assert np.allclose(featurizer.transform(train[features]).mean(axis=0), 0, atol=1e-9)
    assert not np.allclose(featurizer.transform(test[features]).mean(axis=0), 0, atol=1e-3)


def test_unknown_feature_names_are_refused(clean_frame: pd.DataFrame) -> None:
    with pytest.raises(CommandError, match="no_such_column"):
        select_features(clean_frame, "malignant", ["mean_radius", "no_such_column"])
