"""Yours to edit. Stage 5, evaluate: metrics as JSON and plots (DVC plot data and PNG images) for the report.

The PNGs are also attached to the MLflow run that train registered, so the registry shows them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlops_gitops.errors import main_of
from sklearn import metrics as skm

from . import paths, settings, tracking
from .metrics import compute_metrics


def importances(model: Any) -> pd.Series:
    classifier = model.named_steps["classify"]
    names = list(model.named_steps["featurize"].get_feature_names_out())
    if hasattr(classifier, "feature_importances_"):
        values = classifier.feature_importances_
    else:  # linear models: magnitude of the coefficients on standardised features
        values = np.abs(classifier.coef_[0])
    return pd.Series(values, index=names).sort_values(ascending=False)


def write_plots(
    folder: Path, actual: pd.Series, probabilities: np.ndarray, threshold: float, model: Any
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display in CI or tests
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    predicted = (probabilities >= threshold).astype(int)
    fpr, tpr, _ = skm.roc_curve(actual, probabilities)
    ranked = importances(model)

    # Data files for `dvc plots diff`, which draws them side by side across commits.
    pd.DataFrame({"actual": actual, "predicted": predicted}).to_csv(folder / "confusion.csv", index=False)
    pd.DataFrame({"fpr": fpr, "tpr": tpr}).to_csv(folder / "roc.csv", index=False)
    ranked.rename_axis("feature").reset_index(name="importance").to_csv(
        folder / "feature_importance.csv", index=False
    )

    figure, axis = plt.subplots(figsize=(4, 4))
    skm.ConfusionMatrixDisplay.from_predictions(actual, predicted, ax=axis, colorbar=False)
    axis.set_title("Confusion matrix (test set)")
    figure.tight_layout()
    figure.savefig(folder / "confusion_matrix.png", dpi=100)

    figure, axis = plt.subplots(figsize=(4, 4))
    axis.plot(fpr, tpr, label=f"AUC = {skm.auc(fpr, tpr):.3f}")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axis.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve (test set)")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(folder / "roc_curve.png", dpi=100)

    top = ranked.head(15)[::-1]
    figure, axis = plt.subplots(figsize=(6, 5))
    axis.barh(list(top.index), top.to_numpy(dtype=float))
    axis.set(title="Feature importance (top 15)", xlabel="importance")
    figure.tight_layout()
    figure.savefig(folder / "feature_importance.png", dpi=100)
    plt.close("all")


def main() -> None:
    import joblib
    import mlflow

    cfg = settings.load()
    target, threshold = str(cfg.section("data")["target"]), float(cfg.section("evaluate")["threshold"])
    model = joblib.load(cfg.path(paths.MODEL))
    test = pd.read_csv(cfg.path(paths.TEST))
    features = list(model.named_steps["featurize"].feature_names_in_)
    probabilities = model.predict_proba(test[features])[:, 1]
    scores = compute_metrics(test[target], probabilities, threshold)
    cfg.path(paths.METRICS).write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_plots(cfg.path(paths.PLOTS), test[target], probabilities, threshold, model)

    registration = tracking.read_registration(cfg)
    tracking.start(cfg)
    with mlflow.start_run(run_id=registration["run_id"]):
        for image in paths.IMAGES:
            mlflow.log_artifact(str(cfg.path(paths.PLOTS) / image), artifact_path="plots")
    print(f"evaluate: {', '.join(f'{k}={v:.4f}' for k, v in scores.items())}")


if __name__ == "__main__":
    main_of(main, "evaluate")
