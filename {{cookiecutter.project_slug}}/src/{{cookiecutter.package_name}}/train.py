"""Stage 4, train: fit the classifier, log the run to MLflow and register it as `challenger`.

The run records params, test metrics, the model (signature and explicit pip requirements, so no
environment inference), the git commit and the DVC hashes of the inputs. A new version of the
registered model gets the `challenger` alias; promotion to `champion` is a reviewed change in git.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

import joblib
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from . import settings, tracking
from .cli import StageError, run
from .evaluate import compute_metrics
from .featurize import FEATURIZER, TEST, TRAIN
from .validate import REPORT as VALIDATION

MODEL = "models/model.joblib"
ESTIMATORS: dict[str, type[ClassifierMixin]] = {
    "random_forest": RandomForestClassifier,
    "logistic_regression": LogisticRegression,
}
# What the served model needs, pinned to what trained it (listed, not inferred: inference costs a
# subprocess and a prediction per run).
RUNTIME_PACKAGES = ("scikit-learn", "skops", "pandas", "numpy", "scipy", "joblib")
# MLflow saves scikit-learn models with skops, which loads only types it is told to trust. The
# tree node store is the one type our estimators need; it is trusted because this run wrote it.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


def build_estimator(params: dict[str, Any]) -> ClassifierMixin:
    name = params["estimator"]
    if name not in ESTIMATORS:
        raise StageError(f"train.estimator '{name}' is unknown; use one of {', '.join(ESTIMATORS)}")
    options = dict(params.get(name) or {})
    return ESTIMATORS[name](random_state=params["seed"], **options)


def fit(train: pd.DataFrame, target: str, featurizer: Any, params: dict[str, Any]) -> Pipeline:
    features = list(featurizer.feature_names_in_)
    classifier = build_estimator(params).fit(featurizer.transform(train[features]), train[target])
    return Pipeline([("featurize", featurizer), ("classify", classifier)])


def pip_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES] + [f"mlflow=={version('mlflow')}"]


def flat_params(params: dict[str, Any]) -> dict[str, Any]:
    chosen = params["estimator"]
    flat = {"estimator": chosen, "seed": params["seed"]}
    flat.update({f"{chosen}.{k}": v for k, v in (params.get(chosen) or {}).items()})
    return flat


def main() -> None:
    import mlflow
    from mlflow.models import infer_signature

    cfg = settings.load()
    target, params = str(cfg.section("data")["target"]), cfg.section("train")
    validation = json.loads(cfg.path(VALIDATION).read_text(encoding="utf-8"))
    if validation.get("status") != "passed":
        raise StageError("the validate stage did not pass: run `make pipeline` and fix the data first")

    featurizer = joblib.load(cfg.path(FEATURIZER))
    train, test = pd.read_csv(cfg.path(TRAIN)), pd.read_csv(cfg.path(TEST))
    model = fit(train, target, featurizer, params)
    features = list(featurizer.feature_names_in_)
    probabilities = model.predict_proba(test[features])[:, 1]
    metrics = compute_metrics(test[target], probabilities, cfg.section("evaluate")["threshold"])
    joblib.dump(model, cfg.path(MODEL))

    client = tracking.connect(cfg)
    lineage = {
        **cfg.git_info(),
        **tracking.dvc_hashes(cfg, [TRAIN, TEST, FEATURIZER]),
        **cfg.ci_context,
        "validation.status": "passed",
    }
    with mlflow.start_run(tags=lineage) as active:
        mlflow.log_params(flat_params(params) | {"features": len(features), "train_rows": len(train)})
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(test[features], probabilities),
            pip_requirements=pip_requirements(),
            skops_trusted_types=TRUSTED_TYPES,
            registered_model_name=cfg.model_name,
        )
    registered = str(info.registered_model_version)
    for key, value in lineage.items():
        client.set_model_version_tag(cfg.model_name, registered, key, value)
    client.set_registered_model_alias(cfg.model_name, tracking.CHALLENGER, registered)

    registration = {
        "model_name": cfg.model_name,
        "version": registered,
        "run_id": active.info.run_id,
        "alias": tracking.CHALLENGER,
        "metrics": metrics,
    }
    cfg.path(tracking.REGISTRATION).write_text(json.dumps(registration, indent=2) + "\n", encoding="utf-8")
    print(
        f"train: {cfg.model_name} version {registered} registered as '{tracking.CHALLENGER}' "
        f"({cfg.section('gate')['primary_metric']}={metrics[cfg.section('gate')['primary_metric']]:.4f})"
    )


if __name__ == "__main__":
    run(main, "train")
