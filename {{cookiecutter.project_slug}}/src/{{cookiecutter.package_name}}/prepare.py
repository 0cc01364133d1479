"""Yours to edit. Stage 1, prepare: read the raw CSV, normalise names, trim values, drop duplicate rows.

The prepared file is Parquet whatever the raw file's delimiter (`data.delimiter`): every column
as text, as in the raw file but trimmed, missing values as nulls; the stages after this one read it
without parsing a CSV again (columnar, compressed). docs/data.md describes the rules.
"""

from __future__ import annotations

from mlops_gitops.errors import CommandError, main_of

from . import paths, settings
from .dataset import DataSettings, prepare, read_raw, write_prepared


def main() -> None:
    cfg = settings.load()
    data = DataSettings(cfg)
    if not cfg.path(data.raw).is_file():
        raise CommandError(f"{data.raw} is missing: run `dvc pull` (or `make setup`) first")
    frame = prepare(read_raw(str(cfg.path(data.raw)), data.delimiter, shown=data.raw))
    out = cfg.path(paths.PREPARED)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_prepared(frame, out)
    print(f"prepare: {len(frame)} rows, {frame.shape[1]} columns -> {paths.PREPARED}")


if __name__ == "__main__":
    main_of(main, "prepare")
