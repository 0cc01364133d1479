"""`make serve`, `make smoke` and `make serving-image` in a generated project, with real processes.

One project is rendered and trained once (version 1, made champion); every case reuses it.
`make serve` runs MLflow's own scoring server (`mlflow models serve`, --env-manager local) on
127.0.0.1 and a free port; `make smoke` sends it rows and checks the answer. The serving image
cannot be built here (no Docker engine): its tests are contract tests of the Dockerfile that
MLflow generates and of the exact build and push commands printed.
"""

from __future__ import annotations

import re
import subprocess
import time
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


def test_make_serve_then_make_smoke_passes_and_a_second_serve_finds_the_port_busy(trained: Trained) -> None:
    port = free_port()
    started = time.monotonic()
    with serving(trained, port):
        up = time.monotonic() - started
        done = trained.make("smoke", f"SERVE_PORT={port}")
        assert done.returncode == 0, done.stdout + done.stderr
        (line,) = own_lines(done.stdout)
        rows = re.fullmatch(
            rf"smoke: http://127\.0\.0\.1:{port} answered (\d+)/(\d+) rows of models:/{trained.model}/1 \(.*\)", line
        )
        assert rows and rows.group(1) == rows.group(2) and int(rows.group(1)) > 50, line
        busy = trained.make("serve", f"SERVE_PORT={port}")
        assert busy.returncode != 0
        assert own_lines(busy.stderr) == [
            f"serve: port {port} on 127.0.0.1 is in use: make serve SERVE_PORT={port + 1}"
        ]
    print(f"\nserver up in {up:.1f} s; {line}")


def test_a_version_whose_model_does_not_match_its_signature_fails_smoke_in_one_line(trained: Trained) -> None:
    version = trained.python(BROKEN.format(model=trained.model)).strip()
    port = free_port()
    with serving(trained, port, f"VERSION={version}"):
        done = trained.make("smoke", f"SERVE_PORT={port}", f"VERSION={version}")
    assert done.returncode != 0
    (line,) = own_lines(done.stderr)
    assert line.startswith(
        f"smoke: http://127.0.0.1:{port}/invocations (models:/{trained.model}/{version}) answered HTTP 400: "
    ), line
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
