"""Helpers of the promotion tests: a rendered project, the registry over REST, and a driver.

The registry is the session's real `mlflow server` (helpers_mlflow.py). Candidates are registered
over its REST API, exactly as `train` leaves them (run with metrics and lineage tags, a model
version), without fitting a model. The project's promotion command runs in the project
environment through a driver process that calls `promote.main(argv)` once per request, so that
each call costs milliseconds instead of an interpreter start with MLflow's imports; the e2e test
runs the real make targets instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import QUIET_ENV

DRIVER = Path(__file__).with_name("driver.py")
EVIDENCE = ["--pr", "7", "--approvers", "alice,bob", "--commit", "0123456789abcdef", "--run-url", "local"]
DESIRED = "deploy/models.yaml"


def call(url: str, endpoint: str, body: dict | None = None, **query: str) -> dict:
    full = f"{url}/api/2.0/mlflow/{endpoint}"
    if query:
        full += "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(
        full,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.loads(answer.read() or b"{}")


def quality(higher_is_better: bool, q: float) -> float:
    """Primary-metric value for a quality q in [0, 1] that meets the shipped floors."""
    return 0.86 + 0.13 * q if higher_is_better else 0.34 - 0.3 * q


@dataclass
class Registry:
    """The model of one rendered project on the session server, over REST."""

    url: str
    model: str
    experiment: str
    primary: str
    higher_is_better: bool

    def experiment_id(self, name: str | None = None) -> str:
        name = name or self.experiment
        try:
            return call(self.url, "experiments/get-by-name", experiment_name=name)["experiment"]["experiment_id"]
        except urllib.error.HTTPError:
            return call(self.url, "experiments/create", {"name": name})["experiment_id"]

    def register(
        self,
        q: float = 0.5,
        *,
        branch: str = "main",
        validation: str | None = "passed",
        experiment: str | None = None,
    ) -> str:
        tags = {
            "git.commit": "89abcdef01234567",
            "git.branch": branch,
            "git.dirty": "false",
            "dvc.data.raw.md5": "d41d8cd98f00b204e9800998ecf8427e",
        }
        if validation is not None:
            tags["validation.status"] = validation
        run = call(
            self.url,
            "runs/create",
            {
                "experiment_id": self.experiment_id(experiment),
                "start_time": int(time.time() * 1000),
                "tags": [{"key": k, "value": v} for k, v in tags.items()],
            },
        )["run"]["info"]
        metrics = {"accuracy": 0.95, "precision": 0.95, "recall": 0.95, "f1": 0.95, "roc_auc": 0.97, "log_loss": 0.1}
        metrics[self.primary] = quality(self.higher_is_better, q)
        now = int(time.time() * 1000)
        call(
            self.url,
            "runs/log-batch",
            {
                "run_id": run["run_id"],
                "metrics": [{"key": k, "value": v, "timestamp": now, "step": 0} for k, v in metrics.items()],
                "params": [{"key": "estimator", "value": "random_forest"}],
            },
        )
        call(self.url, "runs/update", {"run_id": run["run_id"], "status": "FINISHED", "end_time": now})
        with contextlib.suppress(urllib.error.HTTPError):
            call(self.url, "registered-models/create", {"name": self.model})
        version = call(
            self.url,
            "model-versions/create",
            {
                "name": self.model,
                "source": f"{run['artifact_uri']}/model",
                "run_id": run["run_id"],
            },
        )["model_version"]
        return str(version["version"])

    def metric(self, version: str) -> float:
        found = call(self.url, "model-versions/get", name=self.model, version=version)["model_version"]
        metrics = call(self.url, "runs/get", run_id=found["run_id"])["run"]["data"]["metrics"]
        return next(m["value"] for m in metrics if m["key"] == self.primary)

    def delete(self, version: str) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/2.0/mlflow/model-versions/delete",
            method="DELETE",
            data=json.dumps({"name": self.model, "version": version}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=20).read()

    def aliases(self) -> dict[str, str]:
        try:
            found = call(self.url, "registered-models/get", name=self.model)["registered_model"]
        except urllib.error.HTTPError:
            return {}
        return {a["alias"]: str(a["version"]) for a in found.get("aliases", [])}

    def snapshot(self) -> dict[str, Any]:
        """Everything promotion may write: aliases; each version's tags, description, card artifacts."""
        versions = call(self.url, "model-versions/search", filter=f"name='{self.model}'", max_results="1000")
        state: dict[str, Any] = {"aliases": self.aliases(), "versions": {}}
        for v in versions.get("model_versions", []):
            files = call(self.url, "artifacts/list", run_id=v["run_id"], path="model_card").get("files", [])
            state["versions"][v["version"]] = (
                sorted((t["key"], t["value"]) for t in v.get("tags", [])),
                v.get("description", ""),
                sorted(f["path"] for f in files),
            )
        return state

    def tags(self, version: str) -> dict[str, str]:
        found = call(self.url, "model-versions/get", name=self.model, version=version)["model_version"]
        return {t["key"]: t["value"] for t in found.get("tags", [])}


def set_model(project: Path, model: str) -> None:
    """Point the project (params.yaml and deploy/models.yaml) at another registered model name."""
    params = project / "params.yaml"
    params.write_text(re.sub(r"(?m)^(  name: )\S+", rf"\g<1>{model}", params.read_text(), count=1))
    desired = project / DESIRED
    desired.write_text(re.sub(r"(?m)^model: .*$", f"model: {model}", desired.read_text()))


def desired_text(model: str, staging: str | None, production: str | None) -> str:
    def value(v: str | None) -> str:
        return "null" if v is None else v

    return (
        f"model: {model}\nenvironments:\n  staging:\n    version: {value(staging)}\n"
        f"  production:\n    version: {value(production)}\n"
    )


class Driver:
    """`python -m <package>.promote ARGV` in one long-lived process of the project environment."""

    def __init__(self, python: Path, project: Path, tracking_uri: str) -> None:
        self.project = project
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PROMOTION_"))}
        env.update(QUIET_ENV, MLFLOW_TRACKING_URI=tracking_uri, PROJECT_ROOT=str(project))
        self.process = subprocess.Popen(
            [str(python), str(DRIVER), str(project)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=project,
        )

    def run(self, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"argv": list(argv), "env": env or {}}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return answer["code"], answer["out"], answer["err"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def rendered(tmp: Path, slug: str, **answers: str) -> Path:
    """A generated project with a model name of its own on the shared server, committed on main."""
    from support import git_init, render

    project = render(tmp, project_name=slug.replace("-", " ").title(), model_name=slug.replace("-", "_"), **answers)
    git_init(project)
    return project


def gate_of(project: Path) -> tuple[str, bool]:
    import yaml

    gate = yaml.safe_load((project / "params.yaml").read_text())["gate"]
    return str(gate["primary_metric"]), bool(gate["higher_is_better"])


def registry_for(url: str, project: Path, model: str | None = None) -> Registry:
    import yaml

    params = yaml.safe_load((project / "params.yaml").read_text())
    primary, higher = gate_of(project)
    return Registry(url, model or params["model"]["name"], params["model"]["experiment"], primary, higher)
