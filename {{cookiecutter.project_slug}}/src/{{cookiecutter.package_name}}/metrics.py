"""Yours to edit: the metrics of a model's test-set predictions, used by train and evaluate alike.

The quality gate (params.yaml `gate`) compares these by name, for two classes and more alike:
- two classes: precision, recall, f1 and roc_auc of the positive class (`data.positive_label`),
  which is predicted when its probability reaches `evaluate.threshold`;
- three or more: the most probable class is predicted; precision, recall and f1 are averaged over
  the classes as `evaluate.average` says (macro, weighted or micro), roc_auc is one-vs-rest with
  the same average, log_loss is the multi-class log loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mlops_gitops.errors import CommandError
from sklearn import metrics as skm

AVERAGES = ("macro", "weighted", "micro")


def check_average(average: str) -> str:
    if average not in AVERAGES:
        raise CommandError(f"params.yaml evaluate.average is '{average}': use one of {', '.join(AVERAGES)}")
    return average


def predict_labels(
    probabilities: Any, classes: list[str], positive: str | None, threshold: float
) -> np.ndarray:
    """The predicted label of each row: the threshold for two classes, the most probable class otherwise."""
    proba = np.asarray(probabilities, dtype=float)
    labels = np.asarray(classes, dtype=object)
    if positive is None:
        return labels[proba.argmax(axis=1)]
    negative = next(c for c in classes if c != positive)
    return np.where(proba[:, classes.index(positive)] >= threshold, positive, negative)


def compute_metrics(
    actual: Any,
    probabilities: Any,
    classes: list[str],
    positive: str | None,
    threshold: float = 0.5,
    average: str = "macro",
) -> dict[str, float]:
    """`probabilities`: one column per class, in the order of `classes` (the model's `classes_`)."""
    truth = np.asarray(actual, dtype=object)
    proba = np.asarray(probabilities, dtype=float)
    predicted = predict_labels(proba, classes, positive, threshold)
    if positive is not None:
        is_positive = truth == positive
        score = proba[:, classes.index(positive)]
        chosen: dict[str, Any] = {"average": "binary", "pos_label": positive}
        auc = skm.roc_auc_score(is_positive, score)
        loss = skm.log_loss(is_positive, score, labels=[False, True])
    else:
        chosen = {"average": check_average(average), "labels": classes}
        auc = skm.roc_auc_score(truth, proba, multi_class="ovr", average=average, labels=classes)
        loss = skm.log_loss(truth, proba, labels=classes)
    return {
        "accuracy": float(skm.accuracy_score(truth, predicted)),
        "precision": float(skm.precision_score(truth, predicted, zero_division=0, **chosen)),
        "recall": float(skm.recall_score(truth, predicted, zero_division=0, **chosen)),
        "f1": float(skm.f1_score(truth, predicted, zero_division=0, **chosen)),
        "roc_auc": float(auc),
        "log_loss": float(loss),
    }
