"""`make serve`, `make smoke` and `make serving-image` in a generated project, with real processes.

One project is rendered and trained once (version 1, made champion); every case reuses it, and
the two scoring servers (version 1, and a broken version) are started once for the module.
`make serve` runs MLflow's own scoring server (`mlflow models serve`, --env-manager local) on
127.0.0.1 and a free port; `make smoke` sends it rows and checks the answer. `make deploy` rolls
versions out against those servers with a recording apply command. The serving image cannot be
built here (no Docker engine): its tests are contract tests of the Dockerfile that MLflow
generates and of the exact build and push commands printed.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.mlflow_server import free_port
from helpers.serving import Trained, own_lines, serving, trained_project

pytestmark = pytest.mark.slow

# A version whose model does not fit its signature: the signature is version 1's (every column of
# the data), the model a classifier fitted on two other columns. MLflow's scoring server loads it
# and accepts the request's schema; the prediction itself fails, as it would for a model registered
# with a signature that does not match what it was trained on.
BROKEN = """
import os, mlflow, pandas as pd
from mlflow import MlflowClient
from mlflow.models import Model
from sklearn.linear_model import LogisticRegression
uri = 'sqlite:///mlflow.db'
mlflow.set_tracking_uri(uri); mlflow.set_registry_uri(uri)
c = MlflowClient(uri, uri)
one = c.get_model_version({model!r}, '1')
signature = Model.load('models:/{model}/1').signature
model = LogisticRegression().fit(pd.DataFrame({{'a': [0.0, 1.0], 'b': [1.0, 0.0]}}), [0, 1])
path = os.path.abspath('broken-model')
mlflow.sklearn.save_model(model, path, signature=signature, pip_requirements=['scikit-learn'],
                          serialization_format='cloudpickle')
v = c.create_model_version({model!r}, source=path, run_id=one.run_id)
c.set_model_version_tag({model!r}, v.version, 'git.commit', one.tags['git.commit'])
print(v.version)
"""


@pytest.fixture(scope="module")
def trained(shared_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return trained_project(tmp_path_factory.mktemp("serving"), shared_env("3.11"))


@pytest.fixture(scope="module")
def good(trained: Trained) -> Iterator[tuple[int, float]]:
    """`make serve` of the champion (version 1): (port, seconds until /ping answered)."""
    port, started = free_port(), time.monotonic()
    with serving(trained, port):
        yield port, time.monotonic() - started


@pytest.fixture(scope="module")
def broken(trained: Trained) -> Iterator[tuple[str, int]]:
    """`make serve` of a version whose model does not fit its signature: (version, port)."""
    version = trained.python(BROKEN.format(model=trained.model)).strip()
    port = free_port()
    with serving(trained, port, f"VERSION={version}"):
        yield version, port


def test_make_serve_then_make_smoke_passes_and_a_second_serve_finds_the_port_busy(
    trained: Trained, good: tuple[int, float]
) -> None:
    port, up = good
    done = trained.make("smoke", f"SERVE_PORT={port}")
    assert done.returncode == 0, done.stdout + done.stderr
    line, *checks = own_lines(done.stdout)
    rows = re.fullmatch(
        rf"smoke: http://127\.0\.0\.1:{port} answered (\d+)/(\d+) rows of models:/{trained.model}/1 \(.*\)", line
    )
    assert rows and rows.group(1) == rows.group(2) and int(rows.group(1)) > 50, line
    # One line per further check: the signature's optional columns null, the test split's extremes, latency.
    assert [c.split(":")[1].strip() for c in checks] == ["missing values", "extremes", "latency"], checks
    assert re.fullmatch(r"smoke: extremes: 2/2 rows answered \(min and max of data/features/test\.csv\)", checks[1])
    busy = trained.make("serve", f"SERVE_PORT={port}")
    assert busy.returncode != 0
    assert own_lines(busy.stderr) == [f"serve: port {port} on 127.0.0.1 is in use: make serve SERVE_PORT={port + 1}"]
    print(f"\nserver up in {up:.1f} s; {line}; " + "; ".join(checks))


def test_a_version_whose_model_does_not_match_its_signature_fails_smoke_in_one_line(
    trained: Trained, broken: tuple[str, int]
) -> None:
    version, port = broken
    done = trained.make("smoke", f"SERVE_PORT={port}", f"VERSION={version}")
    assert done.returncode != 0
    (line,) = own_lines(done.stderr)
    assert line.startswith(
        f"smoke: http://127.0.0.1:{port}/invocations (models:/{trained.model}/{version}) answered HTTP 400: "
    ), line
    print(f"\n{line}")


# The cloud side of a rollout, recorded: the apply command logs the step and configuration it got,
# the URL command names the local server of the version (what `terraform output` would print).
APPLY = """#!/bin/sh
printf '%s %s\\n' "$SERVING_STEP" "$(tr -d ' \\n' < "$SERVING_CONFIG")" >> applied.log
"""
URL = """#!/bin/sh
case "$SERVING_VERSION" in {broken}) echo http://127.0.0.1:{bad};; *) echo http://127.0.0.1:{good};; esac
"""


def desire(trained: Trained, staging: str | None, production: str | None = None) -> None:
    value = lambda v: "null" if v is None else v  # noqa: E731
    (trained.path / "deploy" / "models.yaml").write_text(
        f"model: {trained.model}\nenvironments:\n  staging:\n    version: {value(staging)}\n"
        f"  production:\n    version: {value(production)}\n"
    )


def script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_make_deploy_rolls_a_good_version_out_and_a_broken_one_back_with_evidence(
    trained: Trained, good: tuple[int, float], broken: tuple[str, int]
) -> None:
    (bad_version, bad_port), (good_port, _) = broken, good
    # Another good version: version 1's model registered again (the good server serves those bits).
    second = trained.python(
        "from mlflow import MlflowClient\n"
        "c = MlflowClient('sqlite:///mlflow.db', 'sqlite:///mlflow.db')\n"
        f"one = c.get_model_version({trained.model!r}, '1')\n"
        f"v = c.create_model_version({trained.model!r}, source=one.source, run_id=one.run_id)\n"
        f"c.set_model_version_tag({trained.model!r}, v.version, 'git.commit', one.tags['git.commit'])\n"
        "print(v.version)\n"
    ).strip()
    log = trained.path / "applied.log"
    log.unlink(missing_ok=True)
    env = {
        "SERVING_APPLY_COMMAND": script(trained.path / "apply.sh", APPLY),
        "SERVING_URL_COMMAND": script(
            trained.path / "url.sh", URL.format(broken=bad_version, bad=bad_port, good=good_port)
        ),
        "SERVING_ALLOW_UNPUSHED": "1",  # no registry to push to here
    }

    def applied() -> list[tuple[str, list[tuple[str, int]]]]:
        found = []
        for line in log.read_text().splitlines():
            step, text = line.split(" ", 1)
            release = json.loads(text)["release"]
            found.append((step, [(t["version"], t["percent"]) for t in release["traffic"]]))
        return found

    desire(trained, "1")
    done = trained.make("serving-config", "SERVING_ENV=staging", "SERVING_STEP=canary")
    assert done.returncode == 0, done.stderr
    release = json.loads((trained.path / "terraform/aws/serving/release.auto.tfvars.json").read_text())["release"]
    assert release["step"] == "full" and release["traffic"][0]["image_tag"] == release["image_tag"]  # a first version

    done = trained.make("deploy", "SERVING_ENV=staging", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deploy: v1 serves staging (full; smoke passed;" in done.stdout
    desire(trained, second)
    done = trained.make("deploy", "SERVING_ENV=staging", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert applied() == [
        ("full", [("1", 100)]),
        ("canary", [(second, 10), ("1", 90)]),
        ("full", [(second, 100), ("1", 0)]),
    ]

    desire(trained, bad_version, production=bad_version)
    refused = trained.make("deploy", "SERVING_ENV=production", env=env)
    assert refused.returncode != 0
    assert own_lines(refused.stderr) == [
        f"rollout: production refuses v{bad_version}: its staging smoke test is missing (deploy.staging.smoke), "
        "not passed: deploy it to staging first (make deploy SERVING_ENV=staging); nothing applied"
    ]
    failed = trained.make("deploy", "SERVING_ENV=staging", env=env)
    assert failed.returncode != 0
    (line,) = own_lines(failed.stderr)
    assert line.startswith(
        f"rollout: v{bad_version} failed the smoke check 'answer' at step canary (http://127.0.0.1:{bad_port}/"
        f"invocations (models:/{trained.model}/{bad_version}) answered HTTP 400: "
    ) and line.endswith(f"): rolled back, v{second} serves staging"), line
    assert applied()[3:] == [
        ("canary", [(bad_version, 10), (second, 90)]),
        ("rollback", [(bad_version, 0), (second, 100)]),
    ]
    shown = trained.make("lineage", f"REF={bad_version}")
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"deployed staging +rolled-back, smoke failed 20\S+, image <registry>/model:v", shown.stdout)
    shown = trained.make("lineage", f"REF={second}", "FORMAT=json")
    info = json.loads(shown.stdout[shown.stdout.index("\n{") :])  # after make's echo of the command
    assert info["deployments"]["staging"]["state"] == "live" and info["deployments"]["staging"]["smoke"] == "passed"
    assert info["deployments"]["staging"]["endpoint"].endswith("-staging")  # the SageMaker endpoint's name
    print(f"\n{line}")


def test_make_serving_image_writes_mlflows_dockerfile_and_the_tagged_commands_contract_no_docker_engine(
    trained: Trained,
) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=trained.path, capture_output=True, text=True, check=True
    ).stdout.strip()
    done = trained.make("serving-image", "IMAGE_DIR=build/image", env={"IMAGE_REPOSITORY": "ghcr.io/acme"})
    assert done.returncode == 0, done.stdout + done.stderr
    context = trained.path / "build" / "image"
    dockerfile = (context / "Dockerfile").read_text()
    assert re.search(r"^FROM \S+", dockerfile, re.M), dockerfile
    assert "mlflow" in dockerfile and "ENTRYPOINT" in dockerfile and "_serve" in dockerfile, dockerfile
    assert "model_dir" in dockerfile and (context / "model_dir" / "MLmodel").is_file()
    image = f"ghcr.io/acme/{trained.model.lower()}:v1-{commit[:7]}"
    lines = own_lines(done.stdout)
    assert lines[0] == f"serving-image: build/image/Dockerfile serves models:/{trained.model}/1 (commit {commit})"
    assert lines[-2:] == [f"docker build -t {image} {context}", f"docker push {image}"], lines
    placeholder = trained.make("serving-image", "IMAGE_DIR=build/image2")
    assert placeholder.returncode == 0, placeholder.stderr
    assert "serving-image: IMAGE_REPOSITORY is not set: replace <registry>/<repository> below" in placeholder.stdout
    assert f"docker push '<registry>/<repository>/{trained.model.lower()}:v1-{commit[:7]}'" in placeholder.stdout


def test_bad_input_through_make_is_one_line(trained: Trained) -> None:
    done = trained.make("serve", "VERSION=9", f"SERVE_PORT={free_port()}")
    assert done.returncode != 0
    (line,) = own_lines(done.stderr)
    assert line.startswith(f"serve: version 9 of '{trained.model}' does not exist in sqlite:///"), line
    port = free_port()
    done = trained.make("smoke", f"SMOKE_URL=http://127.0.0.1:{port}")
    assert done.returncode != 0
    assert own_lines(done.stderr) == [
        f"smoke: nothing answers at http://127.0.0.1:{port}: start the server first (make serve), or set SMOKE_URL"
    ]
    done = trained.make("serving-image", "VERSION=staging")
    assert done.returncode != 0
    assert own_lines(done.stderr) == [f"serving-image: '{trained.model}' has no alias 'staging'"]
