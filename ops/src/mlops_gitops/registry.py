"""The one read-only door to the model registry: it connects, reads versions and aliases, and
never creates an experiment or a model (a plan, a status or a report must not write).

Writes happen in two places only: training registers a version (the project's tracking glue) and
`promote apply` moves aliases and records evidence (promote.py).
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import CommandError
from .project import Project

CHAMPION = "champion"  # the alias production serves


class RegistryError(CommandError):
    """The registry cannot answer, or lacks what was asked for."""


def _timeout() -> float:
    raw = os.environ.get("PROMOTION_TIMEOUT", "10")
    try:
        return max(float(raw), 0.1)
    except ValueError:
        raise RegistryError(f"PROMOTION_TIMEOUT={raw!r} is not a number of seconds") from None


def preflight(uri: str) -> None:
    """Fail fast, in one line, when the tracking store cannot be reached (MLflow would retry for minutes)."""
    if uri.startswith("sqlite:///"):
        if not Path(uri.removeprefix("sqlite:///")).is_file():
            raise RegistryError(
                f"no local tracking store at {uri.removeprefix('sqlite:///')}: run `make pipeline` first, "
                "or set MLFLOW_TRACKING_URI to the tracking server"
            )
        return
    if not uri.startswith(("http://", "https://")):
        return  # e.g. the SageMaker tracking server's ARN: its plugin authenticates and connects
    seconds = _timeout()
    slow = f"tracking server {uri} did not answer within {seconds:g}s (PROMOTION_TIMEOUT): registry untouched"
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    # The credentials MLflow itself will send: a server behind an identity-aware front (Cloud Run,
    # Entra ID) answers /health only to them, so a bad token is named here, in one line.
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        request = urllib.request.Request(f"{uri.rstrip('/')}/health", headers=headers)
        with urllib.request.urlopen(request, timeout=seconds) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 401 and not token and os.environ.get("MLFLOW_TRACKING_USERNAME"):
            return  # MLflow's basic auth: its credentials are checked by the calls themselves
        if exc.code == 401:
            problem = (
                "rejected MLFLOW_TRACKING_TOKEN (expired, or minted for another audience)"
                if token
                else ("asks for a token and MLFLOW_TRACKING_TOKEN is not set")
            )
            raise RegistryError(
                f"tracking server {uri} {problem} (HTTP 401): set MLFLOW_TRACKING_TOKEN to a fresh token for this "
                "server (GCP: an ID token for its URL; Azure: for api://<its client id>; in CI the cloud-auth "
                "action sets it), see docs/cloud/<cloud>.md: registry untouched"
            ) from None
        if exc.code == 403:
            raise RegistryError(
                f"tracking server {uri} accepted the token but its identity may not call the server (HTTP 403): "
                "grant that identity the invoker role (terraform/<cloud>): registry untouched"
            ) from None
        raise RegistryError(f"tracking server {uri} answered HTTP {exc.code} on /health") from None
    except TimeoutError:
        raise RegistryError(slow) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise RegistryError(slow) from None
        raise RegistryError(f"tracking server {uri} is unreachable ({reason}): registry untouched") from None


def connect(cfg: Project) -> Any:
    """A client of the configured store, after a fast reachability check."""
    # Bounded retries: a command fails in seconds, not after MLflow's default minutes of backoff.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(max(_timeout(), 1) * 3)))
    uri = cfg.tracking_uri
    preflight(uri)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def not_found(exc: Exception) -> bool:
    return "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or "not found" in str(exc).lower()


@dataclass
class Candidate:
    """One registered version with what its training run recorded."""

    version: str
    run_id: str
    experiment: str
    metrics: dict[str, float]
    params: dict[str, str]
    run_tags: dict[str, str]
    version_tags: dict[str, str]
    aliases: list[str]
    created: str


def load_version(client: Any, cfg: Project, version: str) -> Candidate:
    from mlflow.exceptions import MlflowException

    model = cfg.model_name
    try:
        found = client.get_model_version(model, version)
    except MlflowException as exc:
        if not_found(exc):
            raise RegistryError(
                f"version {version} of '{model}' does not exist (deleted, or never registered)"
            ) from None
        raise
    if not found.run_id:
        raise RegistryError(f"version {version} of '{model}' has no source run: it was not trained here")
    try:
        run = client.get_run(found.run_id)
    except MlflowException as exc:
        if not_found(exc):
            raise RegistryError(
                f"version {version} of '{model}': its run {found.run_id} was deleted, so its lineage is lost"
            ) from None
        raise
    experiment = client.get_experiment(run.info.experiment_id)
    created = datetime.fromtimestamp(int(found.creation_timestamp or 0) / 1000, UTC)
    return Candidate(
        version=str(found.version),
        run_id=found.run_id,
        experiment=experiment.name if experiment else "",
        metrics={k: float(v) for k, v in run.data.metrics.items()},
        params=dict(run.data.params),
        run_tags=dict(run.data.tags),
        version_tags=dict(found.tags or {}),
        aliases=list(found.aliases or []),
        created=created.isoformat(timespec="seconds"),
    )


def current_aliases(client: Any, cfg: Project) -> dict[str, str]:
    from mlflow.exceptions import MlflowException

    try:
        registered = client.get_registered_model(cfg.model_name)
    except MlflowException as exc:
        if not_found(exc):
            raise RegistryError(
                f"model '{cfg.model_name}' is not in the registry yet: train and register a candidate first"
            ) from None
        raise
    return {str(alias): str(version) for alias, version in dict(registered.aliases or {}).items()}


def resolve(client: Any, cfg: Project, ref: str) -> str:
    """A version number from '3', 'v3' or an alias such as 'staging'."""
    from mlflow.exceptions import MlflowException

    text = ref.strip()
    if re.fullmatch(r"v?\d+", text):
        return str(int(text.lstrip("v")))
    try:
        return str(client.get_model_version_by_alias(cfg.model_name, text).version)
    except MlflowException:
        raise RegistryError(f"'{cfg.model_name}' has no alias '{text}'") from None


def newest_with_tag(client: Any, cfg: Project, key: str, value: str, scan: int = 200) -> str | None:
    """The newest version of the project's model whose version tag `key` equals `value`."""
    found = client.search_model_versions(
        f"name = '{cfg.model_name}'", max_results=scan, order_by=["version_number DESC"]
    )
    matching = [int(v.version) for v in found if dict(v.tags or {}).get(key) == value]
    return str(max(matching)) if matching else None


def champion(cfg: Project) -> tuple[str, dict[str, float]] | None:
    """(version, metrics) of the model serving as champion, or None before the first promotion."""
    from mlflow.exceptions import MlflowException

    client = connect(cfg)
    try:
        found = client.get_model_version_by_alias(cfg.model_name, CHAMPION)
    except MlflowException:
        return None
    return str(found.version), dict(client.get_run(found.run_id).data.metrics)
