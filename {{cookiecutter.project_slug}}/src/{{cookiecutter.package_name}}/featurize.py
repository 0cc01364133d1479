"""Yours to edit. Stage 3, featurize: split train/test (stratified) and fit the feature transformer on train.

The fitted transformer is saved, not applied: train puts it in front of the classifier, so the
registered model takes raw columns (missing values, category text) and serving cannot drift from
training. Numbers are imputed and scaled; categories imputed and one-hot encoded, a category the
model never saw becoming all zeros. `featurize.impute` chooses how missing values are filled.
"""

from __future__ import annotations

from typing import Any

import joblib
import pandas as pd
from mlops_gitops.errors import CommandError, main_of
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import paths, settings
from .dataset import (
    CATEGORY_TYPES,
    as_numbers,
    labels_of,
    load_schema,
    prepared_columns,
    read_validation,
    write_table,
)

IMPUTE = {
    "numeric": ("median", "mean", "most_frequent", "constant"),  # constant: 0
    "categorical": ("most_frequent", "constant"),  # constant: the category "missing"
}
DEFAULT_IMPUTE = {"numeric": "median", "categorical": "most_frequent"}


def feature_kinds(schema: dict[str, Any]) -> dict[str, str]:
    """Each schema column the model may use: `numeric` or `categorical` (`ignore` columns are left out)."""
    return {
        name: "categorical" if spec["type"] in CATEGORY_TYPES else "numeric"
        for name, spec in schema["columns"].items()
        if spec["type"] != "ignore"
    }


def select_features(kinds: dict[str, str], wanted: Any) -> list[str]:
    if wanted == "all":
        return list(kinds)
    unknown = [c for c in wanted if c not in kinds]
    if unknown:
        raise CommandError(
            f"featurize.features names unknown or ignored columns: {', '.join(unknown)} (data/schema.yaml)"
        )
    return list(wanted)


def as_input(text: pd.Series, kind: str) -> Any:
    """A prepared text column as model input: numbers as floats (as validate read them), categories
    and labels as text."""
    if kind == "numeric":
        return as_numbers(text)
    return labels_of(text) if kind == "label" else text.astype(object)


def typed(frame: pd.DataFrame, kinds: dict[str, str], target: str) -> pd.DataFrame:
    """The prepared text as model input (as_input), the target last."""
    columns = {**kinds, target: "label"}
    return pd.DataFrame(
        {name: as_input(frame[name], kind) for name, kind in columns.items()}, index=frame.index
    )


def split(frame: pd.DataFrame, target: str, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=frame[target])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def impute_policy(params: dict[str, Any]) -> dict[str, str]:
    policy = {**DEFAULT_IMPUTE, **(params.get("impute") or {})}
    for kind, allowed in IMPUTE.items():
        if policy[kind] not in allowed:
            raise CommandError(
                f"params.yaml featurize.impute.{kind} is '{policy[kind]}': use one of {', '.join(allowed)}"
            )
    return policy


def build_featurizer(
    numeric: list[str], categorical: list[str], scale: bool = True, impute: dict[str, str] | None = None
) -> ColumnTransformer:
    policy = impute or DEFAULT_IMPUTE
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy=policy["numeric"], fill_value=0.0)),
            ("scale", StandardScaler() if scale else "passthrough"),
        ]
    )
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy=policy["categorical"], fill_value="missing")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    parts = [("numeric", numbers, numeric)]
    if categorical:
        parts.append(("categorical", categories, categorical))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def main() -> None:
    cfg = settings.load()
    params = cfg.section("featurize")
    target = str(read_validation(cfg)["target"])
    schema = str(cfg.section("data")["schema"])
    kinds = feature_kinds(load_schema(cfg.path(schema), schema))
    features = select_features(kinds, params["features"])
    kinds = {name: kinds[name] for name in features}
    # The prepared data read once and typed a column at a time: its text is never whole in memory
    # as pandas, and the typed whole is not kept once split (peak memory).
    kinds_and_label = {**kinds, target: "label"}
    columns = prepared_columns(cfg.path(paths.PREPARED), list(kinds_and_label))
    frame = pd.DataFrame({name: as_input(text, kinds_and_label[name]) for name, text in columns})
    train, test = split(frame, target, params["test_size"], params["seed"])
    del frame
    numeric = [n for n, kind in kinds.items() if kind == "numeric"]
    categorical = [n for n, kind in kinds.items() if kind == "categorical"]
    featurizer = build_featurizer(numeric, categorical, bool(params["scale"]), impute_policy(params))
    featurizer.fit(train[features])
    for relative, part in ((paths.TRAIN, train), (paths.TEST, test)):
        cfg.path(relative).parent.mkdir(parents=True, exist_ok=True)
        write_table(part, cfg.path(relative))
    cfg.path(paths.FEATURIZER).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(featurizer, cfg.path(paths.FEATURIZER))
    print(
        f"featurize: {len(numeric)} numeric and {len(categorical)} categorical features, "
        f"{len(train)} train / {len(test)} test rows"
    )


if __name__ == "__main__":
    main_of(main, "featurize")
