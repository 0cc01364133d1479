"""Fixtures: a minimal project as the package's contract describes it (params.yaml, deploy/, a
.dvc file and DVC config), and a throw-away local registry.

A migrated SQLite store costs seconds to create, so one empty store is made per session and each
test uses a model and experiment of its own in it. Candidates come from mlops_gitops.testing: the
registry state that training leaves, without fitting a model. The template's own suite runs the
same commands against a real `mlflow server` and rendered projects.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gitops import promote
from mlops_gitops.project import DESIRED_STATE, INTENDED_USE, PARAMS_FILE, Project, load
from mlops_gitops.testing import RAW_MD5, register_candidate

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

_NAMES = itertools.count(1)
EVIDENCE = ["--pr", "7", "--approvers", "alice,bob", "--commit", "0123456789abcdef", "--run-url", "local"]
RAW = "data/raw/dataset.csv"
# The gates a project can have: the primary metric and its direction.
GATES = {
    "roc_auc": {"primary_metric": "roc_auc", "higher_is_better": True},
    "log_loss": {"primary_metric": "log_loss", "higher_is_better": False},
}
DVC_CONFIG = """[core]
    remote = local
['remote "local"']
    url = ../.dvc-storage
['remote "cloud"']
    url = s3://acme-data/dvc
    region = eu-west-1
"""


# The smallest pipeline whose train stage has each kind of input: data, code, params, an upstream stage.
PIPELINE = """stages:
  prepare:
    cmd: python -m model.prepare
    deps:
      - ${data.raw}
    outs: [data/prepared.csv]
  train:
    cmd: python -m model.train
    deps: [data/prepared.csv, src/model/train.py]
    params: [model, train]
    outs: [models/model.joblib]
"""


def params_for(model: str, gate: str = "roc_auc") -> dict[str, Any]:
    return {
        "model": {"name": model, "experiment": f"{model}-runs"},
        "data": {"raw": RAW, "target": "label"},
        "train": {"n_estimators": 100},
        "gate": {
            **GATES[gate],
            "tolerance": 0.01,
            "minimums": {"accuracy": 0.85, **({"roc_auc": 0.85} if gate == "roc_auc" else {})},
            "maximums": {"log_loss": 0.35},
        },
    }


def desired_text(model: str, staging: str | None = None, production: str | None = None) -> str:
    def value(v: str | None) -> str:
        return "null" if v is None else v

    return (
        f"# Which model version serves where.\nmodel: {model}\nenvironments:\n"
        f"  staging:\n    version: {value(staging)}  # alias staging\n"
        f"  production:\n    version: {value(production)}  # alias champion\n"
    )


def write_project(root: Path, model: str, gate: str = "roc_auc") -> Project:
    files = {
        PARAMS_FILE: yaml.safe_dump(params_for(model, gate), sort_keys=False),
        DESIRED_STATE: desired_text(model),
        INTENDED_USE: "# Intended use\n\nA test model; not for decisions.\n",
        f"{RAW}.dvc": f"outs:\n- md5: {RAW_MD5}\n  size: 4\n  path: dataset.csv\n",
        RAW: "a,b\n",
        "dvc.yaml": PIPELINE,
        "src/model/train.py": "print('train')\n",
        ".dvc/config": DVC_CONFIG,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return load(root)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Project:
    monkeypatch.chdir(tmp_path)
    for name in (
        "PROJECT_ROOT", "MLFLOW_TRACKING_URI", "MLFLOW_ARTIFACT_LOCATION", "PR_NUMBER", "GIT_COMMIT",
        "GITHUB_RUN_ID", "GITHUB_REPOSITORY", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_SHA",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return write_project(tmp_path, "model-0", getattr(request, "param", "roc_auc"))


@dataclass
class Registry:
    cfg: Project
    client: Any
    capsys: pytest.CaptureFixture[str]

    @property
    def model(self) -> str:
        return self.cfg.model_name

    def fresh_model(self) -> None:
        """A model and experiment name of its own, in params.yaml and deploy/models.yaml."""
        name = f"model-{next(_NAMES)}"
        self.cfg = write_project(self.cfg.root, name, str(self.cfg.section("gate")["primary_metric"]))

    def register(self, q: float = 0.5, **options: Any) -> str:
        """A candidate version as training registers it; returns its version number."""
        return register_candidate(self.client, self.cfg, q, **options)

    def desire(self, staging: str | None = None, production: str | None = None) -> None:
        path = self.cfg.path(DESIRED_STATE)
        text = promote.edit_desired(path.read_text(encoding="utf-8"), "staging", staging)
        path.write_text(promote.edit_desired(text, "production", production), encoding="utf-8")

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
        """`mlops-gitops promote ARGV` in-process: (exit code, stdout, stderr)."""
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
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(path.parent)  # the store's default artifact root (./mlruns) lands there
        MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()
    return path


@pytest.fixture
def registry(
    project: Project, empty_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Registry]:
    from mlflow import MlflowClient

    uri = f"sqlite:///{empty_store}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # Artifacts (model cards) in the test's folder, as CI sets the project's bucket.
    monkeypatch.setenv("MLFLOW_ARTIFACT_LOCATION", (project.root / "mlartifacts").as_uri())
    found = Registry(project, MlflowClient(tracking_uri=uri, registry_uri=uri), capsys)
    found.fresh_model()
    yield found
