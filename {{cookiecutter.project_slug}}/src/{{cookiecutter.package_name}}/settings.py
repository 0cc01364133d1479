"""The one place that reads configuration: `params.yaml` plus a few environment variables.

Every stage, the report and the promotion call `load()`; nothing else opens params.yaml or
reads the environment, so a setting has exactly one name and one default.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = "params.yaml"


class ConfigError(Exception):
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
class Settings:
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

    @property
    def report_base(self) -> str:
        """Git revision the PR report compares against (CI fetches it as origin/main)."""
        return os.environ.get("REPORT_BASE", "main")

    @property
    def ci_context(self) -> dict[str, str]:
        """What CI knows about this run (empty on a laptop): recorded as tags for lineage."""
        env = os.environ
        context = {
            "ci.pr_number": env.get("PR_NUMBER", ""),
            "ci.repository": env.get("GITHUB_REPOSITORY", ""),
            "ci.workflow_run_url": "",
        }
        if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL", "https://github.com")
            context["ci.workflow_run_url"] = (
                f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
            )
        return {key: value for key, value in context.items() if value}

    def git_info(self) -> dict[str, str]:
        """Commit and branch of the working tree; 'unknown' outside a git repository."""

        def git(*args: str) -> str:
            try:
                done = subprocess.run(
                    ["git", *args], cwd=self.root, capture_output=True, text=True, check=True
                )
            except (OSError, subprocess.CalledProcessError):
                return "unknown"
            return done.stdout.strip() or "unknown"

        # In a PR workflow the checkout is detached; GitHub names the branch in the environment.
        branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME")
        return {
            "git.commit": os.environ.get("GIT_COMMIT") or git("rev-parse", "HEAD"),
            "git.branch": branch or git("rev-parse", "--abbrev-ref", "HEAD"),
            "git.dirty": "true" if git("status", "--porcelain") not in ("", "unknown") else "false",
        }


def load(root: Path | None = None) -> Settings:
    root = root or find_root()
    try:
        params = yaml.safe_load((root / PARAMS_FILE).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{PARAMS_FILE} is not valid YAML ({exc.__class__.__name__}): fix its syntax"
        ) from exc
    if not isinstance(params, dict):
        raise ConfigError(f"{PARAMS_FILE} must be a mapping of sections; restore it from the template")
    return Settings(root=root, params=params)
