"""Yours to edit: how the raw CSV is read, its column names normalised and its labels spelled.

The prepare stage and `validate --infer` share it (docs/data.md is the data contract). Types are
not coerced here: a bad value must reach the validate stage intact, so that it is reported there
with its column and row. Every failure is one line that names the file or setting and the fix.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml
from mlops_gitops.errors import CommandError

from . import paths
from .settings import Settings

# The schema (data/schema.yaml): column types, read by validate and featurize.
NUMERIC_TYPES = {"float", "int"}
CATEGORY_TYPES = {"category", "str"}  # `str`: what earlier versions of --infer wrote
TYPES = (*sorted(NUMERIC_TYPES), "category", "ignore")
# libyaml's safe loader and dumper where PyYAML has them: a schema of 2,000 columns in a blink.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

DELIMITERS = ",;\t|"  # what `data.delimiter: auto` recognises
MAX_CLASSES = 20  # more distinct labels than this: the target is not a class (a measurement, an ID)


def normalise_name(name: str) -> str:
    """`Alcohol %` -> `alcohol_pct`, ` Mean Radius ` -> `mean_radius`, `Température` -> `temperature`."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = text.replace("%", " pct ").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def label_text(value: Any) -> str:
    """One spelling per label: `1`, `1.0` and ` 1 ` are `1`; text labels are kept (trimmed)."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def labels_of(raw: pd.Series) -> pd.Series:
    """The target column as label strings (missing labels stay missing): each distinct value is
    spelled once, not each row (a million rows hold a handful of labels)."""
    codes, distinct = pd.factorize(raw)  # missing: code -1, the NaN appended last
    spelled = np.array([*(label_text(v) for v in distinct), np.nan], dtype=object)
    return pd.Series(spelled[codes], index=raw.index, name=raw.name, dtype=object)


def column_names(header: list[str]) -> list[str]:
    return [normalise_name(name) or f"column_{number}" for number, name in enumerate(header, 1)]


def _trimmed(column: pd.Series) -> pd.Series:
    text = column.astype("str").str.strip()  # pandas' text type (Arrow): trimmed at once, not value by value
    return text.where(text != "")


def prepare(raw: pd.DataFrame) -> pd.DataFrame:
    """Normalised column names, values trimmed (an empty value is missing), duplicate rows dropped."""
    frame = pd.DataFrame({number: _trimmed(raw.iloc[:, number]) for number in range(raw.shape[1])})
    frame.columns = column_names(list(raw.columns))
    return frame.drop_duplicates().reset_index(drop=True)


def as_numbers(text: pd.Series) -> np.ndarray:
    """A text column as floats; NaN where a value is missing or not a number. Arrow parses a clean
    column at once, to the same floats as Python's float() (both round correctly); a column it
    refuses (a word, `1_000`, a space) goes value by value through float() as before."""
    try:
        array = pa.array(text, type=pa.string(), from_pandas=True)
        return np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = text.to_numpy(dtype=object)
        return np.vectorize(_number, otypes=[float])(values) if values.size else values.astype(float)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_raw(path: str, delimiter: str = "auto", shown: str = "") -> pd.DataFrame:
    """The CSV as text: UTF-8 only, the delimiter sniffed (or `data.delimiter`), names checked.
    Errors name the file as `shown` (its path in the project)."""
    name = shown or Path(path).name
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CommandError(f"{name} is missing: run `dvc pull` (or `make setup`) first") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CommandError(
            f"{name} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}): save it as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 {name} > utf8.csv` (see docs/data.md)"
        ) from None
    if not text or text.isspace():
        raise CommandError(f"{name} is empty: put the dataset there (dvc pull, or see README)")
    sep = sniff(text) if delimiter == "auto" else delimiter
    del text  # the reads below stream from the bytes: no second and third copy of a large file
    rows = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="\n"), delimiter=sep)
    header = next(rows)
    _check_header(name, header, sep)
    # Arrow's reader: every column as text, empty values missing, in one pass over the bytes
    # (several times faster than pandas' and no Python string per value).
    as_text = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True, null_values=[""]
    )
    layout = pacsv.ParseOptions(delimiter=sep, newlines_in_values=True)
    try:
        table = pacsv.read_csv(io.BytesIO(data), pacsv.ReadOptions(block_size=1 << 24), layout, as_text)
    except pa.ArrowInvalid as exc:
        _check_lines(name, rows, header)  # a line of the wrong width: named as csv counts lines
        detail = str(exc).strip().splitlines()[-1]
        raise CommandError(f"{name} is not a well-formed CSV ({detail}): fix the file") from None
    if table.num_rows == 0:
        raise CommandError(f"{name} has a header but no rows: put the data rows under the header")
    # Names as pandas gives them (an empty one is `Unnamed: <index>`): column_names() normalises them.
    return table.rename_columns([n or f"Unnamed: {i}" for i, n in enumerate(header)]).to_pandas()


def _check_lines(name: str, rows: Any, header: list[str]) -> None:
    for row in rows:
        if row and len(row) != len(header):
            raise CommandError(
                f"{name}: line {rows.line_num} has {len(row)} fields but the header has {len(header)}: "
                "fix that line (a missing name in the header? a wrong data.delimiter?)"
            )


def sniff(text: str) -> str:
    """The delimiter of a CSV text (`,` `;` tab or `|`), from its first lines; `,` when unsure."""
    sample = "\n".join(first_lines(text, 50))
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def first_lines(text: str, count: int) -> list[str]:
    """text.splitlines()[:count], splitting only as much of a large text as it takes."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > count or size >= len(text):  # the last line of a cut may be partial: not used
            return lines[:count]
        size *= 4


def read_prepared(path: Path) -> pd.DataFrame:
    """The prepare stage's output (Parquet: text columns, missing values as nulls)."""
    return pd.read_parquet(path)


def prepared_columns(path: Path, names: list[str]) -> Iterator[tuple[str, pd.Series]]:
    """Columns of the prepare stage's output, read one at a time (the file's footer once): a stage
    that types the data holds one column of it as text, never all of it."""
    file = pq.ParquetFile(path)
    for name in names:
        yield name, file.read(columns=[name]).column(0).to_pandas()


def write_prepared(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def _check_header(name: str, header: list[str], sep: str) -> None:
    seen: dict[str, str] = {}
    for column, key in zip(header, column_names(header), strict=True):
        if key in seen:
            same = "appears twice" if seen[key] == column else f"and '{seen[key]}' both become '{key}'"
            raise CommandError(f"{name}: column '{column}' {same} in the header: rename one of them")
        seen[key] = column
    if len(header) == 1 and any(c in header[0] for c in DELIMITERS if c != sep):
        raise CommandError(
            f"{name} has one column '{header[0][:60]}': set data.delimiter in params.yaml to its separator"
        )


class DataSettings:
    """params.yaml `data`, checked: the target in its normalised spelling, the positive label as text."""

    def __init__(self, cfg: Settings) -> None:
        data = cfg.section("data")
        self.raw = str(data["raw"])
        self.schema = str(data.get("schema", "data/schema.yaml"))
        self.target = normalise_name(str(data["target"]))
        self.delimiter = str(data.get("delimiter") or "auto")
        if self.delimiter != "auto" and len(self.delimiter) != 1:
            raise CommandError(
                f"params.yaml data.delimiter is {self.delimiter!r}: use auto or one character, quoted (';')"
            )
        positive = data.get("positive_label")
        if isinstance(positive, bool):
            word = "yes/true/on" if positive else "no/false/off"
            raise CommandError(
                f"params.yaml data.positive_label is the YAML boolean {str(positive).lower()} (YAML reads "
                f"unquoted {word} so): quote the label, e.g. positive_label: '{'yes' if positive else 'no'}'"
            )
        self.positive_label = None if positive is None or positive == "" else label_text(positive)

    def positive_for(self, classes: list[str]) -> str | None:
        """The positive class for these labels: required for two classes, none for more."""
        listed = ", ".join(repr(c) for c in classes)
        if len(classes) == 2:
            if self.positive_label is None:
                raise CommandError(
                    f"params.yaml data.positive_label is empty but target '{self.target}' has two classes "
                    f"({listed}): set it to the class of interest, quoted"
                )
            if self.positive_label not in classes:
                raise CommandError(
                    f"params.yaml data.positive_label is '{self.positive_label}' but target '{self.target}' "
                    f"has the labels {listed}: set it to one of them, quoted"
                )
            return self.positive_label
        if self.positive_label is not None and len(classes) > 2:
            raise CommandError(
                f"params.yaml data.positive_label is '{self.positive_label}' but target '{self.target}' has "
                f"{len(classes)} classes: set positive_label: null (multi-class: see evaluate.average)"
            )
        return None


def read_validation(cfg: Settings) -> dict[str, Any]:
    """What the validate stage found (reports/validation.json): target, classes, positive label."""
    path = cfg.path(paths.VALIDATION)
    if not path.is_file():
        raise CommandError(f"{paths.VALIDATION} is missing: run the validate stage (make pipeline)")
    result = dict(json.loads(path.read_text(encoding="utf-8")))
    if result.get("status") != "passed":
        raise CommandError("the validate stage did not pass: run `make pipeline` and fix the data first")
    return result


def read_table(path: Path, categorical: list[str], target: str | None = None) -> pd.DataFrame:
    """A split written by featurize, typed again: numbers as floats, categories and labels as text."""
    text = {name: object for name in [*categorical, *([target] if target else [])]}
    frame = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""])
    return frame.astype({name: float for name in frame.columns if name not in text})


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """A split as CSV, laid out as pandas writes it, by Arrow's writer (several times faster): floats
    in their shortest exact spelling (`1001` where pandas writes `1001.0`), so read back to the same
    values. A text value that needs quotes (a comma, a quote, a line break) leaves it to pandas."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(frame.columns)
    try:
        with open(path, "wb") as out:
            out.write(header.getvalue().encode())
            options = pacsv.WriteOptions(include_header=False, quoting_style="none")
            pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), out, options)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        frame.to_csv(path, index=False)


def load_schema(path: Path, shown: str = "") -> dict[str, Any]:
    file = shown or path.name
    try:
        schema = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError:
        raise CommandError(f"{file} is missing: write one with `--infer <csv>`") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise CommandError(f"{file} is not valid YAML{line}: fix its syntax") from None
    if not isinstance(schema, dict) or not all(
        isinstance(schema.get(k), dict) for k in ("target", "columns")
    ):
        raise CommandError(f"{file} needs 'target' and 'columns' sections: see docs/data.md")
    spelled = [("target labels", schema["target"].get("labels") or [])]
    for name, spec in schema["columns"].items():
        if not isinstance(spec, dict) or spec.get("type") not in (*TYPES, "str"):
            kind = spec.get("type") if isinstance(spec, dict) else spec
            raise CommandError(f"{file}: column '{name}' has type {kind!r}: use one of {', '.join(TYPES)}")
        spelled.append((f"column '{name}' values", spec.get("values") or []))
    for where, values in spelled:
        if any(isinstance(v, bool) for v in values):
            raise CommandError(
                f"{file}: {where} hold a YAML boolean (unquoted yes/no/true/false): quote them: 'yes'"
            )
    return schema


def categorical_columns(featurizer: Any) -> list[str]:
    """The columns a fitted featurizer (featurize's ColumnTransformer) one-hot encodes: train and
    evaluate read them back as text."""
    return [c for name, _, columns in featurizer.transformers_ if name == "categorical" for c in columns]
