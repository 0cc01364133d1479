"""Yours to edit: the metrics of a model's test-set predictions, used by train and evaluate alike.

The quality gate (params.yaml `gate`) compares these by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm


def compute_metrics(actual: Any, probabilities: Any, threshold: float) -> dict[str, float]:
    predicted = (np.asarray(probabilities) >= threshold).astype(int)
    return {
        "accuracy": float(skm.accuracy_score(actual, predicted)),
        "precision": float(skm.precision_score(actual, predicted, zero_division=0)),
        "recall": float(skm.recall_score(actual, predicted, zero_division=0)),
        "f1": float(skm.f1_score(actual, predicted, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(actual, probabilities)),
        "log_loss": float(skm.log_loss(actual, probabilities, labels=[0, 1])),
    }
