"""`mlops-gitops monitor report|retrain|capture`: data drift of the serving traffic against the
champion's training data, and the retraining change it may call for.

    mlops-gitops monitor report  [--batches URL_OR_DIR] [--out DIR]   # make monitor
    mlops-gitops monitor retrain [--batches URL_OR_DIR] [--out DIR]   # the retraining PR's change
    mlops-gitops monitor capture --from URL --to DIR                  # SageMaker data capture -> batches

Recent data (the contract): batches of rows, CSV (UTF-8, comma, header) or Parquet files, anywhere
under the batches location: $MONITOR_URL, else params.yaml `monitor.batches`, else the folder
`.dvc-storage/monitoring` of the project (next to the local DVC remote; on a cloud, the
`monitoring/` prefix of the project's bucket: s3://, gs://, az:// read through fsspec). A batch
holds the model's feature columns, spelled as in the header of data/features/train.csv, and may
hold a `prediction` column (a class label, or the probability of the positive class) and the
target column (labels, when they become known; empty where not yet). Any other column is refused.

`report` compares all recent rows with the reference: the featurized training split the champion
(`models:/<model>@champion`) was trained on, found through its lineage tag
`dvc.data/features/train.csv.md5` in the workspace, the DVC cache or the default DVC remote. It
writes <out>/drift.md, <out>/drift.json and <out>/plots/<feature>.png (out: reports/monitoring),
prints one line, and appends `drift=` and `retrain=` to $GITHUB_OUTPUT. Exit 0 when it concluded
(drift or not), 1 with one line when it cannot. The statistics are in mlops_gitops.drift.

`retrain` appends the labelled rows of the batches to the raw data (params.yaml `data.raw`, in its
header order and delimiter), records the new version with `dvc add`, and writes the pull request's
body (<out>/retrain_pr.md). It never commits, pushes or promotes.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from . import drift
from .errors import CommandError, quiet_mlflow, run
from .project import ConfigError, Project, load
from .registry import CHAMPION, connect, load_version, not_found

TRAIN = "data/features/train.csv"  # the featurized training split (the project's paths.TRAIN)
TRAIN_TAG = f"dvc.{TRAIN}.md5"  # its lineage tag on the training run (lineage.training_tags)
DEFAULT_BATCHES = ".dvc-storage/monitoring"
DEFAULT_OUT = "reports/monitoring"
PREDICTION = "prediction"
SUFFIXES = (".csv", ".parquet", ".pq")
CATEGORY_TYPES = {"category", "str"}  # data/schema.yaml types read as text
NUMERIC_NA = ["", "nan", "NaN", "NA", "null", "None"]
RETRAIN_EVERY_DAYS = 30
MIN_ROWS = 200


class MonitorError(CommandError):
    """Monitoring cannot conclude; the message names the problem and the fix."""


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass
class Settings:
    cfg: Project
    batches: str
    limits: drift.Thresholds
    min_rows: int
    retrain_every_days: float
    alerts: list[dict[str, str]]
    target: str
    features: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, cfg: Project, batches: str | None = None) -> Settings:
        section = cfg.params.get("monitor") or {}
        if not isinstance(section, dict):
            raise ConfigError("params.yaml monitor must be a mapping: restore the section from the template")
        location = batches or os.environ.get("MONITOR_URL") or str(section.get("batches") or DEFAULT_BATCHES)
        min_rows = section.get("min_rows", MIN_ROWS)
        every = section.get("retrain_every_days", RETRAIN_EVERY_DAYS)
        for key, value in (("min_rows", min_rows), ("retrain_every_days", every)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ConfigError(f"params.yaml monitor.{key} is {value!r}: use a non-negative number")
        alerts = []
        for entry in section.get("alerts") or []:
            if isinstance(entry, str):
                alerts.append({"name": entry, "url": entry})
            elif isinstance(entry, dict) and entry.get("url"):
                alerts.append({"name": str(entry.get("name") or entry["url"]), "url": str(entry["url"])})
            else:
                raise ConfigError("params.yaml monitor.alerts: each entry is a URL or {name, url}")
        target = normalise_name(str(cfg.section("data").get("target", "")))
        return cls(
            cfg=cfg,
            batches=location,
            limits=drift.Thresholds.from_params(section),
            min_rows=int(min_rows or 0),
            retrain_every_days=math.inf if every is None else float(every),
            alerts=alerts,
            target=target,
        )


def normalise_name(name: str) -> str:
    """The header normalisation of the project's dataset.py: `Mean Radius` -> `mean_radius`."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = text.replace("%", " pct ").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def label_text(value: Any) -> str:
    """One spelling per label (dataset.label_text): `1`, `1.0` and ` 1 ` are `1`."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


# ---------------------------------------------------------------------------------------------
# Where files live: a folder, or a bucket through fsspec


class Location:
    def __init__(self, url: str, root: Path) -> None:
        self.url = url.strip()
        scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", self.url)
        if scheme is None or scheme.group(1) == "file":
            path = Path(self.url.removeprefix("file://")).expanduser()
            self.local: Path | None = path if path.is_absolute() else root / path
            self.fs: Any = None
            self.root = str(self.local)
            return
        if scheme.group(1) not in ("s3", "gs", "gcs", "az", "azure", "abfs", "memory"):
            raise MonitorError(f"'{self.url}' is not a batches location: use a folder, s3://, gs:// or az:// URL")
        import fsspec

        self.local = None
        try:
            self.fs, self.root = fsspec.core.url_to_fs(re.sub(r"^azure://", "az://", self.url))
        except ImportError as exc:
            raise MonitorError(
                f"no client for {self.url} ({exc}): install the project's DVC plugin for that cloud"
            ) from None
        self.root = self.root.rstrip("/")

    def files(self, suffixes: tuple[str, ...]) -> list[str]:
        """Paths relative to the location, sorted."""
        if self.local is not None:
            if not self.local.is_dir():
                return []
            found = [p for p in self.local.rglob("*") if p.is_file() and p.suffix.lower() in suffixes]
            return sorted(str(p.relative_to(self.local)) for p in found)
        try:
            listed = self.fs.find(self.root)
        except FileNotFoundError:
            return []
        return sorted(str(p)[len(self.root) :].lstrip("/") for p in listed if str(p).lower().endswith(suffixes))

    def open(self, relative: str, mode: str = "rb") -> Any:
        if self.local is not None:
            if "w" in mode:
                (self.local / relative).parent.mkdir(parents=True, exist_ok=True)
            return (self.local / relative).open(mode)
        return self.fs.open(f"{self.root}/{relative}", mode)

    def exists(self, relative: str) -> bool:
        if self.local is not None:
            return (self.local / relative).exists()
        return bool(self.fs.exists(f"{self.root}/{relative}"))


# ---------------------------------------------------------------------------------------------
# The reference: the champion's training split


@dataclass
class Champion:
    model: str
    version: str
    run_id: str
    created: str
    commit: str
    md5: str


def find_champion(cfg: Project) -> Champion:
    from mlflow.exceptions import MlflowException

    client = connect(cfg)
    model = cfg.model_name
    try:
        found = client.get_model_version_by_alias(model, CHAMPION)
    except MlflowException as exc:
        if not_found(exc) or "alias" in str(exc).lower():
            raise MonitorError(
                f"model '{model}' has no champion yet (alias {CHAMPION}): promote a version first "
                "(deploy/models.yaml); there is nothing to compare the recent data with"
            ) from None
        raise
    version = load_version(client, cfg, str(found.version))
    md5 = version.run_tags.get(TRAIN_TAG) or version.version_tags.get(TRAIN_TAG)
    if not md5:
        raise MonitorError(
            f"champion v{version.version} of '{model}' has no lineage tag {TRAIN_TAG} (trained before lineage "
            "was recorded?): retrain and promote a version, then monitor it"
        )
    return Champion(
        model, version.version, version.run_id, version.created, version.run_tags.get("git.commit", "unknown"), md5
    )


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def dvc_config(root: Path) -> dict[str, Any]:
    from dvc.config import Config
    from dvc.config import ConfigError as DvcConfigError

    if not (root / ".dvc").is_dir():
        return {}
    try:
        return dict(Config(dvc_dir=str(root / ".dvc")))
    except DvcConfigError as exc:
        raise MonitorError(f"the DVC configuration is invalid ({exc}): fix .dvc/config") from None


def reference_bytes(cfg: Project, md5: str) -> tuple[bytes, str]:
    """The bytes of the file with this md5, and where they came from: the workspace, the DVC cache
    (DVC 3 layout files/md5/<2>/<30>), or the default DVC remote (same layout)."""
    here = cfg.path(TRAIN)
    if here.is_file():
        data = here.read_bytes()
        if md5_bytes(data) == md5:
            return data, f"workspace {TRAIN}"
    config = dvc_config(cfg.root)
    relative = f"files/md5/{md5[:2]}/{md5[2:]}"
    cache = (config.get("cache") or {}).get("dir") or str(cfg.root / ".dvc" / "cache")
    cache_path = Path(cache) if Path(cache).is_absolute() else cfg.root / ".dvc" / cache
    if (cache_path / relative).is_file():
        data = (cache_path / relative).read_bytes()
        if md5_bytes(data) == md5:
            return data, "DVC cache"
    # The remote the workflows use (DVC_REMOTE, as `make pull` does), else .dvc/config's default.
    name = os.environ.get("DVC_REMOTE") or (config.get("core") or {}).get("remote")
    remote = (config.get("remote") or {}).get(name or "", {})
    url = str(remote.get("url") or "")
    if url.startswith("azure://") and remote.get("account_name"):
        # DVC names the account apart; adlfs reads it from az://container@account.blob.core.windows.net.
        container, _, rest = url.removeprefix("azure://").partition("/")
        url = f"az://{container}@{remote['account_name']}.blob.core.windows.net/{rest}"
    if url:
        scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", url)
        if scheme is None and not Path(url).is_absolute():
            url = str((cfg.root / ".dvc" / url).resolve())
        try:
            with Location(url, cfg.root).open(relative) as handle:
                data = handle.read()
        except (FileNotFoundError, OSError):
            data = b""
        if data and md5_bytes(data) == md5:
            return data, f"DVC remote '{name}'"
    where = f"the DVC cache nor remote '{name}' ({url})" if url else "the DVC cache (no default DVC remote)"
    raise MonitorError(
        f"the champion's training split {TRAIN} (md5 {md5}) is neither in the workspace nor in {where}: "
        "run `dvc pull` (make pull), or check out the champion's commit and `dvc repro featurize`"
    )


def load_schema(cfg: Project) -> dict[str, Any]:
    """data/schema.yaml (params data.schema), the validate stage's contract; {} when absent."""
    relative = str(cfg.section("data").get("schema") or "data/schema.yaml")
    path = cfg.path(relative)
    if not path.is_file():
        return {}
    try:
        schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise MonitorError(f"{relative} is not valid YAML: fix its syntax") from None
    return schema if isinstance(schema, dict) and isinstance(schema.get("columns"), dict) else {}


@dataclass
class Reference:
    frame: pd.DataFrame
    features: list[str]
    kinds: dict[str, str]  # numeric | categorical
    source: str
    md5: str


def load_reference(settings: Settings, champion: Champion, schema: dict[str, Any]) -> Reference:
    data, source = reference_bytes(settings.cfg, champion.md5)
    columns = schema.get("columns") or {}
    header = next(csv.reader(io.StringIO(data[:65536].decode("utf-8-sig", "replace").split("\n", 1)[0])))
    text = {c for c in header if (columns.get(c) or {}).get("type") in CATEGORY_TYPES} | {settings.target}
    frame = pd.read_csv(
        io.BytesIO(data), dtype={c: object for c in text if c in header}, keep_default_na=False, na_values=[""]
    )
    if settings.target not in frame.columns:
        raise MonitorError(
            f"the champion's {TRAIN} has no target column '{settings.target}' (params.yaml data.target): "
            "was the target renamed since? monitor a champion trained with this target"
        )
    features = [c for c in frame.columns if c != settings.target]
    kinds = {c: "categorical" if c in text or frame[c].dtype.kind not in "fiu" else "numeric" for c in features}
    for name in features:
        if kinds[name] == "categorical":
            frame[name] = frame[name].astype(object)
    frame[settings.target] = frame[settings.target].map(label_text, na_action="ignore")
    return Reference(frame, features, kinds, source, champion.md5)


# ---------------------------------------------------------------------------------------------
# The recent batches


@dataclass
class Recent:
    columns: dict[str, np.ndarray]
    rows: int
    batches: list[dict[str, Any]]
    has_prediction: bool
    has_target: bool


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]


def read_batch(location: Location, relative: str, ref: Reference, target: str) -> pd.DataFrame:
    """One batch with the reference's feature columns typed as in training; refuses anything else."""
    shown = relative
    parquet = relative.lower().endswith((".parquet", ".pq"))
    try:
        with location.open(relative) as handle:
            if parquet:
                frame = pd.read_parquet(handle)
                original = list(frame.columns)
            else:
                data = handle.read()
                if not data.strip():
                    return pd.DataFrame()
                head = data[:65536].decode("utf-8-sig", "replace").splitlines()[0]
                original = next(csv.reader([head]))
                names = {c: normalise_name(c) for c in original}
                text = {
                    c: object
                    for c, n in names.items()
                    if ref.kinds.get(n) == "categorical" or n in (target, PREDICTION)
                }
                na = {c: ([""] if c in text else NUMERIC_NA) for c in original}
                frame = pd.read_csv(
                    io.BytesIO(data), dtype=text, keep_default_na=False, na_values=na, encoding="utf-8-sig"
                )
                del data
    except FileNotFoundError:
        raise MonitorError(f"batch {shown} disappeared while reading: run again") from None
    except UnicodeDecodeError as exc:
        raise MonitorError(f"batch {shown} is not UTF-8 ({_first_line(exc)}): write batches as UTF-8 CSV") from None
    except Exception as exc:  # pandas, pyarrow and fsspec raise many kinds for an unreadable file
        kind = "Parquet" if parquet else "CSV"
        raise MonitorError(
            f"batch {shown} cannot be read as {kind} ({exc.__class__.__name__}: {_first_line(exc)}): fix or remove it"
        ) from None
    frame.columns = [normalise_name(c) for c in original]
    if frame.columns.duplicated().any():
        twice = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise MonitorError(f"batch {shown}: column(s) {', '.join(twice)} appear twice: fix the writer")
    missing = [c for c in ref.features if c not in frame.columns]
    extra = [c for c in frame.columns if c not in ref.features and c not in (target, PREDICTION)]
    if missing:
        shown_missing = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise MonitorError(
            f"batch {shown} lacks the feature column(s) {shown_missing}: a batch holds the columns of {TRAIN}'s "
            f"header (+ optional '{PREDICTION}' and '{target}')"
        )
    if extra:
        raise MonitorError(
            f"batch {shown} has column(s) the model does not use: {', '.join(extra[:8])}: drop them "
            f"(a batch holds the columns of {TRAIN}'s header, + optional '{PREDICTION}' and '{target}')"
        )
    for name in ref.features:
        column = frame[name]
        if ref.kinds[name] == "categorical":
            if column.dtype != object:
                frame[name] = column.astype(object).where(column.notna(), None).map(str, na_action="ignore")
            continue
        if column.dtype.kind in "fiu":
            continue
        numbers = pd.to_numeric(column, errors="coerce")
        bad = numbers.isna().to_numpy() & column.notna().to_numpy()
        if bad.any() or column.dtype.kind == "b":
            first = int(np.argmax(bad)) if bad.any() else 0
            count = int(bad.sum()) if bad.any() else len(column)
            raise MonitorError(
                f"batch {shown}: column '{name}' should hold numbers but has {count} non-numeric values "
                f"(first: {column.iloc[first]!r} in row {first + 1}): fix the writer, or leave missing values empty"
            )
        frame[name] = numbers.astype(float)
    for name in (target, PREDICTION):
        if name in frame.columns:
            frame[name] = (
                frame[name].astype(object).where(frame[name].notna(), None).map(label_text, na_action="ignore")
            )
    return frame


def read_recent(settings: Settings, ref: Reference) -> Recent:
    location = Location(settings.batches, settings.cfg.root)
    found = location.files(SUFFIXES)
    if not found:
        raise MonitorError(
            f"no batches (*.csv, *.parquet) in {settings.batches}: write recent rows there "
            "(or set MONITOR_URL / params.yaml monitor.batches; SageMaker: `mlops-gitops monitor capture`)"
        )
    parts: dict[str, list[np.ndarray]] = {}
    batches: list[dict[str, Any]] = []
    rows = 0
    extras = (settings.target, PREDICTION)
    present = {name: 0 for name in extras}
    empty: list[str] = []
    for relative in found:
        frame = read_batch(location, relative, ref, settings.target)
        batches.append({"name": relative, "rows": len(frame)})
        if frame.empty:
            empty.append(relative)
            continue
        rows += len(frame)
        for name in [*ref.features, *extras]:
            if name in frame.columns:
                if name in extras:
                    present[name] += 1
                parts.setdefault(name, []).append(frame[name].to_numpy())
            elif name in extras:
                parts.setdefault(name, []).append(np.full(len(frame), None, dtype=object))
        del frame
    if rows == 0:
        raise MonitorError(
            f"the recent batches in {settings.batches} hold no rows ({', '.join(empty[:3])}"
            f"{' ...' if len(empty) > 3 else ''} empty): nothing to compare; check what writes them"
        )
    if rows < settings.min_rows:
        raise MonitorError(
            f"only {rows} recent rows in {settings.batches}; at least {settings.min_rows} are needed for a "
            "verdict (params.yaml monitor.min_rows): wait for more traffic"
        )
    for relative in empty:
        print(f"monitor: batch {relative} is empty: skipped", file=sys.stderr)
    columns = {}
    for name in list(parts):
        chunks = parts.pop(name)
        columns[name] = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        del chunks
    has_prediction = present[PREDICTION] > 0 and bool(pd.notna(columns[PREDICTION]).any())
    has_target = present[settings.target] > 0 and bool(pd.notna(columns[settings.target]).any())
    return Recent(columns, rows, batches, has_prediction, has_target)


# ---------------------------------------------------------------------------------------------
# The comparison


def schema_checks(name: str, values: np.ndarray, kind: str, spec: dict[str, Any], max_nulls: float | None) -> list[str]:
    """The validate stage's column checks, on the recent values of one feature."""
    problems = []
    missing = np.asarray(pd.isna(values), dtype=bool)
    if max_nulls is not None and len(values) and missing.mean() > max_nulls:
        problems.append(
            f"{int(missing.sum())} missing values ({missing.mean():.1%}; "
            f"validate.max_null_fraction allows {max_nulls:.0%})"
        )
    present = values[~missing]
    if kind == "categorical":
        allowed = {str(v) for v in spec.get("values") or []}
        if allowed:
            unknown = sorted(set(np.unique(present.astype(str)).tolist()) - allowed)
            if unknown:
                problems.append(f"values not in data/schema.yaml: {', '.join(repr(v) for v in unknown[:5])}")
        return problems
    present = present.astype(float)
    infinite = np.isinf(present)
    if infinite.any():
        problems.append(f"{int(infinite.sum())} infinite values")
    finite = present[~infinite]
    if spec.get("type") == "int" and (finite % 1 != 0).any():
        problems.append(f"{int((finite % 1 != 0).sum())} non-integer values")
    low, high = spec.get("min", -math.inf), spec.get("max", math.inf)
    outside = int(((finite < low) | (finite > high)).sum())
    if outside:
        problems.append(f"{outside} values outside [{low}, {high}] (data/schema.yaml)")
    return problems


def predicted_classes(values: np.ndarray, labels: list[str], cfg: Project) -> np.ndarray:
    """Predictions as class labels: labels stay; probabilities of the positive class are thresholded."""
    present = values[np.asarray(pd.notna(values), dtype=bool)].astype(str)
    if not len(present) or np.isin(present, labels).all():
        return values
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    positive = cfg.params.get("data", {}).get("positive_label")
    threshold = float((cfg.params.get("evaluate") or {}).get("threshold", 0.5))
    if positive is None or len(labels) != 2 or np.isnan(numbers[pd.notna(values)]).any():
        return values  # compared as they are: unseen values then show as new categories
    positive = label_text(positive)
    negative = next(label for label in labels if label != positive)
    out = np.where(numbers >= threshold, positive, negative).astype(object)
    out[np.isnan(numbers)] = None
    return out


def compare(settings: Settings, ref: Reference, recent: Recent, schema: dict[str, Any]) -> list[drift.Result]:
    columns = schema.get("columns") or {}
    max_nulls = (settings.cfg.params.get("validate") or {}).get("max_null_fraction")
    results = []
    for name in ref.features:
        values = recent.columns[name]
        if ref.kinds[name] == "numeric":
            result = drift.numeric(name, ref.frame[name].to_numpy(dtype=float), values.astype(float), settings.limits)
        else:
            result = drift.categorical(name, ref.frame[name].to_numpy(dtype=object), values, settings.limits)
        result.schema = schema_checks(name, values, ref.kinds[name], columns.get(name) or {}, max_nulls)
        result.reasons += [f"schema: {p}" for p in result.schema]
        results.append(result)
    labels = ref.frame[settings.target].to_numpy(dtype=object)
    known = sorted({str(v) for v in labels if v is not None and not (isinstance(v, float) and math.isnan(v))})
    if recent.has_prediction:
        classes = predicted_classes(recent.columns[PREDICTION], known, settings.cfg)
        result = drift.categorical(PREDICTION, labels, classes, settings.limits, kind="prediction")
        result.reasons = [r for r in result.reasons if not r.startswith("missing")]  # unscored rows are fine
        results.append(result)
    if recent.has_target:
        given = recent.columns[settings.target]
        result = drift.categorical(settings.target, labels, given, settings.limits, kind="label")
        result.reasons = [r for r in result.reasons if not r.startswith("missing")]  # labels come later
        results.append(result)
    return results


# ---------------------------------------------------------------------------------------------
# The report


def plot_name(feature: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", feature) or "column"


def draw(result: drift.Result, reference: np.ndarray, recent: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=90)
    try:
        if result.kind == "numeric" and result.ks_statistic is not None:
            ref = reference[np.isfinite(reference)]
            new = recent[np.isfinite(recent)]
            low = float(min(np.quantile(ref, 0.005), np.quantile(new, 0.005)))
            high = float(max(np.quantile(ref, 0.995), np.quantile(new, 0.995)))
            bins = np.linspace(low, high if high > low else low + 1, 31)
            for values, label, colour in ((ref, "training", "#4c72b0"), (new, "recent", "#dd8452")):
                counts, _ = np.histogram(values, bins=bins)
                ax.stairs(
                    counts / max(counts.sum(), 1), bins, label=label, color=colour, fill=label == "training", alpha=0.6
                )
            ax.set_ylabel("share of rows")
        elif result.shares:
            top = sorted(result.shares, key=lambda c: -max(result.shares[c]))[:12]
            x = np.arange(len(top))
            ax.bar(x - 0.2, [result.shares[c][0] for c in top], 0.4, label="training", color="#4c72b0")
            ax.bar(x + 0.2, [result.shares[c][1] for c in top], 0.4, label="recent", color="#dd8452")
            ax.set_xticks(x, [c[:10] for c in top], rotation=30, fontsize=7)
            ax.set_ylabel("share of rows")
        else:
            shares = [result.missing_reference, result.missing_recent]
            ax.bar(["training", "recent"], shares, color=["#4c72b0", "#dd8452"])
            ax.set_ylabel("share missing")
            ax.set_ylim(0, 1)
        ax.set_title(result.name, fontsize=9)
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def terraform_answers(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"{}]*)"\s*$', text, flags=re.MULTILINE))


def alert_links(settings: Settings) -> list[dict[str, str]]:
    """The cloud console page of the serving alarms / alert policies (terraform/<cloud>/serving
    names them `<project>-<env>-...`), and any links of params.yaml monitor.alerts."""
    links = []
    serving = settings.cfg.path("terraform")
    answers = terraform_answers(serving / "aws" / "serving" / "answers.tf")
    if answers.get("region") and answers.get("project"):
        region, project = answers["region"], answers["project"]
        links.append({
            "name": f"AWS CloudWatch alarms {project}-<env>-5xx / -latency-p95 (SageMaker endpoint)",
            "url": f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:?search={project}-",
        })  # fmt: skip
    answers = terraform_answers(serving / "gcp" / "serving" / "answers.tf")
    if answers.get("project_id"):
        links.append({
            "name": f"Google Cloud Monitoring alert policies '{answers.get('project', '')}-<env>: 5xx ratio / "
            "p95 latency' (Cloud Run)",
            "url": f"https://console.cloud.google.com/monitoring/alerting/policies?project={answers['project_id']}",
        })  # fmt: skip
    answers = terraform_answers(serving / "azure" / "serving" / "answers.tf")
    if answers.get("project"):
        links.append({
            "name": f"Azure Monitor alert rules {answers['project']}-<env>-5xx / -latency (Container Apps)",
            "url": "https://portal.azure.com/#view/Microsoft_Azure_Monitoring/AzureMonitoringBrowseBlade/~/alertsV2",
        })  # fmt: skip
    return links + settings.alerts


def retrain_due(settings: Settings, champion: Champion, now: datetime | None = None) -> tuple[bool, float]:
    created = datetime.fromisoformat(champion.created)
    days = ((now or datetime.now(UTC)) - created).total_seconds() / 86400
    return days >= settings.retrain_every_days, days


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def render(summary: dict[str, Any]) -> str:
    champ, recent = summary["champion"], summary["recent"]
    drifted = summary["drifted"]
    lines = [f"# Drift report: {champ['model']} v{champ['version']} ({CHAMPION})", ""]
    verdict = (
        f"**Drift** in {len(drifted)} column(s): {', '.join(f'`{d}`' for d in drifted)}."
        if drifted
        else "**No drift**: every feature and the predictions are within the thresholds."
    )
    lines += [verdict, ""]
    retrain = summary["retrain"]
    lines += [
        f"- Recent data: {recent['rows']:,} rows in {len(recent['batches'])} batch(es) from `{recent['location']}`",
        f"- Reference: `{TRAIN}` md5 `{champ['reference_md5']}` ({summary['reference']['rows']:,} rows, "
        f"the champion's training split, read from the {summary['reference']['source']})",
        f"- Champion: v{champ['version']}, run `{champ['run_id']}`, commit `{champ['commit'][:12]}`, "
        f"registered {champ['created']}",
        f"- Retraining: {'**due**' if retrain['due'] else 'not due'} ({retrain['reason']})",
        f"- Generated {summary['generated_at']}",
        "",
        "## Serving health",
        "",
    ]
    alerts = summary["alerts"]
    lines += [f"- [{a['name']}]({a['url']})" for a in alerts] or [
        "- No serving alerts known here (no terraform/<cloud>/serving; list links in params.yaml monitor.alerts)."
    ]
    lines += ["", "## Columns", ""]
    lines += [
        "| column | kind | drift | PSI | KS D (p) | chi² p / TV | missing (train → recent) | why |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in sorted(summary["columns"], key=lambda c: (not c["drift"], c["name"])):
        ks = (
            f"{_fmt(item['ks_statistic'], '{:.3f}')} ({_fmt(item['ks_pvalue'], '{:.1e}')})"
            if item["ks_statistic"] is not None
            else "-"
        )
        chi = (
            f"{_fmt(item['chi2_pvalue'], '{:.1e}')} / {_fmt(item['tvd'], '{:.2f}')}"
            if item["chi2_pvalue"] is not None
            else "-"
        )
        missing = f"{item['missing_reference']:.1%} → {item['missing_recent']:.1%}"
        why = "; ".join(item["reasons"]).replace("|", "\\|")
        lines.append(
            f"| `{item['name']}` | {item['kind']} | {'**yes**' if item['drift'] else 'no'} | {_fmt(item['psi'])} | "
            f"{ks} | {chi} | {missing} | {why} |"
        )
    plots = [c for c in summary["columns"] if c["plot"]]
    if plots:
        lines += ["", "## Drifted columns", ""]
        for item in plots:
            lines += [f"### `{item['name']}`", "", f"![{item['name']}]({item['plot']})", ""]
    t = summary["thresholds"]
    lines += [
        "",
        "## How drift is decided (params.yaml `monitor:`)",
        "",
        f"- numbers: Kolmogorov-Smirnov p < {t['ks_pvalue']:g} and (D ≥ {t['ks_statistic']:g} or PSI ≥ {t['psi']:g}; "
        f"PSI on {t['psi_bins']} quantile bins of the training split)",
        f"- categories, predictions, labels: chi² p < {t['chi2_pvalue']:g} and (total variation ≥ {t['tvd']:g} "
        f"or PSI ≥ {t['psi']:g}); or unseen categories on ≥ {t['new_category_share']:.0%} of rows",
        f"- missing values: share up by ≥ {t['missing_increase']:.0%}; "
        "schema: the validate stage's checks of data/schema.yaml",
        f"- at least {summary['min_rows']} recent rows (monitor.min_rows); "
        f"retraining every {summary['retrain_every_days']:g} days",
        "",
    ]
    return "\n".join(lines)


def report(settings: Settings, out: Path) -> dict[str, Any]:
    champion = find_champion(settings.cfg)
    schema = load_schema(settings.cfg)
    ref = load_reference(settings, champion, schema)
    recent = read_recent(settings, ref)
    results = compare(settings, ref, recent, schema)
    due, days = retrain_due(settings, champion)
    drifted = [r.name for r in results if r.drift]
    plots = out / "plots"
    if plots.is_dir():
        shutil.rmtree(plots)  # plots of an earlier run must not stay behind
    if drifted:
        plots.mkdir(parents=True, exist_ok=True)
    for result in results:
        if not result.drift:
            continue
        if result.kind == "numeric":
            reference_values = ref.frame[result.name].to_numpy(dtype=float)
            draw(
                result,
                reference_values,
                recent.columns[result.name].astype(float),
                plots / f"{plot_name(result.name)}.png",
            )
        else:
            draw(result, np.empty(0), np.empty(0), plots / f"{plot_name(result.name)}.png")
        result.plot = f"plots/{plot_name(result.name)}.png"
    if drifted:
        reason = f"drift in {len(drifted)} column(s)"
    elif due:
        reason = f"the champion is {days:.0f} days old (monitor.retrain_every_days: {settings.retrain_every_days:g})"
    else:
        reason = f"no drift; the champion is {days:.0f} of {settings.retrain_every_days:g} days old"
    summary = {
        "verdict": "drift" if drifted else "no drift",
        "drift": bool(drifted),
        "drifted": drifted,
        "retrain": {
            "due": bool(drifted) or due,
            "schedule_due": due,
            "reason": reason,
            "champion_age_days": round(days, 2),
        },
        "champion": {
            "model": champion.model,
            "version": champion.version,
            "run_id": champion.run_id,
            "created": champion.created,
            "commit": champion.commit,
            "reference_md5": champion.md5,
        },
        "reference": {"path": TRAIN, "rows": len(ref.frame), "source": ref.source},
        "recent": {"location": settings.batches, "rows": recent.rows, "batches": recent.batches},
        "columns": [r.as_dict() for r in results],
        "thresholds": dict(settings.limits.__dict__),
        "min_rows": settings.min_rows,
        "retrain_every_days": settings.retrain_every_days if math.isfinite(settings.retrain_every_days) else None,
        "alerts": alert_links(settings),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "drift.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    summary_for_md = {**summary, "retrain_every_days": settings.retrain_every_days}
    (out / "drift.md").write_text(render(summary_for_md), encoding="utf-8")
    return summary


def github_output(values: dict[str, bool]) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.writelines(f"{k}={'true' if v else 'false'}\n" for k, v in values.items())


# ---------------------------------------------------------------------------------------------
# Retraining: append the labelled rows to the raw data


def sniff(text: str, delimiter: str) -> str:
    if delimiter and delimiter != "auto":
        return delimiter
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value)


def retrain(settings: Settings, out: Path) -> str:
    cfg = settings.cfg
    raw_relative = str(cfg.section("data").get("raw") or "")
    raw_path, dvc_file = cfg.path(raw_relative), cfg.path(f"{raw_relative}.dvc")
    if not raw_path.is_file():
        raise MonitorError(f"{raw_relative} (params.yaml data.raw) is missing: run `dvc pull` (make pull) first")
    if not dvc_file.is_file():
        raise MonitorError(
            f"{raw_relative}.dvc is missing: the raw data must be tracked by DVC (`dvc add {raw_relative}`)"
        )
    champion = find_champion(cfg)
    schema = load_schema(cfg)
    ref = load_reference(settings, champion, schema)
    recent = read_recent(settings, ref)
    if not recent.has_target:
        raise MonitorError(
            f"no labelled row in the recent batches (column '{settings.target}' empty or absent): "
            "nothing to add to the training data yet"
        )
    labelled = np.asarray(pd.notna(recent.columns[settings.target]), dtype=bool)
    original = raw_path.read_bytes()
    text = original.decode("utf-8-sig", errors="replace")
    sep = sniff(text, str(cfg.section("data").get("delimiter") or "auto"))
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=sep))
    names = [normalise_name(c) for c in header]
    wanted = [*ref.features, settings.target]
    lacking = [h for h, n in zip(header, names, strict=True) if n not in wanted]
    unknown = [c for c in wanted if c not in names]
    if lacking or unknown:
        parts = []
        if lacking:
            parts.append(f"{raw_relative} has column(s) the batches lack: {', '.join(lacking[:8])}")
        if unknown:
            parts.append(f"the batches have column(s) {raw_relative} lacks: {', '.join(unknown[:8])}")
        raise MonitorError(f"columns do not match: {'; '.join(parts)}: nothing written")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    selected = {n: recent.columns[n][labelled] for n in names}
    count = int(labelled.sum())
    for index in range(count):
        writer.writerow([_cell(selected[n][index]) for n in names])
    before = _dvc_md5(dvc_file)
    dvc_before = dvc_file.read_bytes()
    addition = buffer.getvalue().encode("utf-8")
    try:
        with raw_path.open("ab") as handle:
            if original and not original.endswith(b"\n"):
                handle.write(b"\n")
            handle.write(addition)
        done = subprocess.run(
            [sys.executable, "-m", "dvc", "add", raw_relative],
            cwd=cfg.root, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
            raise MonitorError(
                f"`dvc add {raw_relative}` failed ({last[:200]}): {raw_relative} and its .dvc file restored"
            )
    except BaseException:
        raw_path.write_bytes(original)
        dvc_file.write_bytes(dvc_before)
        raise
    after = _dvc_md5(dvc_file)
    body = pr_body(settings, out, raw_relative, count, recent.rows, before, after, champion)
    out.mkdir(parents=True, exist_ok=True)
    (out / "retrain_pr.md").write_text(body, encoding="utf-8")
    return (
        f"monitor: {count} labelled rows of {recent.rows} appended to {raw_relative} "
        f"(md5 {before[:8]} -> {after[:8]}); PR body in {out / 'retrain_pr.md'}"
    )


def _dvc_md5(path: Path) -> str:
    try:
        return str(yaml.safe_load(path.read_text(encoding="utf-8"))["outs"][0]["md5"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return "unknown"


def pr_body(
    settings: Settings, out: Path, raw: str, added: int, rows: int, before: str, after: str, champion: Champion
) -> str:
    summary_path, report_path = out / "drift.json", out / "drift.md"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    if summary and summary.get("drift"):
        why = f"Data drift in {', '.join(f'`{d}`' for d in summary['drifted'])} (see the report below)."
    elif summary and summary.get("retrain", {}).get("due"):
        why = f"Scheduled retraining: {summary['retrain']['reason']}."
    else:
        why = "Requested by hand (no drift report found in " + str(out) + ")."
    lines = [
        f"# Retrain {champion.model} on recent labelled data",
        "",
        f"**Why**: {why}",
        "",
        f"- Rows added to `{raw}`: {added:,} labelled of {rows:,} recent rows",
        f"- Raw data version (`{raw}.dvc` md5): `{before}` → `{after}`",
        f"- Current champion: v{champion.version} (commit `{champion.commit[:12]}`)",
        "",
        "The PR pipeline retrains on this data and registers a candidate; promoting it is a separate, "
        "reviewed change of deploy/models.yaml. Nothing is promoted automatically.",
        "",
    ]
    if report_path.is_file():
        text = report_path.read_text(encoding="utf-8").replace("](plots/", f"]({out.name}/plots/")
        lines += ["<details><summary>Drift report</summary>", "", text, "", "</details>", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# SageMaker data capture -> batches


def _decode(part: dict[str, Any]) -> tuple[str, str]:
    """(content type, text) of a captured endpointInput / endpointOutput."""
    data = str(part.get("data") or "")
    if str(part.get("encoding", "")).upper() == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
    return str(part.get("observedContentType") or ""), data


def _input_frame(kind: str, data: str, columns: list[str]) -> pd.DataFrame:
    if "json" in kind or data.lstrip().startswith(("{", "[")):
        body = json.loads(data)
        if isinstance(body, dict) and "dataframe_split" in body:
            split = body["dataframe_split"]
            return pd.DataFrame(split["data"], columns=split.get("columns") or columns[: len(split["data"][0])])
        if isinstance(body, dict) and "dataframe_records" in body:
            return pd.DataFrame(body["dataframe_records"])
        rows = body.get("instances", body.get("inputs")) if isinstance(body, dict) else body
        if isinstance(rows, dict):
            return pd.DataFrame(rows)
        if rows and isinstance(rows[0], dict):
            return pd.DataFrame(rows)
        rows = [rows] if rows and not isinstance(rows[0], list) else rows
        return pd.DataFrame(rows, columns=columns[: len(rows[0])] if rows else None)
    lines = [line for line in data.splitlines() if line.strip()]
    first = next(csv.reader([lines[0]])) if lines else []
    has_header = any(_not_number(v) for v in first)
    frame = pd.read_csv(
        io.StringIO("\n".join(lines)), header=0 if has_header else None, dtype=str, keep_default_na=False
    )
    if not has_header:
        if len(frame.columns) != len(columns):
            raise MonitorError(
                f"a captured CSV request has {len(frame.columns)} values per row but the model has {len(columns)} "
                "features: send a header row, or check the request format"
            )
        frame.columns = columns
    return frame


def _not_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return bool(value.strip())
    return False


def _predictions(kind: str, data: str) -> list[Any]:
    if "json" in kind or data.lstrip().startswith(("{", "[")):
        body = json.loads(data)
        values = body.get("predictions", body.get("outputs", body)) if isinstance(body, dict) else body
        if isinstance(values, dict):
            values = next(iter(values.values()))
        out = []
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, dict):
                value = next(iter(value.values()))
            if isinstance(value, list):
                value = value[-1] if value else None
            out.append(value)
        return out
    return [line.split(",")[-1].strip() for line in data.splitlines() if line.strip()]


def capture_records(lines: Iterator[str], columns: list[str], shown: str) -> pd.DataFrame:
    frames = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            captured = record["captureData"]
            kind, data = _decode(captured["endpointInput"])
            frame = _input_frame(kind, data, columns)
            if "endpointOutput" in captured:
                out_kind, out_data = _decode(captured["endpointOutput"])
                predictions = _predictions(out_kind, out_data)
                if len(predictions) == len(frame):
                    frame[PREDICTION] = predictions
        except MonitorError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
            raise MonitorError(
                f"{shown} line {number} is not a SageMaker data capture record ({exc.__class__.__name__}: "
                f"{_first_line(exc)}): expected captureData.endpointInput {{observedContentType, mode, data, encoding}}"
            ) from None
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def feature_columns(cfg: Project) -> list[str]:
    """The model's input columns when a captured CSV has no header: the header of the workspace's
    training split, else the schema's columns (not `ignore`) in order."""
    target = normalise_name(str(cfg.section("data").get("target", "")))
    path = cfg.path(TRAIN)
    if path.is_file():
        with path.open(encoding="utf-8-sig") as handle:
            return [c for c in next(csv.reader(handle), []) if c != target]
    columns = load_schema(cfg).get("columns") or {}
    return [name for name, spec in columns.items() if (spec or {}).get("type") != "ignore"]


def capture(cfg: Project, source: str, target: str) -> str:
    origin, destination = Location(source, cfg.root), Location(target, cfg.root)
    found = origin.files((".jsonl",))
    if not found:
        raise MonitorError(
            f"no data capture files (*.jsonl) under {source}: is data capture on (terraform/aws/serving)?"
        )
    columns = feature_columns(cfg)
    written = skipped = rows = 0
    for relative in found:
        name = "capture-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", relative.removesuffix(".jsonl")) + ".csv"
        if destination.exists(name):
            skipped += 1
            continue
        with origin.open(relative) as handle:
            text = handle.read().decode("utf-8")
        frame = capture_records(iter(text.splitlines()), columns, relative)
        if frame.empty:
            continue
        with destination.open(name, "wb") as handle:
            handle.write(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        written += 1
        rows += len(frame)
    return (
        f"monitor: {written} batch(es) ({rows} rows) written to {target} from {len(found)} capture file(s); "
        f"{skipped} already there"
    )


# ---------------------------------------------------------------------------------------------
# Command line


def verdict_line(summary: dict[str, Any], out: Path) -> str:
    champ, rows = summary["champion"], summary["recent"]["rows"]
    features = sum(1 for c in summary["columns"] if c["kind"] in ("numeric", "categorical"))
    reference = summary["reference"]["rows"]
    base = f"on {rows:,} recent rows vs champion v{champ['version']}'s training split ({reference:,} rows)"
    retrain = "retraining due" if summary["retrain"]["due"] else "no retraining due"
    if summary["drift"]:
        shown = ", ".join(summary["drifted"][:6]) + (" ..." if len(summary["drifted"]) > 6 else "")
        head = f"monitor: DRIFT in {len(summary['drifted'])} column(s) ({shown})"
    else:
        head = f"monitor: no drift in {features} features" + (
            " and predictions" if any(c["kind"] == "prediction" for c in summary["columns"]) else ""
        )
    return f"{head} {base}; {retrain}; report {out / 'drift.md'}"


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="mlops-gitops monitor", description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    commands = {
        "report": "compare recent batches with the champion's training data",
        "retrain": "append the labelled recent rows to the raw data (dvc add) and write the PR body",
    }
    for name, text in commands.items():
        command = sub.add_parser(name, help=text)
        command.add_argument(
            "--batches", help="folder or s3:// gs:// az:// URL (default $MONITOR_URL, params monitor.batches)"
        )
        command.add_argument("--out", default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
    grab = sub.add_parser("capture", help="convert SageMaker data capture (JSON Lines) into CSV batches")
    grab.add_argument(
        "--from", dest="source", required=True, help="capture prefix: s3://<bucket>/datacapture/<env>, or a folder"
    )
    grab.add_argument("--to", dest="target", required=True, help="batches location (folder or URL)")
    args = top.parse_args(argv)
    quiet_mlflow()

    def go() -> None:
        cfg = load()
        if args.command == "capture":
            print(capture(cfg, args.source, args.target))
            return
        settings = Settings.load(cfg, args.batches)
        out = Path(args.out) if Path(args.out).is_absolute() else cfg.root / args.out
        if args.command == "report":
            summary = report(settings, out)
            github_output({"drift": summary["drift"], "retrain": summary["retrain"]["due"]})
            print(verdict_line(summary, out.relative_to(cfg.root) if out.is_relative_to(cfg.root) else out))
        else:
            print(retrain(settings, out))

    return run(go, f"monitor {args.command}")
