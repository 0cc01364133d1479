"""Yours to edit. Stage 5, evaluate: metrics as JSON and plots (DVC plot data and PNG images) for the report.

The PNGs are also attached to the MLflow run that train registered, so the registry shows them.
Two classes: the ROC curve of the positive class. Three or more: one one-vs-rest ROC curve per
class in the image, and their micro-average in plots/roc.csv (one curve for `dvc plots diff`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlops_gitops.errors import main_of
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from . import paths, settings, tracking
from .dataset import categorical_columns, read_table, read_validation
from .metrics import compute_metrics, predict_labels


def importances(model: Any) -> pd.Series:
    classifier = model.named_steps["classify"]
    names = list(model.named_steps["featurize"].get_feature_names_out())
    if hasattr(classifier, "feature_importances_"):
        values = classifier.feature_importances_
    else:  # linear models: magnitude of the coefficients on standardised features, mean over classes
        values = np.abs(classifier.coef_).mean(axis=0)
    return pd.Series(values, index=names).sort_values(ascending=False)


def roc_curves(
    actual: pd.Series, probabilities: np.ndarray, classes: list[str], positive: str | None
) -> dict:
    """name -> (fpr, tpr): the positive class for two classes; each class one-vs-rest and their
    micro-average (first) for more."""
    truth = np.asarray(actual, dtype=object)
    if positive is not None:
        fpr, tpr, _ = skm.roc_curve(truth == positive, probabilities[:, classes.index(positive)])
        return {positive: (fpr, tpr)}
    onehot = label_binarize(truth, classes=classes)
    curves = {"micro-average": skm.roc_curve(onehot.ravel(), probabilities.ravel())[:2]}
    for column, name in enumerate(classes):
        curves[name] = skm.roc_curve(onehot[:, column], probabilities[:, column])[:2]
    return curves


def write_plots(
    folder: Path,
    actual: pd.Series,
    probabilities: np.ndarray,
    classes: list[str],
    positive: str | None,
    threshold: float,
    model: Any,
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display in CI or tests
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    predicted = predict_labels(probabilities, classes, positive, threshold)
    curves = roc_curves(actual, probabilities, classes, positive)
    ranked = importances(model)

    # Data files for `dvc plots diff`, which draws them side by side across commits.
    pd.DataFrame({"actual": actual, "predicted": predicted}).to_csv(folder / "confusion.csv", index=False)
    fpr, tpr = next(iter(curves.values()))
    pd.DataFrame({"fpr": fpr, "tpr": tpr}).to_csv(folder / "roc.csv", index=False)
    ranked.rename_axis("feature").reset_index(name="importance").to_csv(
        folder / "feature_importance.csv", index=False
    )

    size = max(4.0, 0.6 * len(classes) + 2.5)
    figure, axis = plt.subplots(figsize=(size, size))
    skm.ConfusionMatrixDisplay.from_predictions(
        np.asarray(actual, dtype=object), predicted, labels=classes, ax=axis, colorbar=False
    )
    axis.set_title("Confusion matrix (test set)")
    figure.tight_layout()
    figure.savefig(folder / "confusion_matrix.png", dpi=100)

    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    for name, (fpr, tpr) in curves.items():
        label = (
            f"{name}: AUC = {skm.auc(fpr, tpr):.3f}" if positive is None else f"AUC = {skm.auc(fpr, tpr):.3f}"
        )
        axis.plot(fpr, tpr, label=label, linestyle=":" if name == "micro-average" else "-")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey")
    title = "ROC curve (test set)" if positive is not None else "ROC curves, one-vs-rest (test set)"
    axis.set(xlabel="False positive rate", ylabel="True positive rate", title=title)
    axis.legend(loc="lower right", fontsize="small")
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
    scoring = cfg.section("evaluate")
    validation = read_validation(cfg)
    target, positive = str(validation["target"]), validation["positive_label"]
    model = joblib.load(cfg.path(paths.MODEL))
    featurizer = model.named_steps["featurize"]
    test = read_table(cfg.path(paths.TEST), categorical_columns(featurizer), target)
    features = list(featurizer.feature_names_in_)
    classes = [str(c) for c in model.classes_]
    probabilities = model.predict_proba(test[features])
    threshold = float(scoring["threshold"])
    scores = compute_metrics(
        test[target], probabilities, classes, positive, threshold, scoring.get("average", "macro")
    )
    cfg.path(paths.METRICS).write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_plots(cfg.path(paths.PLOTS), test[target], probabilities, classes, positive, threshold, model)

    registration = tracking.read_registration(cfg)
    tracking.start(cfg)
    with mlflow.start_run(run_id=registration["run_id"]):
        for image in paths.IMAGES:
            mlflow.log_artifact(str(cfg.path(paths.PLOTS) / image), artifact_path="plots")
    print(f"evaluate: {', '.join(f'{k}={v:.4f}' for k, v in scores.items())}")


if __name__ == "__main__":
    main_of(main, "evaluate")
