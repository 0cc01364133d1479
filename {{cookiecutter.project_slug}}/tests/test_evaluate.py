from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.metrics import compute_metrics
from {{ cookiecutter.package_name }}.paths import IMAGES, PLOT_DATA


def test_perfect_predictions_score_perfectly() -> None:
    scores = compute_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 0.5)
    assert scores["accuracy"] == scores["f1"] == scores["roc_auc"] == 1.0
    assert scores["log_loss"] < 0.25


def test_threshold_changes_the_labels_not_the_ranking() -> None:
    strict = compute_metrics([0, 1, 1], [0.2, 0.6, 0.9], 0.7)
    assert strict["recall"] == 0.5
    assert strict["roc_auc"] == 1.0


def test_plots_are_written(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from {{ cookiecutter.package_name }}.evaluate import write_plots
    from {{ cookiecutter.package_name }}.featurize import build_featurizer

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = pd.Series((x.a + rng.normal(scale=0.5, size=60) > 0).astype(int))
    featurizer = build_featurizer(["a", "b", "c"], scale=True).fit(x)
    model = Pipeline(
        [("featurize", featurizer), ("classify", LogisticRegression().fit(featurizer.transform(x), y))]
    )
    write_plots(tmp_path, y, model.predict_proba(x)[:, 1], 0.5, model)
    for name in (*IMAGES, *PLOT_DATA):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    top = pd.read_csv(tmp_path / "feature_importance.csv").feature.iloc[0]
    assert top == "a"
