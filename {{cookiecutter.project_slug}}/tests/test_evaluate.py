from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlops_gitops.errors import CommandError

from {{ cookiecutter.package_name }}.metrics import compute_metrics
from {{ cookiecutter.package_name }}.paths import IMAGES, PLOT_DATA


def proba(positive: list[float]) -> np.ndarray:
    return np.column_stack([1 - np.asarray(positive), positive])


def test_perfect_predictions_score_perfectly() -> None:
    scores = compute_metrics(["no", "no", "yes", "yes"], proba([0.1, 0.2, 0.8, 0.9]), ["no", "yes"], "yes")
    assert scores["accuracy"] == scores["f1"] == scores["roc_auc"] == 1.0
    assert scores["log_loss"] < 0.25


def test_threshold_changes_the_labels_not_the_ranking() -> None:
    strict = compute_metrics(["0", "1", "1"], proba([0.2, 0.6, 0.9]), ["0", "1"], "1", threshold=0.7)
    assert strict["recall"] == 0.5
    assert strict["roc_auc"] == 1.0


def test_the_positive_label_chooses_the_class_scored() -> None:
    actual, probabilities = ["a", "a", "a", "b"], proba([0.1, 0.2, 0.6, 0.9])
    for_b = compute_metrics(actual, probabilities, ["a", "b"], "b")
    for_a = compute_metrics(actual, probabilities, ["a", "b"], "a")
    assert for_b["precision"] == 0.5 and for_a["precision"] == 1.0
    assert for_b["accuracy"] == for_a["accuracy"] == 0.75


def test_multiclass_metrics_are_averaged() -> None:
    actual = ["a", "b", "c", "c"]
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    macro = compute_metrics(actual, probabilities, ["a", "b", "c"], None, average="macro")
    assert macro["accuracy"] == 0.75
    assert macro["recall"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert set(macro) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    weighted = compute_metrics(actual, probabilities, ["a", "b", "c"], None, average="weighted")
    assert weighted["recall"] == pytest.approx(0.75)
    with pytest.raises(CommandError, match=r"evaluate\.average is 'mean'"):
        compute_metrics(actual, probabilities, ["a", "b", "c"], None, average="mean")


@pytest.mark.parametrize("classes", [("no", "yes"), ("a", "b", "c")])
def test_plots_are_written(tmp_path: Path, classes: tuple[str, ...]) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from {{ cookiecutter.package_name }}.evaluate import write_plots
    from {{ cookiecutter.package_name }}.featurize import build_featurizer

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(90, 3)), columns=["a", "b", "c"])
    y = pd.Series(np.array(classes, dtype=object)[(x.a.rank(pct=True) * len(classes) * 0.999).astype(int)])
    featurizer = build_featurizer(["a", "b", "c"], []).fit(x)
    model = Pipeline(
        [("featurize", featurizer), ("classify", LogisticRegression().fit(featurizer.transform(x), y))]
    )
    positive = classes[1] if len(classes) == 2 else None
    write_plots(tmp_path, y, model.predict_proba(x), list(classes), positive, 0.5, model)
    for name in (*IMAGES, *PLOT_DATA):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert set(pd.read_csv(tmp_path / "confusion.csv").actual) == set(classes)
    top = pd.read_csv(tmp_path / "feature_importance.csv").feature.iloc[0]
    assert top == "a"
