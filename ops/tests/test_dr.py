"""Disaster recovery of the registry (`mlops-gitops dr`): backup, restore, and their bad inputs.

Registries are SQLite stores built with mlops_gitops.testing.register_candidate; each version gets
model files of its own (a run-path model, as older MLflow logged them, and an MLflow 3 logged
model), so a restore is checked byte for byte. The drill itself (pipeline, DVC replica, the
champion's predictions) runs in a generated project: tests/test_dr_drill.py of the template.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import mlflow.artifacts
import pytest

from mlops_gitops import dr
from mlops_gitops.errors import run as run_command


def add_files(registry: Any, version: str, text: str) -> None:
    """Model files where the version's source says they are (its run's `model/` folder)."""
    found = registry.client.get_model_version(registry.model, version)
    folder = Path(registry.cfg.root) / f"files-{version}"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text(f"flavors: {{}}\n# {text}\n")
    (folder / "sub" / "weights.bin").write_bytes(os.urandom(64))
    registry.client.log_artifacts(found.run_id, str(folder), "model")


def logged_model_version(registry: Any) -> str:
    """A version of an MLflow 3 logged model (what `log_model(registered_model_name=...)` makes)."""
    client, cfg = registry.client, registry.cfg
    experiment = client.get_experiment_by_name(cfg.experiment).experiment_id
    run = client.create_run(experiment, tags={"git.commit": "abc"})
    client.log_param(run.info.run_id, "estimator", "logistic_regression")
    logged = client.create_logged_model(experiment, name="model", source_run_id=run.info.run_id, params={"C": "1"})
    folder = Path(cfg.root) / "logged"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "model.skops").write_bytes(os.urandom(128))
    client.log_model_artifacts(logged.model_id, str(folder))
    client.finalize_logged_model(logged.model_id, "READY")
    client.set_terminated(run.info.run_id)
    version = client.create_model_version(
        cfg.model_name, f"models:/{logged.model_id}", run_id=run.info.run_id, model_id=logged.model_id
    )
    return str(version.version)


@pytest.fixture
def filled(registry: Any) -> Any:
    """v1, v2 (deleted), v3 (champion, with a description and evidence tags), v4 (a logged model, staging)."""
    client, name = registry.client, registry.model
    for q in (0.4, 0.5, 0.6):
        version = registry.register(q)
        add_files(registry, version, f"v{version}")
    client.delete_model_version(name, "2")
    client.set_model_version_tag(name, "3", "promotion.production.pr", "7")
    client.update_model_version(name, "3", description="the champion")
    client.set_registered_model_tag(name, "team", "ml")
    client.update_registered_model(name, description="diagnosis model")
    client.log_metric(client.get_model_version(name, "3").run_id, "loss", 0.5, step=1)
    assert logged_model_version(registry) == "4"
    client.set_registered_model_alias(name, "champion", "3")
    client.set_registered_model_alias(name, "staging", "4")
    return registry


def state(client: Any, name: str) -> dict[str, Any]:
    """Everything promotion and lineage read, run ids replaced by their content."""
    model = client.get_registered_model(name)
    versions = {}
    for v in client.search_model_versions(f"name = '{name}'"):
        found = client.get_run(v.run_id)
        tags = {k: t for k, t in v.tags.items() if not k.startswith("dr.")}
        run_tags = {k: t for k, t in found.data.tags.items() if not k.startswith("dr.")}
        history = sorted(
            (m.key, m.value, m.step, m.timestamp)
            for k in found.data.metrics
            for m in client.get_metric_history(v.run_id, k)
        )
        local = Path(mlflow.artifacts.download_artifacts(client.get_model_version_download_uri(name, v.version)))
        files = {str(p.relative_to(local)): p.read_bytes() for p in local.rglob("*") if p.is_file()}
        versions[str(v.version)] = {
            "tags": tags,
            "description": v.description,
            "params": found.data.params,
            "metrics": history,
            "run_tags": run_tags,
            "start": found.info.start_time,
            "status": found.info.status,
            "files": files,
        }
    return {
        "aliases": dict(model.aliases),
        "tags": {k: t for k, t in model.tags.items() if not k.startswith("dr.")},
        "description": model.description,
        "versions": versions,
    }


def backup(registry: Any, url: str) -> tuple[int, str, str]:
    registry.capsys.readouterr()
    code = dr.main(["backup", "--to", url])
    out, err = registry.capsys.readouterr()
    return code, out, err


def restore(registry: Any, url: str, into: Path) -> tuple[int, str, str]:
    registry.capsys.readouterr()
    code = dr.main(["restore", "--from", url, "--into", f"sqlite:///{into}"])
    out, err = registry.capsys.readouterr()
    return code, out, err


def test_backup_is_plain_files_with_checksums_and_incremental(filled: Any, tmp_path: Path) -> None:
    target = tmp_path / "backup"
    code, out, err = backup(filled, str(target))
    assert code == 0, err
    assert "3 versions" in out and "files copied" in out
    (snapshot,) = (target / "snapshots").iterdir()
    manifest = json.loads((snapshot / "manifest.json").read_text())
    registry = (snapshot / "registry.json").read_bytes()
    assert manifest["files"]["registry.json"]["sha256"] == dr.sha256_bytes(registry)
    for sha, size in manifest["blobs"].items():
        blob = target / dr.blob_path(sha)
        assert dr.sha256_file(blob) == sha and blob.stat().st_size == size
    document = json.loads(registry)
    (model,) = document["models"]
    assert [v["version"] for v in model["versions"]] == ["1", "3", "4"]
    assert model["aliases"] == {"champion": "3", "staging": "4"}

    code, again, _ = backup(filled, str(target))
    assert code == 0 and again.startswith("backup: nothing new since snapshot") and "nothing copied" in again
    assert len(list((target / "snapshots").iterdir())) == 1

    filled.client.set_model_version_tag(filled.model, "1", "note", "changed")
    code, third, _ = backup(filled, str(target))
    assert code == 0 and "0 files copied" in third  # a new snapshot, the files already there
    assert len(list((target / "snapshots").iterdir())) == 2


def test_restore_rebuilds_numbers_aliases_tags_runs_and_files_and_is_idempotent(filled: Any, tmp_path: Path) -> None:
    before = state(filled.client, filled.model)
    assert backup(filled, str(tmp_path / "backup"))[0] == 0
    into = tmp_path / "restored" / "mlflow.db"
    code, out, err = restore(filled, str(tmp_path / "backup"), into)
    assert code == 0, err
    assert "version numbers preserved" in out
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{into}", registry_uri=f"sqlite:///{into}")
    assert state(client, filled.model) == before  # v2 stays a gap: its placeholder was deleted
    restored = client.get_model_version(filled.model, "3")
    assert (
        client.get_run(restored.run_id).data.tags[dr.TAG_SOURCE_RUN]
        == filled.client.get_model_version(filled.model, "3").run_id
    )
    assert dr.TAG_REGISTERED in restored.tags

    code, again, _ = restore(filled, str(tmp_path / "backup"), into)
    assert code == 0 and "already holds snapshot" in again and "nothing to do" in again
    assert state(client, filled.model) == before


def test_restore_into_a_non_empty_registry_refuses_and_changes_nothing(filled: Any, tmp_path: Path) -> None:
    assert backup(filled, str(tmp_path / "backup"))[0] == 0
    # The source registry itself is not empty: restoring into it must not touch it.
    before = state(filled.client, filled.model)
    code, out, err = restore(
        filled, str(tmp_path / "backup"), Path(str(filled.client.tracking_uri)[len("sqlite:///") :])
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "is not empty" in err and "nothing was changed" in err
    assert state(filled.client, filled.model) == before


def test_a_bad_checksum_refuses_before_writing_anything(filled: Any, tmp_path: Path) -> None:
    target = tmp_path / "backup"
    assert backup(filled, str(target))[0] == 0
    blob = next(p for p in (target / "blobs").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[0] ^= 1
    blob.write_bytes(bytes(data))
    into = tmp_path / "restored" / "mlflow.db"
    code, _, err = restore(filled, str(target), into)
    assert code == 1 and err.count("\n") == 1
    assert "bad checksum" in err and "nothing was written" in err
    assert not into.exists()


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["restore"], {"FROM": ""}, "dr restore: FROM is missing: make restore FROM="),
        (["backup"], {"BACKUP_URL": ""}, "dr backup: BACKUP_URL is empty"),
        (["restore", "--from", "{tmp}/nothing"], {}, "holds no backup"),
        (["restore", "--from", "ftp://host/x"], {}, "is not a backup location"),
    ],
)
def test_bad_input_is_one_line(
    project: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv,
    env,
    expected,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'target.db'}")
    code = dr.main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "target.db").exists()


def test_a_backup_of_a_model_that_does_not_exist_writes_nothing(registry: Any, tmp_path: Path) -> None:
    code, _, err = backup(registry, str(tmp_path / "backup"))
    assert code == 1 and "is not in the registry" in err
    assert not (tmp_path / "backup").exists()


def test_errors_go_through_the_one_line_rule() -> None:
    assert run_command(lambda: (_ for _ in ()).throw(dr.DrError("x")), "dr") == 1
