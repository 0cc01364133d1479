from importlib.metadata import version

import pandas as pd
import pytest
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.featurize import build_featurizer
from {{ cookiecutter.package_name }}.train import build_estimator, fit, flat_params, pip_requirements

PARAMS = {"estimator": "logistic_regression", "seed": 0, "logistic_regression": {"C": 0.5, "max_iter": 200}}


def test_unknown_estimator_is_refused() -> None:
    with pytest.raises(CommandError, match="unknown"):
        build_estimator({**PARAMS, "estimator": "xgboost"})


def test_estimator_gets_its_own_params() -> None:
    estimator = build_estimator(PARAMS)
    assert estimator.get_params()["C"] == 0.5
    assert flat_params(PARAMS) == {
        "estimator": "logistic_regression",
        "seed": 0,
        "logistic_regression.C": 0.5,
        "logistic_regression.max_iter": 200,
    }


def test_model_takes_raw_columns(clean_frame: pd.DataFrame) -> None:
    frame = clean_frame.astype(float)
    features = [c for c in frame.columns if c != "malignant"]
    featurizer = build_featurizer(features, scale=True).fit(frame[features])
    model = fit(frame, "malignant", featurizer, PARAMS)
    assert model.predict(frame[features].head(5)).shape == (5,)
    assert (model.predict(frame[features]) == frame.malignant).mean() > 0.9


def test_pip_requirements_pin_the_training_environment() -> None:
    pins = dict(line.split("==") for line in pip_requirements())
    assert pins["scikit-learn"] == version("scikit-learn")
    assert pins["mlflow"] == version("mlflow")
    assert "skops" in pins
