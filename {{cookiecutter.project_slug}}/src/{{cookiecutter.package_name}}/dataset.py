"""Yours to edit: how the raw CSV is read and its column names normalised.

The prepare stage and `validate --infer` share it. Types are not coerced here: a bad value must
reach the validate stage intact, so that it is reported there with its column and row.
"""

from __future__ import annotations

import re

import pandas as pd
from mlops_gitops.errors import CommandError


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def prepare(raw: pd.DataFrame) -> pd.DataFrame:
    frame = raw.rename(columns=normalise_name)
    return frame.drop_duplicates().reset_index(drop=True)


def read_raw(path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path} is empty: put the dataset there (dvc pull, or see README)") from None
    except pd.errors.ParserError as exc:
        raise CommandError(f"{path} is not a well-formed CSV ({exc}): fix the file") from None
