"""Yours to edit. Stage 4, train: fit the classifier, log the run to MLflow and register a new version.

The run records params, test metrics, the model (signature and explicit pip requirements, so no
environment inference), the git commit, the DVC hashes of the inputs and the model inputs'
fingerprint that makes the version promotable once main holds the same inputs. Training moves no
alias (the PR identity may not): promotion to `staging` or `champion` is a reviewed change in git.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

import joblib
import pandas as pd
from mlops_gitops.errors import CommandError, main_of
from mlops_gitops.inputs import FINGERPRINT_TAG
from mlops_gitops.lineage import training_tags
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from . import paths, settings, tracking
from .dataset import categorical_columns, read_table, read_validation
from .metrics import check_average, compute_metrics

ESTIMATORS: dict[str, type[ClassifierMixin]] = {
    "random_forest": RandomForestClassifier,
    "logistic_regression": LogisticRegression,
}
# What the served model needs, pinned to what trained it (listed, not inferred: inference costs a
# subprocess and a prediction per run).
RUNTIME_PACKAGES = ("scikit-learn", "skops", "pandas", "numpy", "scipy", "joblib")
# MLflow saves scikit-learn models with skops, which loads only types it is told to trust: the
# tree node store and the imputers' recorded column dtype are what our pipelines need; they are
# trusted because this run wrote them.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree", "numpy.dtype"]


def build_estimator(params: dict[str, Any]) -> ClassifierMixin:
    name = params["estimator"]
    if name not in ESTIMATORS:
        raise CommandError(f"train.estimator '{name}' is unknown; use one of {', '.join(ESTIMATORS)}")
    options = dict(params.get(name) or {})
    return ESTIMATORS[name](random_state=params["seed"], **options)


def fit(train: pd.DataFrame, target: str, featurizer: Any, params: dict[str, Any]) -> Pipeline:
    features = list(featurizer.feature_names_in_)
    classifier = build_estimator(params).fit(featurizer.transform(train[features]), train[target])
    if "n_jobs" in classifier.get_params():
        # Fitted on every core, predicts on one: a forest's probabilities summed in thread order
        # differ in their last bits from call to call, and a served copy must answer as this one.
        classifier.set_params(n_jobs=None)
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
    params, scoring = cfg.section("train"), cfg.section("evaluate")
    validation = read_validation(cfg)  # the validate stage passed: target, classes, positive label
    target, positive = str(validation["target"]), validation["positive_label"]

    featurizer = joblib.load(cfg.path(paths.FEATURIZER))
    categorical = categorical_columns(featurizer)
    train = read_table(cfg.path(paths.TRAIN), categorical, target)
    test = read_table(cfg.path(paths.TEST), categorical, target)
    model = fit(train, target, featurizer, params)
    features = list(featurizer.feature_names_in_)
    probabilities = model.predict_proba(test[features])
    classes = [str(c) for c in model.classes_]
    average = check_average(str(scoring.get("average", "macro")))
    metrics = compute_metrics(test[target], probabilities, classes, positive, scoring["threshold"], average)
    joblib.dump(model, cfg.path(paths.MODEL))

    client = tracking.start(cfg)
    lineage = {
        **training_tags(cfg, [paths.TRAIN, paths.TEST, paths.FEATURIZER]),
        "validation.status": "passed",
    }
    with mlflow.start_run(tags=lineage) as active:
        sizes = {"features": len(features), "train_rows": len(train), "classes": len(classes)}
        labels = {"positive_label": positive or "(multi-class)", "average": "binary" if positive else average}
        mlflow.log_params(flat_params(params) | sizes | labels)
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            # The output's type, from the predictions above (predict would run every tree again).
            signature=infer_signature(test[features], model.classes_[probabilities.argmax(axis=1)]),
            pip_requirements=pip_requirements(),
            skops_trusted_types=TRUSTED_TYPES,
            registered_model_name=cfg.model_name,
        )
    registered = str(info.registered_model_version)
    for key, value in lineage.items():
        client.set_model_version_tag(cfg.model_name, registered, key, value)

    registration = {
        "model_name": cfg.model_name,
        "version": registered,
        "run_id": active.info.run_id,
        "inputs_fingerprint": lineage.get(FINGERPRINT_TAG, ""),
        "metrics": metrics,
    }
    cfg.path(paths.REGISTRATION).write_text(json.dumps(registration, indent=2) + "\n", encoding="utf-8")
    print(
        f"train: {cfg.model_name} version {registered} registered (a candidate: no alias) "
        f"({cfg.section('gate')['primary_metric']}={metrics[cfg.section('gate')['primary_metric']]:.4f})"
    )


if __name__ == "__main__":
    main_of(main, "train")
