"""Smoke test: every stage in order on the project's data (params.yaml), against a throw-away tracking store.

Skipped when that data is not in this checkout (not pulled); the bundled sample is exported again.
"""

import json
from collections.abc import Iterator

import pandas as pd
import pytest
import yaml
from conftest import copy_inputs, skip_without_data
from mlops_gitops import inputs, registry
from mlops_gitops.errors import CommandError
from mlops_gitops.lineage import file_md5

from {{ cookiecutter.package_name }} import (
    evaluate,
    featurize,
    paths,
    prepare,
    report,
    settings,
    tracking,
    train,
    validate,
)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[settings.Settings]:
    root = tmp_path_factory.mktemp("project")
    if not copy_inputs(root):
        skip_without_data()
    # Held for the module's tests too: they read the registry the stages wrote to, never a
    # server that MLFLOW_TRACKING_URI may name in the caller's shell.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ARTIFACT_LOCATION", "PROJECT_ROOT"):
            patch.delenv(name, raising=False)
        patch.setenv("PR_NUMBER", "17")
        for stage in (prepare, validate, featurize, train, evaluate, report):
            patch.setattr("sys.argv", [stage.__name__])
            stage.main()
        yield settings.load(root)


def test_metrics_and_plots_are_written(ran: settings.Settings) -> None:
    scores = json.loads(ran.path("metrics.json").read_text())
    assert set(scores) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert all(0 <= value <= 1 for name, value in scores.items() if name != "log_loss")
    validation = json.loads(ran.path(paths.VALIDATION).read_text())
    assert validation["status"] == "passed"
    assert sum(validation["class_counts"].values()) == validation["rows"]
    for image in paths.IMAGES:
        assert ran.path(f"plots/{image}").stat().st_size > 1000


def test_candidate_is_registered_with_lineage_and_no_alias(ran: settings.Settings) -> None:
    client = registry.connect(ran)
    registration = tracking.read_registration(ran)
    version = client.get_model_version(ran.model_name, registration["version"])
    assert not version.aliases  # training moves no alias: promotion does, after review
    # The model inputs fingerprint that makes it promotable from a commit holding the same inputs.
    assert version.tags[inputs.FINGERPRINT_TAG] == registration["inputs_fingerprint"]
    here = inputs.fingerprint(inputs.model_inputs(inputs.Tree(ran.root)))
    assert version.tags[inputs.FINGERPRINT_TAG] == here
    assert version.tags["ci.pr_number"] == "17"
    assert version.tags["validation.status"] == "passed"
    tracked = ran.path(f"{ran.section('data')['raw']}.dvc")
    if tracked.is_file():
        assert version.tags["dvc.data.raw.md5"] == yaml.safe_load(tracked.read_text())["outs"][0]["md5"]
    assert version.tags["dvc.data/features/train.csv.md5"] == file_md5(ran.path(paths.TRAIN))
    run = client.get_run(version.run_id)
    assert run.data.metrics["roc_auc"] == pytest.approx(
        json.loads(ran.path("metrics.json").read_text())["roc_auc"]
    )
    assert run.data.params["estimator"] == ran.section("train")["estimator"]
    experiment = client.get_experiment_by_name(ran.experiment)
    assert experiment.artifact_location == (ran.root / "mlartifacts").as_uri()
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "plots")}
    assert artifacts == {f"plots/{image}" for image in paths.IMAGES}


def test_report_links_its_images(ran: settings.Settings) -> None:
    text = ran.path(paths.REPORT).read_text()
    assert "| roc_auc |" in text
    assert "No champion yet" in text
    for image in paths.IMAGES:
        assert f"](plots/{image})" in text
        assert (ran.path("reports/plots") / image).is_file()


def test_bad_data_stops_before_training(ran: settings.Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ran.root)
    monkeypatch.setattr("sys.argv", ["validate"])
    prepared = ran.path(paths.PREPARED)
    target = json.loads(ran.path(paths.VALIDATION).read_text())["target"]
    frame = pd.read_parquet(prepared)
    frame.loc[0, target] = "no-such-label"
    frame.to_parquet(prepared, index=False)
    with pytest.raises(CommandError, match=r"failed validation: target .*unknown labels no-such-label"):
        validate.main()
    assert json.loads(ran.path(paths.VALIDATION).read_text())["status"] == "failed"
    with pytest.raises(CommandError, match="validate stage did not pass"):
        train.main()
