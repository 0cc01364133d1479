"""Helpers of the promotion tests: a rendered project, the registry read over REST, and a driver.

The registry is the session's real `mlflow server` (helpers/mlflow_server.py). Candidates are registered
as `train` leaves them (run with metrics and lineage tags, a model version), without fitting a
model, by `mlops_gitops.testing` (the package's tests build theirs the same way), called in the
project environment through a driver process. The driver also runs the promotion command,
`promote.main(argv)`, once per request, so that each call costs milliseconds instead of an
interpreter start with MLflow's imports; the e2e test runs the real make targets instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.project import QUIET_ENV, git_init, render

# A folder with __main__.py: run as a script, its own folder is all it adds to sys.path (no
# helper module can shadow a package the project environment imports).
DRIVER = Path(__file__).with_name("driver")
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


@dataclass
class Registry:
    """The model of one rendered project on the session server, over REST."""

    url: str
    model: str
    primary: str
    higher_is_better: bool
    driver: Driver

    def register(self, q: float = 0.5, **options: Any) -> str:
        """A candidate of the project's model (mlops_gitops.testing, in the project environment)."""
        return self.driver.register(q=q, **options)

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
    # Committed, as on main: the name is a train param, so it is part of the model's inputs.
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-am", f"Model {model}"],
        cwd=project,
        check=True,
    )


def desired_text(model: str, staging: str | None, production: str | None) -> str:
    def value(v: str | None) -> str:
        return "null" if v is None else v

    return (
        f"model: {model}\nenvironments:\n  staging:\n    version: {value(staging)}\n"
        f"  production:\n    version: {value(production)}\n"
    )


class Driver:
    """`mlops-gitops promote ARGV` in one long-lived process of the project environment."""

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

    def ask(self, request: dict) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def run(self, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        answer = self.ask({"argv": list(argv), "env": env or {}})
        return answer["code"], answer["out"], answer["err"]

    def register(self, **options: Any) -> str:
        return str(self.ask({"register": options})["version"])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def rendered(tmp: Path, slug: str, **answers: str) -> Path:
    """A generated project with a model name of its own on the shared server, committed on main."""
    project = render(tmp, project_name=slug.replace("-", " ").title(), model_name=slug.replace("-", "_"), **answers)
    git_init(project)
    return project


def gate_of(project: Path) -> tuple[str, bool]:
    import yaml

    gate = yaml.safe_load((project / "params.yaml").read_text())["gate"]
    return str(gate["primary_metric"]), bool(gate["higher_is_better"])


def registry_for(url: str, project: Path, driver: Driver) -> Registry:
    """The registry of the model that the project's params.yaml names now."""
    import yaml

    params = yaml.safe_load((project / "params.yaml").read_text())
    primary, higher = gate_of(project)
    return Registry(url, params["model"]["name"], primary, higher, driver)
