"""Drift monitoring (`mlops-gitops monitor`): synthetic batches from the bundled breast-cancer data.

The reference is the featurized training split as featurize writes it (80 % stratified, seed 42,
target `malignant`), plus one category column `site` (a/b/c) so that categories are exercised too.
A champion is registered in a SQLite registry with the split's md5 as its lineage tag.

Measured (test_unchanged_samples_raise_no_alarm, printed with -s): 0 false alarms in 25 seeds of
500 rows resampled from the training split (31 features + predictions: 800 column tests, 25 runs).
Each drift case is caught on exactly its columns: a +1 sd mean shift on three features, a new
category on 20 % of rows, a column of nulls, flipped predictions.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops_gitops import monitor
from mlops_gitops.lineage import file_md5
from mlops_gitops.project import load

SHIFTED = ["mean_radius", "mean_texture", "worst_area"]
SEEDS = 25
ROWS = 500


def bundled() -> pd.DataFrame:
    """The project's dataset (sample_data.export): normalised names, target `malignant` (1 = malignant)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame.columns = [c.strip().lower().replace(" ", "_") for c in frame.columns]
    rng = np.random.default_rng(7)
    frame["site"] = rng.choice(["a", "b", "c"], size=len(frame), p=[0.5, 0.3, 0.2])
    return frame.assign(malignant=(bunch.target == 0).astype(int))


@pytest.fixture(scope="module")
def split() -> pd.DataFrame:
    from sklearn.model_selection import train_test_split

    frame = bundled()
    train, _ = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["malignant"])
    return train.reset_index(drop=True)


def schema_for(frame: pd.DataFrame) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name in frame.columns:
        if name == "malignant":
            continue
        if name == "site":
            columns[name] = {"type": "category", "values": ["a", "b", "c"]}
        else:
            columns[name] = {"type": "float", "min": 0.0, "max": round(float(frame[name].max()) * 3, 3)}
    return {"target": {"name": "malignant", "labels": ["0", "1"]}, "columns": columns}


@pytest.fixture
def monitored(registry: Any, split: pd.DataFrame) -> Any:
    """A project whose champion was trained on `split` (data/features/train.csv, md5 in its lineage)."""
    root = registry.cfg.root
    params = dict(registry.cfg.params)
    params["data"] = {
        "raw": "data/raw/dataset.csv",
        "schema": "data/schema.yaml",
        "target": "malignant",
        "positive_label": "1",
    }
    params["validate"] = {"min_rows": 100, "max_null_fraction": 0.1, "min_class_fraction": 0.2}
    params["evaluate"] = {"threshold": 0.5}
    params["monitor"] = {"batches": ".dvc-storage/monitoring", "min_rows": 200, "retrain_every_days": 30}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "data/schema.yaml").write_text(yaml.safe_dump(schema_for(split), sort_keys=False))
    train = root / monitor.TRAIN
    train.parent.mkdir(parents=True, exist_ok=True)
    split.to_csv(train, index=False, float_format="%.6g", lineterminator="\n")
    registry.cfg = load(root)
    version = registry.register()
    run_id = registry.client.get_model_version(registry.model, version).run_id
    registry.client.set_tag(run_id, monitor.TRAIN_TAG, file_md5(train))
    registry.client.set_registered_model_alias(registry.model, "champion", version)
    registry.batches = root / ".dvc-storage" / "monitoring"
    registry.batches.mkdir(parents=True)
    return registry


def sample(split: pd.DataFrame, seed: int, rows: int = ROWS) -> pd.DataFrame:
    """Unchanged traffic: rows resampled from the training split, predictions of a 95 %-accurate model."""
    rng = np.random.default_rng(seed)
    batch = split.iloc[rng.integers(0, len(split), rows)].reset_index(drop=True)
    wrong = rng.random(rows) < 0.05
    batch["prediction"] = np.where(wrong, 1 - batch["malignant"], batch["malignant"])
    return batch.drop(columns=["malignant"])


def write(registry: Any, batch: pd.DataFrame, name: str = "batch.csv") -> Path:
    for old in registry.batches.iterdir():
        old.unlink()
    path = registry.batches / name
    if name.endswith(".parquet"):
        batch.to_parquet(path)
    else:
        batch.to_csv(path, index=False, lineterminator="\n")
    return path


def report(registry: Any, *extra: str) -> tuple[int, str, str, dict[str, Any] | None]:
    registry.capsys.readouterr()
    code = monitor.main(["report", *extra])
    out, err = registry.capsys.readouterr()
    path = registry.cfg.root / "reports/monitoring/drift.json"
    summary = json.loads(path.read_text()) if path.is_file() and code == 0 else None
    return code, out, err, summary


def test_unchanged_samples_raise_no_alarm(monitored: Any, split: pd.DataFrame) -> None:
    alarms: dict[str, int] = {}
    for seed in range(SEEDS):
        write(monitored, sample(split, seed))
        code, out, err, summary = report(monitored)
        assert code == 0, err
        assert summary is not None and out.startswith("monitor: no drift in 31 features and predictions")
        for column in summary["drifted"]:
            alarms[column] = alarms.get(column, 0) + 1
    tests = SEEDS * 32
    count = sum(alarms.values())
    print(f"\nfalse alarms: {count} in {tests} column tests over {SEEDS} seeds: false-alarm rate {count / tests:.2%}")
    assert alarms == {}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_mean_shift_is_caught_on_exactly_the_shifted_features(monitored: Any, split: pd.DataFrame, seed: int) -> None:
    batch = sample(split, seed)
    for name in SHIFTED:
        batch[name] = batch[name] + split[name].std()
    write(monitored, batch)
    code, out, _, summary = report(monitored)
    assert code == 0 and summary is not None
    assert sorted(summary["drifted"]) == sorted(SHIFTED)
    assert out.startswith("monitor: DRIFT in 3 column(s)")
    root = monitored.cfg.root / "reports/monitoring"
    assert sorted(p.name for p in (root / "plots").iterdir()) == sorted(f"{n}.png" for n in SHIFTED)
    text = (root / "drift.md").read_text()
    assert "![mean_radius](plots/mean_radius.png)" in text and "**Drift** in 3 column(s)" in text


def test_a_new_category_is_caught_on_that_column(monitored: Any, split: pd.DataFrame) -> None:
    batch = sample(split, 4)
    batch.loc[np.random.default_rng(4).random(len(batch)) < 0.2, "site"] = "d"
    write(monitored, batch, "batch.parquet")
    code, _, _, summary = report(monitored)
    assert code == 0 and summary is not None and summary["drifted"] == ["site"]
    site = next(c for c in summary["columns"] if c["name"] == "site")
    assert site["new_categories"] == ["d"] and any("schema: values not in" in r for r in site["reasons"])


def test_a_column_of_nulls_is_caught_on_that_column(monitored: Any, split: pd.DataFrame) -> None:
    batch = sample(split, 5)
    batch["mean_smoothness"] = np.nan
    write(monitored, batch)
    code, _, _, summary = report(monitored)
    assert code == 0 and summary is not None and summary["drifted"] == ["mean_smoothness"]


def test_flipped_predictions_are_prediction_drift_only(
    monitored: Any, split: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = sample(split, 6)
    batch["prediction"] = 1 - batch["prediction"]
    write(monitored, batch)
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    code, _, _, summary = report(monitored)
    assert code == 0 and summary is not None and summary["drifted"] == ["prediction"]
    assert output.read_text() == "drift=true\nretrain=true\n"


def test_probabilities_are_thresholded_and_an_old_champion_is_due_for_retraining(
    monitored: Any, split: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = sample(split, 7)
    batch["prediction"] = np.where(batch["prediction"] == 1, 0.9, 0.1)
    write(monitored, batch)
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    code, _, _, summary = report(monitored)
    assert code == 0 and summary is not None and not summary["drift"]
    assert output.read_text() == "drift=false\nretrain=false\n"
    params = yaml.safe_load((monitored.cfg.root / "params.yaml").read_text())
    params["monitor"]["retrain_every_days"] = 0
    (monitored.cfg.root / "params.yaml").write_text(yaml.safe_dump(params))
    code, out, _, summary = report(monitored)
    assert code == 0 and summary is not None and summary["retrain"]["due"] and not summary["drift"]
    assert output.read_text().endswith("drift=false\nretrain=true\n") and "retraining due" in out


def test_large_samples_do_not_alarm_on_a_tiny_shift_but_do_on_a_real_one() -> None:
    """The effect-size floors: with 50,000 reference and 200,000 recent rows a 0.05 sd shift is
    highly significant (p ~ 1e-60) yet stays quiet (KS D ~ 0.02, PSI ~ 0.003); 0.5 sd alarms."""
    from mlops_gitops import drift

    rng = np.random.default_rng(0)
    reference, limits = rng.normal(size=50_000), drift.Thresholds()
    tiny = drift.numeric("x", reference, rng.normal(0.05, 1, 200_000), limits)
    assert tiny.ks_pvalue is not None and tiny.ks_pvalue < 1e-10 and not tiny.drift
    assert drift.numeric("x", reference, rng.normal(0.5, 1, 200_000), limits).drift
    shares = rng.choice(["a", "b"], 200_000, p=[0.52, 0.48]).astype(object)
    small = drift.categorical("c", rng.choice(["a", "b"], 50_000).astype(object), shares, limits)
    assert small.chi2_pvalue is not None and small.chi2_pvalue < 1e-10 and not small.drift


def test_the_reference_comes_from_the_dvc_cache_when_the_workspace_changed(monitored: Any, split: pd.DataFrame) -> None:
    train = monitored.cfg.root / monitor.TRAIN
    md5 = file_md5(train)
    cached = monitored.cfg.root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(train.read_bytes())
    train.write_text("changed\n")
    write(monitored, sample(split, 9))
    code, _, err, summary = report(monitored)
    assert code == 0, err
    assert summary is not None and summary["reference"]["source"] == "DVC cache"
    cached.unlink()
    code, _, err, _ = report(monitored)
    assert code == 1 and "is neither in the workspace nor in the DVC cache" in err and err.count("\n") == 1


def bad(registry: Any, write_batch: Any) -> str:
    write_batch()
    code, out, err, _ = report(registry)
    assert code == 1 and out == "" and err.count("\n") == 1, err
    return err


def garbage(path: Path) -> None:
    path.unlink()
    path.with_suffix(".parquet").write_bytes(b"garbage")


def test_bad_batches_fail_in_one_line(monitored: Any, split: pd.DataFrame) -> None:
    good = sample(split, 10)
    cases = {
        "header only": (lambda: write(monitored, good.head(0)), "hold no rows"),
        "zero bytes": (lambda: write(monitored, good.head(0), "a.csv").write_bytes(b""), "hold no rows"),
        "too few rows": (lambda: write(monitored, good.head(50)), "only 50 recent rows"),
        "missing column": (lambda: write(monitored, good.drop(columns=["mean_area"])), "lacks the feature column(s)"),
        "extra column": (lambda: write(monitored, good.assign(request_id=1)), "model does not use: request_id"),
        "wrong type": (
            lambda: write(monitored, good.assign(mean_area=["abc", *good["mean_area"][1:]])),
            "column 'mean_area' should hold numbers but has 1 non-numeric values (first: 'abc' in row 1)",
        ),
        "not parquet": (lambda: garbage(write(monitored, good.head(0))), "cannot be read as Parquet"),
        "not utf-8": (lambda: write(monitored, good).write_bytes("site\n\xe9t\xe9\n".encode("latin-1")), "not UTF-8"),
        "nothing there": (lambda: write(monitored, good).unlink(), "no batches (*.csv, *.parquet)"),
    }  # fmt: skip
    for case, (action, expected) in cases.items():
        err = bad(monitored, action)
        assert err.startswith("monitor report: ") and expected in err, (case, err)
        with monitored.capsys.disabled():
            print(f"\n{case}: {err.strip()}")


def test_an_empty_batch_beside_a_good_one_is_skipped(monitored: Any, split: pd.DataFrame) -> None:
    write(monitored, sample(split, 11))
    (monitored.batches / "empty.csv").write_bytes(b"")
    code, _, err, summary = report(monitored)
    assert code == 0 and "batch empty.csv is empty: skipped" in err
    assert summary is not None and summary["recent"]["rows"] == ROWS


def test_no_champion_yet(monitored: Any, split: pd.DataFrame) -> None:
    monitored.client.delete_registered_model_alias(monitored.model, "champion")
    write(monitored, sample(split, 12))
    err = bad(monitored, lambda: None)
    assert f"model '{monitored.model}' has no champion yet" in err
    assert not (monitored.cfg.root / "reports/monitoring/drift.json").exists()


# ---------------------------------------------------------------------------------------------
# retrain


@pytest.fixture
def tracked(monitored: Any, split: pd.DataFrame) -> Any:
    """The raw data as a DVC-tracked CSV (an unnormalised header, as a user's file may have)."""
    root = monitored.cfg.root
    (root / ".dvc/config").unlink()
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-f", "-q"], cwd=root, check=True)
    raw = split.head(300).rename(columns={"mean_radius": "Mean Radius"})
    raw.to_csv(root / "data/raw/dataset.csv", index=False, float_format="%.6g", lineterminator="\n")
    (root / "data/raw/dataset.csv.dvc").unlink()
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data/raw/dataset.csv"], cwd=root, check=True)
    return monitored


def retrain(registry: Any) -> tuple[int, str, str]:
    registry.capsys.readouterr()
    code = monitor.main(["retrain"])
    out, err = registry.capsys.readouterr()
    return code, out, err


def test_retrain_appends_the_labelled_rows_and_records_the_new_version(tracked: Any, split: pd.DataFrame) -> None:
    root = tracked.cfg.root
    batch = sample(split, 13).assign(malignant=split["malignant"].head(ROWS).astype(object))
    batch.loc[100:, "malignant"] = None  # 100 rows labelled so far
    batch["mean_radius"] = batch["mean_radius"] + 100  # recognisable rows
    write(tracked, batch)
    before = (root / "data/raw/dataset.csv.dvc").read_text()
    code, _, err, _ = report(tracked)
    assert code == 0, err
    code, out, err = retrain(tracked)
    assert code == 0, err
    raw = pd.read_csv(root / "data/raw/dataset.csv")
    assert len(raw) == 400 and raw.columns[0] == "Mean Radius"
    assert (raw["Mean Radius"].tail(100) > 100).all() and raw["malignant"].notna().all()
    after = (root / "data/raw/dataset.csv.dvc").read_text()
    assert after != before and yaml.safe_load(after)["outs"][0]["md5"] == file_md5(root / "data/raw/dataset.csv")
    body = (root / "reports/monitoring/retrain_pr.md").read_text()
    assert (
        "Data drift in `mean_radius`" in body and "100 labelled of 500 recent rows" in body and "Drift report" in body
    )
    assert "100 labelled rows of 500 appended" in out


def test_retrain_refuses_without_labels_or_with_other_columns(tracked: Any, split: pd.DataFrame) -> None:
    root = tracked.cfg.root
    raw, dvc_file = root / "data/raw/dataset.csv", root / "data/raw/dataset.csv.dvc"
    before = (raw.read_bytes(), dvc_file.read_bytes())
    write(tracked, sample(split, 14))
    code, _, err = retrain(tracked)
    assert code == 1 and "no labelled row in the recent batches" in err and err.count("\n") == 1
    assert (raw.read_bytes(), dvc_file.read_bytes()) == before
    raw.write_text(raw.read_text().replace("worst_area", "area_worst"))
    before = (raw.read_bytes(), dvc_file.read_bytes())
    write(tracked, sample(split, 14).assign(malignant=1))
    code, _, err = retrain(tracked)
    assert code == 1 and "columns do not match" in err and "area_worst" in err and err.count("\n") == 1
    assert (raw.read_bytes(), dvc_file.read_bytes()) == before
    assert not (root / "reports/monitoring/retrain_pr.md").exists()


# ---------------------------------------------------------------------------------------------
# capture


def capture_record(body: str, content_type: str, output: str, base64_encoded: bool = False) -> str:
    """One line of a SageMaker data capture file, in the documented format (JSON Lines)."""
    data = base64.b64encode(body.encode()).decode() if base64_encoded else body
    encoding = "BASE64" if base64_encoded else ("JSON" if "json" in content_type else "CSV")
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                               "data": output, "encoding": "JSON"},
        },
        "eventMetadata": {"eventId": "3d1c5a8e-0000-4000-8000-000000000000", "inferenceTime": "2025-01-01T10:00:00Z"},
        "eventVersion": "0",
    })  # fmt: skip


def test_capture_contract_sagemaker_jsonl_becomes_batches_the_report_reads(
    monitored: Any, split: pd.DataFrame, tmp_path: Path
) -> None:
    """Contract test: capture files as SageMaker writes them (s3://<bucket>/datacapture/<env>/<endpoint>/
    <variant>/yyyy/mm/dd/hh/*.jsonl; captureData.endpointInput/endpointOutput {observedContentType,
    mode, data, encoding}) become CSV batches with the feature columns and `prediction`."""
    rows = sample(split, 15, rows=300)
    features = rows.drop(columns=["prediction"])
    lines = []
    for start in range(0, 300, 3):
        chunk = features.iloc[start : start + 3]
        predictions = json.dumps({"predictions": rows["prediction"].iloc[start : start + 3].tolist()})
        if start % 2:
            split_body = json.dumps({"dataframe_split": chunk.to_dict(orient="split", index=False)})
            lines.append(capture_record(split_body, "application/json", predictions))
        else:
            lines.append(
                capture_record(chunk.to_csv(index=False), "text/csv", predictions, base64_encoded=start % 4 == 0)
            )
    source = tmp_path / "datacapture/prod/endpoint/main/2025/01/01/10"
    source.mkdir(parents=True)
    (source / "capture-1.jsonl").write_text("\n".join(lines) + "\n")
    code = monitor.main(["capture", "--from", str(tmp_path / "datacapture/prod"), "--to", str(monitored.batches)])
    out, err = monitored.capsys.readouterr()
    assert code == 0, err
    assert "1 batch(es) (300 rows)" in out
    written = list(monitored.batches.iterdir())
    assert len(written) == 1
    batch = pd.read_csv(written[0])
    assert list(batch.columns) == [*features.columns, "prediction"]
    assert np.allclose(batch["mean_radius"], features["mean_radius"])
    code, _, err, summary = report(monitored)
    assert code == 0 and summary is not None and summary["drifted"] == [], err
    monitor.main(["capture", "--from", str(tmp_path / "datacapture/prod"), "--to", str(monitored.batches)])
    assert "0 batch(es) (0 rows)" in monitored.capsys.readouterr()[0]  # idempotent: already converted
    (source / "capture-2.jsonl").write_text('{"captureData": {}}\n')
    assert monitor.main(["capture", "--from", str(tmp_path / "datacapture/prod"), "--to", str(tmp_path / "out")]) == 1
    assert "capture-2.jsonl line 1 is not a SageMaker data capture record" in monitored.capsys.readouterr()[1]
