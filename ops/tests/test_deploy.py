"""`mlops-gitops deploy`: the smoke request, the answer check and every refusal, on SQLite registries.

Versions here are tiny real scikit-learn models (pip requirements given: no environment inference).
The scoring server is a stand-in HTTP server in a thread, answering as MLflow's does; the
template's tests/test_serving.py runs the real `mlflow models serve` on a trained project.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlops_gitops import deploy

COLUMNS = ["mean radius", "mean texture", "colour"]


def write_test_split(root: Path, rows: int = 12) -> None:
    lines = [",".join([*COLUMNS, "label"])]
    for i in range(rows):
        lines.append(f"{10 + i * 0.5},{20 - i * 0.25},{'red' if i % 2 else 'blue'},{i % 2}")
    path = root / deploy.TEST_SPLIT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def log_version(
    registry: Any, *, signature: bool = True, example: bool = False, commit: str = "0123456789abc", optional: str = ""
) -> str:
    """A registered version of a tiny classifier, logged as train logs it (commit tag on the version)."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    cfg = registry.cfg
    frame = pd.read_csv(cfg.path(deploy.TEST_SPLIT))
    features, target = frame[COLUMNS], frame["label"]
    sample = features.copy()
    if optional:  # the signature of data where this column has missing values: MLflow marks it optional
        sample.loc[0, optional] = None
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"), LogisticRegression()
    ).fit(features, target)
    found = registry.client.get_experiment_by_name(cfg.experiment)
    experiment = (
        found.experiment_id if found else registry.client.create_experiment(cfg.experiment, cfg.artifact_location)
    )
    with deploy.registry_of(cfg), mlflow.start_run(experiment_id=experiment, tags={"git.commit": commit}):
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(sample, model.predict(features)) if signature else None,
            input_example=features.head(3) if example else None,
            pip_requirements=["scikit-learn"],
            serialization_format="cloudpickle",
            registered_model_name=cfg.model_name,
        )
    version = str(info.registered_model_version)
    registry.client.set_model_version_tag(cfg.model_name, version, "git.commit", commit)
    return version


@pytest.fixture
def served(registry: Any) -> Any:
    write_test_split(registry.cfg.root)
    registry.version = log_version(registry)
    registry.client.set_registered_model_alias(registry.model, "champion", registry.version)
    return registry


class Stand(BaseHTTPRequestHandler):
    """A scoring server: /ping, and /invocations answered by `answer(request body)`."""

    answer: Callable[[dict[str, Any]], tuple[int, Any]]
    seen: list[dict[str, Any]]

    def do_GET(self) -> None:
        self.reply(200, "\n") if self.path == "/ping" else self.reply(404, "not found")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({**body, "authorization": self.headers.get("Authorization")})
        status, payload = type(self).answer(body)
        self.reply(status, payload if isinstance(payload, str) else json.dumps(payload))

    def reply(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scoring() -> Iterator[Callable[[Callable[[dict[str, Any]], tuple[int, Any]]], tuple[str, list[Any]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[dict[str, Any]], tuple[int, Any]]) -> tuple[str, list[Any]]:
        handler = type("Handler", (Stand,), {"answer": staticmethod(answer), "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def right(body: dict[str, Any]) -> tuple[int, Any]:
    return 200, {"predictions": [i % 2 for i in range(len(body["dataframe_split"]["data"]))]}


def smoke(registry: Any, *argv: str) -> tuple[int, str, str]:
    registry.capsys.readouterr()
    code = deploy.main(["smoke", *argv])
    out, err = registry.capsys.readouterr()
    return code, out, err


def test_smoke_sends_the_test_split_in_the_signature_columns_as_dataframe_split(served: Any, scoring: Any) -> None:
    url, seen = scoring(right)
    code, out, err = smoke(served, "--url", url)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[:3] == [
        f"smoke: {url} answered 12/12 rows of models:/{served.model}/{served.version} "
        f"(12 rows of {deploy.TEST_SPLIT}; type integer, classes in {{0, 1}})",
        "smoke: missing values: skipped: the signature requires every column",
        f"smoke: extremes: 2/2 rows answered (min and max of {deploy.TEST_SPLIT})",
    ]
    assert re.fullmatch(r"smoke: latency: slowest of 2 answers \d+ ms <= 2000 ms", lines[3]), lines[3]
    body, extremes = seen
    assert body["dataframe_split"]["columns"] == COLUMNS  # the target is not sent
    assert body["dataframe_split"]["data"][1] == [10.5, 19.75, "red"]
    assert extremes["dataframe_split"]["data"] == [[10.0, 17.25, "blue"], [15.5, 20.0, "red"]]


def test_smoke_prefers_the_logged_input_example(served: Any, scoring: Any) -> None:
    version = log_version(served, example=True)
    url, seen = scoring(right)
    code, out, err = smoke(served, "--url", url, "--version", version)
    assert code == 0, err
    assert "answered 3/3 rows" in out and "its input example" in out
    assert len(seen[0]["dataframe_split"]["data"]) == 3


def test_a_wrong_number_of_predictions_is_one_line(served: Any, scoring: Any) -> None:
    url, _ = scoring(lambda body: (200, {"predictions": [0, 1]}))
    code, out, err = smoke(served, "--url", url)
    assert code == 1 and out == ""
    assert err.strip() == (
        f"smoke: {url}/invocations (models:/{served.model}/{served.version}) answered 2 predictions for 12 rows: "
        "one per row expected"
    )


def test_predictions_of_the_wrong_type_or_class_are_one_line(served: Any, scoring: Any) -> None:
    url, _ = scoring(lambda body: (200, {"predictions": ["yes"] * len(body["dataframe_split"]["data"])}))
    code, _, err = smoke(served, "--url", url)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "predictions of type string; the signature says integer" in err
    url, _ = scoring(lambda body: (200, {"predictions": [7] * len(body["dataframe_split"]["data"])}))
    code, _, err = smoke(served, "--url", url)
    assert code == 1 and "answered classes 7 that the test split does not hold (0, 1)" in err


def test_an_http_error_names_its_status_and_the_first_line_of_the_body(served: Any, scoring: Any) -> None:
    message = "Failed to enforce schema of data.\nIncompatible input types for column mean radius."
    url, _ = scoring(lambda body: (400, {"error_code": "BAD_REQUEST", "message": message}))
    code, _, err = smoke(served, "--url", url)
    assert code == 1
    assert err.strip() == (
        f"smoke: {url}/invocations (models:/{served.model}/{served.version}) answered HTTP 400: "
        "Failed to enforce schema of data."
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_url_that_does_not_answer_names_it_and_make_serve(served: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = smoke(served, "--url", url)
    assert code == 1
    assert err.strip() == f"smoke: nothing answers at {url}: start the server first (make serve), or set SMOKE_URL"


def test_unknown_versions_and_a_missing_champion_are_one_line(registry: Any) -> None:
    write_test_split(registry.cfg.root)
    log_version(registry)
    code, _, err = smoke(registry, "--version", "9")
    assert code == 1
    assert err.strip().startswith(f"smoke: version 9 of '{registry.model}' does not exist in sqlite:///")
    code, _, err = smoke(registry)
    assert code == 1 and err.strip().startswith(f"smoke: '{registry.model}' has no alias 'champion' in ")
    assert err.strip().endswith("promote a version first (make promote) or give one: VERSION=<n>")
    code, _, err = smoke(registry, "--version", "staging")
    assert code == 1 and err.strip() == f"smoke: '{registry.model}' has no alias 'staging'"


def test_a_version_without_signature_or_example_cannot_be_smoked(registry: Any) -> None:
    write_test_split(registry.cfg.root)
    version = log_version(registry, signature=False)
    code, _, err = smoke(registry, "--version", version, "--url", "http://127.0.0.1:1")
    assert code == 1
    assert err.strip() == (
        f"smoke: models:/{registry.model}/{version} has neither an input example nor a signature with column "
        "names: smoke cannot build a request; log the model with signature= (train does) or input_example="
    )


def test_a_signature_the_test_split_does_not_match_is_one_line(served: Any) -> None:
    path = served.cfg.path(deploy.TEST_SPLIT)
    path.write_text(path.read_text().replace("mean radius", "radius"), encoding="utf-8")
    code, _, err = smoke(served, "--url", "http://127.0.0.1:1")
    assert code == 1
    assert err.strip() == (
        f"smoke: the signature of models:/{served.model}/{served.version} names columns {deploy.TEST_SPLIT} "
        "lacks (mean radius): it was trained on other data"
    )


def test_serve_refuses_a_busy_port_and_an_unknown_version_before_starting(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy.os, "execve", lambda *args: pytest.fail("the server must not start"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        served.capsys.readouterr()
        assert deploy.main(["serve", "--port", str(port)]) == 1
        err = served.capsys.readouterr().err
        assert err.strip() == f"serve: port {port} on 127.0.0.1 is in use: make serve SERVE_PORT={port + 1}"
    assert deploy.main(["serve", "--version", "7", "--port", str(free_port())]) == 1
    assert "serve: version 7 of" in served.capsys.readouterr().err


def test_serve_runs_mlflows_scoring_server_for_the_champion_on_loopback(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(deploy.os, "execve", lambda path, argv, env: started.append((argv, env)))
    port = free_port()
    assert deploy.main(["serve", "--port", str(port)]) == 0
    ((argv, env),) = started
    assert argv[1:] == [
        "-m", "mlflow", "models", "serve", "-m", f"models:/{served.model}/{served.version}",
        "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    assert env["MLFLOW_TRACKING_URI"] == served.cfg.tracking_uri


def test_image_commands_carry_the_version_and_the_short_commit() -> None:
    version = deploy.Served(model="Breast_Cancer Classifier", version="4", commit="89abcdef0123", run_id="r")
    assert deploy.image_commands(version, Path("/p/build/serving-image"), "ghcr.io/acme/") == [
        "docker build -t ghcr.io/acme/breast_cancer-classifier:v4-89abcde /p/build/serving-image",
        "docker push ghcr.io/acme/breast_cancer-classifier:v4-89abcde",
    ]
    assert deploy.image_tag(deploy.Served("m", "2", "", "r")) == "v2-nocommit"


def test_the_cli_lists_deploy() -> None:
    from mlops_gitops import cli

    assert cli.COMMANDS["deploy"] == "mlops_gitops.deploy"
