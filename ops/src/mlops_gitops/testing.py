"""Test helper: a candidate version exactly as training leaves it (a finished run with metrics,
params and lineage tags, and a model version of it), without fitting a model.

The package's tests use it on a SQLite registry; the template's tests use it on a real
`mlflow server` (through a driver process in a generated project's environment).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from . import inputs
from .project import Project

# What the lineage tags of such a candidate say: built on main, from this raw data version.
COMMIT = "89abcdef01234567"
RAW_MD5 = "0123456789abcdef0123456789abcdef"
METRICS = {"accuracy": 0.95, "precision": 0.95, "recall": 0.95, "f1": 0.95, "roc_auc": 0.97, "log_loss": 0.1}


def quality(cfg: Project, q: float) -> float:
    """A primary-metric value for a quality q: in [0, 1] it meets the template's floors
    (0.85 and above, or a log loss of 0.35 and below); higher q is better."""
    return 0.86 + 0.13 * q if cfg.section("gate")["higher_is_better"] else 0.34 - 0.3 * q


def metrics_for(cfg: Project, q: float) -> dict[str, float]:
    return {**METRICS, str(cfg.section("gate")["primary_metric"]): quality(cfg, q)}


def register_candidate(
    client: Any,
    cfg: Project,
    q: float = 0.5,
    *,
    branch: str = "main",
    trained_from: dict[str, str] | None = None,
    validation: str | None = "passed",
    experiment: str | None = None,
    metrics: dict[str, float] | None = None,
) -> str:
    """Register a candidate of `cfg`'s model; returns its version number.

    It records the model inputs of `cfg`'s working tree, as train does, or `trained_from`: the
    inputs of another tree (a branch whose changes main never received)."""
    from mlflow.exceptions import MlflowException

    name = experiment or cfg.experiment
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found else client.create_experiment(name, cfg.artifact_location)
    tags = {"git.commit": COMMIT, "git.branch": branch, "git.dirty": "false", "dvc.data.raw.md5": RAW_MD5}
    if trained_from is None:
        tags.update(inputs.training_tags(cfg))
    elif trained_from:
        tags[inputs.FINGERPRINT_TAG] = inputs.fingerprint(trained_from)
        tags[inputs.INPUTS_TAG] = json.dumps({k: v[: inputs.SHORT] for k, v in trained_from.items()})
    if validation is not None:
        tags["validation.status"] = validation
    run = client.create_run(experiment_id, tags=tags)
    for key, value in (metrics or metrics_for(cfg, q)).items():
        client.log_metric(run.info.run_id, key, value)
    client.log_param(run.info.run_id, "estimator", "random_forest")
    client.set_terminated(run.info.run_id)
    with contextlib.suppress(MlflowException):
        client.create_registered_model(cfg.model_name)
    source = f"{run.info.artifact_uri}/model"
    version = client.create_model_version(cfg.model_name, source=source, run_id=run.info.run_id)
    for key in (inputs.FINGERPRINT_TAG, inputs.INPUTS_TAG):  # as train tags the version too
        if key in tags:
            client.set_model_version_tag(cfg.model_name, version.version, key, tags[key])
    return str(version.version)
