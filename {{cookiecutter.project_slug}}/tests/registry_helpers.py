"""Test helpers for promotion and lineage: a throw-away local registry and candidates without training.

A migrated SQLite store costs seconds to create, so one empty store is made per session and copied
into each test's project folder. Candidates are runs with metrics and lineage tags plus a model
version, exactly the registry state that `train` leaves, without fitting a model.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }} import promote, settings

ROOT = Path(__file__).resolve().parents[1]
_NAMES = itertools.count(1)
EVIDENCE = ["--pr", "7", "--approvers", "alice,bob", "--commit", "0123456789abcdef", "--run-url", "local"]


def quality(cfg: settings.Settings, q: float) -> float:
    """A primary-metric value for a quality q in [0, 1] that meets the floors; higher q is better."""
    gate = cfg.section("gate")
    return 0.86 + 0.13 * q if gate["higher_is_better"] else 0.34 - 0.3 * q


def metrics_for(cfg: settings.Settings, q: float) -> dict[str, float]:
    values = {
        "accuracy": 0.95,
        "precision": 0.95,
        "recall": 0.95,
        "f1": 0.95,
        "roc_auc": 0.97,
        "log_loss": 0.1,
    }
    values[str(cfg.section("gate")["primary_metric"])] = quality(cfg, q)
    return values


@dataclass
class Registry:
    cfg: settings.Settings
    client: Any
    capsys: pytest.CaptureFixture[str]

    @property
    def model(self) -> str:
        return self.cfg.model_name

    def register(
        self,
        q: float = 0.5,
        *,
        branch: str = "main",
        validation: str | None = "passed",
        experiment: str | None = None,
        metrics: dict[str, float] | None = None,
    ) -> str:
        """A candidate version as `train` registers it; returns its version number."""
        from mlflow.exceptions import MlflowException

        name = experiment or self.cfg.experiment
        found = self.client.get_experiment_by_name(name)
        artifacts = (self.cfg.root / "mlartifacts").as_uri()
        experiment_id = found.experiment_id if found else self.client.create_experiment(name, artifacts)
        tags = {
            "git.commit": "89abcdef01234567",
            "git.branch": branch,
            "git.dirty": "false",
            "dvc.data.raw.md5": "d41d8cd98f00b204e9800998ecf8427e",
        }
        if validation is not None:
            tags["validation.status"] = validation
        run = self.client.create_run(experiment_id, tags=tags)
        for key, value in (metrics or metrics_for(self.cfg, q)).items():
            self.client.log_metric(run.info.run_id, key, value)
        self.client.log_param(run.info.run_id, "estimator", "random_forest")
        self.client.set_terminated(run.info.run_id)
        with contextlib.suppress(MlflowException):
            self.client.create_registered_model(self.model)
        version = self.client.create_model_version(
            self.model, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
        return str(version.version)

    def desire(self, staging: str | None = None, production: str | None = None) -> None:
        text = self.cfg.path(promote.DESIRED_STATE).read_text(encoding="utf-8")
        text = promote.edit_desired(text, "staging", staging)
        text = promote.edit_desired(text, "production", production)
        self.cfg.path(promote.DESIRED_STATE).write_text(text, encoding="utf-8")

    def aliases(self) -> dict[str, str]:
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.get_registered_model(self.model)
        except MlflowException:
            return {}
        return {k: str(v) for k, v in found.aliases.items()}

    def snapshot(self) -> dict[str, Any]:
        """Everything promotion may write: aliases, version tags and descriptions, run artifacts."""
        versions = self.client.search_model_versions(f"name='{self.model}'")
        return {
            "aliases": self.aliases(),
            "versions": {
                str(v.version): (
                    dict(v.tags),
                    v.description,
                    [a.path for a in self.client.list_artifacts(v.run_id, "model_card")],
                )
                for v in versions
            },
        }

    def run(self, *argv: str) -> tuple[int, str, str]:
        """`python -m <package>.promote ARGV` in-process: (exit code, stdout, stderr)."""
        self.capsys.readouterr()
        code = promote.main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite tracking store for the session; each test uses its own model and experiment in it."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    uri = f"sqlite:///{path}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()
    return path


def fresh_model(cfg: settings.Settings) -> settings.Settings:
    """Give the project copy a model and experiment name of its own, in params.yaml and deploy/."""
    name = f"model-{next(_NAMES)}"
    params = {**cfg.params, "model": {"name": name, "experiment": f"{name}-runs"}}
    cfg.path(settings.PARAMS_FILE).write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    desired = cfg.path(promote.DESIRED_STATE)
    desired.write_text(re.sub(r"(?m)^model: .*$", f"model: {name}", desired.read_text(encoding="utf-8")))
    return settings.load(cfg.root)


@pytest.fixture
def registry(
    project: settings.Settings,
    empty_store: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Registry]:
    from mlflow import MlflowClient

    for relative in (promote.DESIRED_STATE, promote.INTENDED_USE):
        (project.root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, project.root / relative)
    uri = f"sqlite:///{empty_store}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield Registry(fresh_model(project), MlflowClient(tracking_uri=uri, registry_uri=uri), capsys)
