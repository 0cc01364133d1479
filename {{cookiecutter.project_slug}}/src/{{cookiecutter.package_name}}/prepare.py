"""Yours to edit. Stage 1, prepare: read the raw CSV, normalise column names, drop duplicate rows."""

from __future__ import annotations

from mlops_gitops.errors import CommandError, main_of

from . import paths, settings
from .dataset import prepare, read_raw


def main() -> None:
    cfg = settings.load()
    raw_path = str(cfg.section("data")["raw"])
    if not cfg.path(raw_path).is_file():
        raise CommandError(f"{raw_path} is missing: run `dvc pull` (or `make setup`) first")
    frame = prepare(read_raw(str(cfg.path(raw_path))))
    out = cfg.path(paths.PREPARED)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"prepare: {len(frame)} rows, {frame.shape[1]} columns -> {paths.PREPARED}")


if __name__ == "__main__":
    main_of(main, "prepare")
