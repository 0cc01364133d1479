"""Stage 1, prepare: read the raw CSV, normalise column names, drop duplicate rows.

Types are not coerced here: a bad value must reach the validate stage intact, so that it is
reported there with its column and row rather than silently turned into a number.
"""

from __future__ import annotations

import re

import pandas as pd

from . import settings
from .cli import StageError, run

OUTPUT = "data/prepared/dataset.csv"


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def prepare(raw: pd.DataFrame) -> pd.DataFrame:
    frame = raw.rename(columns=normalise_name)
    return frame.drop_duplicates().reset_index(drop=True)


def read_raw(path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise StageError(f"{path} is empty: put the dataset there (dvc pull, or see README)") from None
    except pd.errors.ParserError as exc:
        raise StageError(f"{path} is not a well-formed CSV ({exc}): fix the file") from None


def main() -> None:
    cfg = settings.load()
    raw_path = str(cfg.section("data")["raw"])
    if not cfg.path(raw_path).is_file():
        raise StageError(f"{raw_path} is missing: run `dvc pull` (or `make setup`) first")
    frame = prepare(read_raw(str(cfg.path(raw_path))))
    out = cfg.path(OUTPUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"prepare: {len(frame)} rows, {frame.shape[1]} columns -> {OUTPUT}")


if __name__ == "__main__":
    run(main, "prepare")
