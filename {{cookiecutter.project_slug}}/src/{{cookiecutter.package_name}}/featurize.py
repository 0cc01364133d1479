"""Yours to edit. Stage 3, featurize: split train/test (stratified) and fit the feature transformer on train.

The fitted transformer is saved, not applied: train puts it in front of the classifier, so the
registered model takes raw columns and serving cannot drift from training.
"""

from __future__ import annotations

from typing import Any

import joblib
import pandas as pd
from mlops_gitops.errors import CommandError, main_of
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from . import paths, settings


def select_features(frame: pd.DataFrame, target: str, wanted: Any) -> list[str]:
    available = [c for c in frame.columns if c != target]
    if wanted == "all":
        return available
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise CommandError(f"featurize.features names unknown columns: {', '.join(unknown)}")
    return list(wanted)


def split(frame: pd.DataFrame, target: str, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=frame[target])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def build_featurizer(features: list[str], scale: bool) -> ColumnTransformer:
    return ColumnTransformer(
        [("numeric", StandardScaler() if scale else "passthrough", features)],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def main() -> None:
    cfg = settings.load()
    params, target = cfg.section("featurize"), str(cfg.section("data")["target"])
    frame = pd.read_csv(cfg.path(paths.PREPARED))
    features = select_features(frame, target, params["features"])
    train, test = split(frame[[*features, target]], target, params["test_size"], params["seed"])
    featurizer = build_featurizer(features, bool(params["scale"])).fit(train[features])
    for relative, part in ((paths.TRAIN, train), (paths.TEST, test)):
        cfg.path(relative).parent.mkdir(parents=True, exist_ok=True)
        part.to_csv(cfg.path(relative), index=False)
    cfg.path(paths.FEATURIZER).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(featurizer, cfg.path(paths.FEATURIZER))
    print(f"featurize: {len(features)} features, {len(train)} train / {len(test)} test rows")


if __name__ == "__main__":
    main_of(main, "featurize")
