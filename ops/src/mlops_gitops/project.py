"""The contract between this package and a generated project: what it reads, and from where.

- the project root: $PROJECT_ROOT, else the nearest folder upwards holding params.yaml;
- params.yaml: sections `model` (name, experiment), `gate` and `data` (raw);
- deploy/models.yaml and deploy/intended_use.md (promotion);
- the tracking store: $MLFLOW_TRACKING_URI, else a SQLite file in the project;
- for `monitor` and `dr`: params.yaml `monitor`, `evaluate` and `data` (schema, target, labels),
  data/schema.yaml, .dvc/config (remotes, cache), DVC-tracked outputs (data/features/, the raw
  data's .dvc file) and terraform/<cloud>/serving/answers.tf (the alarms the report links).

Nothing else of the project is read; the project's own package is never imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import CommandError

PARAMS_FILE = "params.yaml"
DESIRED_STATE = "deploy/models.yaml"
INTENDED_USE = "deploy/intended_use.md"


class ConfigError(CommandError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def find_root(start: Path | None = None) -> Path:
    """The project folder: $PROJECT_ROOT, else the nearest folder upwards holding params.yaml."""
    if os.environ.get("PROJECT_ROOT"):
        return Path(os.environ["PROJECT_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS_FILE).is_file():
            return folder
    raise ConfigError(f"no {PARAMS_FILE} in {here} or above: run this from inside the project")


@dataclass(frozen=True)
class Project:
    root: Path
    params: dict[str, Any]

    def path(self, relative: str) -> Path:
        return self.root / relative

    def section(self, name: str) -> dict[str, Any]:
        value = self.params.get(name)
        if not isinstance(value, dict):
            raise ConfigError(f"{PARAMS_FILE}: section '{name}' is missing; restore it from the template")
        return value

    @property
    def model_name(self) -> str:
        return str(self.section("model")["name"])

    @property
    def experiment(self) -> str:
        return str(self.section("model")["experiment"])

    @property
    def tracking_uri(self) -> str:
        """$MLFLOW_TRACKING_URI (a server, or the SageMaker ARN in CI), else a SQLite file here."""
        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifact_location(self) -> str | None:
        """Where a new experiment keeps its artifacts.

        $MLFLOW_ARTIFACT_LOCATION when set (CI: the project's artifact bucket, the only place its
        roles may write); next to the SQLite store when tracking is local; else the server decides.
        """
        if os.environ.get("MLFLOW_ARTIFACT_LOCATION"):
            return os.environ["MLFLOW_ARTIFACT_LOCATION"]
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return None
        return (self.root / "mlartifacts").as_uri()

    def scoped(self, model: str) -> Project:
        """The same project with another registered model name (lineage of model@alias)."""
        return Project(self.root, {**self.params, "model": {**self.section("model"), "name": model}})


def load(root: Path | None = None) -> Project:
    root = root or find_root()
    try:
        params = yaml.safe_load((root / PARAMS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{root / PARAMS_FILE} is missing: run this from inside the project") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{PARAMS_FILE} is not valid YAML ({exc.__class__.__name__}): fix its syntax") from exc
    if not isinstance(params, dict):
        raise ConfigError(f"{PARAMS_FILE} must be a mapping of sections; restore it from the template")
    return Project(root=root, params=params)
