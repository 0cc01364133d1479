from importlib.metadata import version

import pandas as pd
import pytest
from conftest import synthetic_frame
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.featurize import build_featurizer, feature_kinds, typed
from {{ cookiecutter.package_name }}.train import build_estimator, fit, flat_params, pip_requirements
from {{ cookiecutter.package_name }}.validate import infer_schema

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


@pytest.mark.parametrize("classes", [("no", "yes"), ("a", "b", "c")])
@pytest.mark.parametrize("estimator", ["logistic_regression", "random_forest"])
def test_model_takes_raw_columns_and_predicts_labels(classes: tuple[str, ...], estimator: str) -> None:
    raw = synthetic_frame(classes=classes)
    frame = typed(raw, feature_kinds(infer_schema(raw, "label")), "label")
    features = ["size", "weight", "colour"]
    featurizer = build_featurizer(["size", "weight"], ["colour"]).fit(frame[features])
    model = fit(frame, "label", featurizer, {**PARAMS, "estimator": estimator})
    assert list(model.classes_) == list(classes)
    assert (model.predict(frame[features]) == frame.label).mean() > 0.9
    unseen = pd.DataFrame({"size": [None], "weight": [50.0], "colour": ["purple"]})
    assert model.predict(unseen)[0] in classes


def test_pip_requirements_pin_the_training_environment() -> None:
    pins = dict(line.split("==") for line in pip_requirements())
    assert pins["scikit-learn"] == version("scikit-learn")
    assert pins["mlflow"] == version("mlflow")
    assert "skops" in pins
