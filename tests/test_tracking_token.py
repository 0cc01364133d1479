"""A tracking server that takes a bearer token (MLflow on Cloud Run on GCP, on Container Apps
with Entra ID authentication on Azure): MLflow sends the MLFLOW_TRACKING_TOKEN that the cloud-auth
action mints, and a missing or wrong token is one line.

In front of the session's real `mlflow server` sits a small proxy that does what Cloud Run's IAM
check does for this purpose: a request without `Authorization: Bearer <the expected token>` gets
401, a token of an identity without the invoker role 403, anything else is forwarded unchanged.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpers.project import git_init, make, project_command_env, render

GOOD, NOT_INVOKER = "id-token-for-the-tracking-url", "id-token-of-an-identity-without-run-invoker"


class TokenProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.seen: list[tuple[str, str]] = []  # (path, Authorization header) of forwarded requests
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                if auth == f"Bearer {NOT_INVOKER}":
                    return self._answer(403, b"Forbidden")
                if auth != f"Bearer {GOOD}":
                    return self._answer(401, b"Unauthorized")
                proxy.seen.append((self.path, auth))
                request = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body or None,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        self._answer(answer.status, answer.read(), answer.headers.get("Content-Type"))
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read(), exc.headers.get("Content-Type"))

            do_GET = do_POST = do_PATCH = do_DELETE = _any

            def _answer(self, code: int, body: bytes, content_type: str | None = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type or "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def proxy(mlflow_server: str) -> Iterator[TokenProxy]:
    made = TokenProxy(mlflow_server)
    yield made
    made.server.shutdown()


@pytest.fixture(scope="module", params=["gcp", "azure"])
def token_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mlflow_server: str) -> Path:
    cloud = request.param
    project = render(tmp_path_factory.mktemp("token"), cloud_provider=cloud, project_slug=f"token-{cloud}")
    git_init(project)
    # The model the desired state names exists, so that status has something to read.
    request = urllib.request.Request(
        f"{mlflow_server}/api/2.0/mlflow/registered-models/create",
        data=json.dumps({"name": f"token_{cloud}"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    return project


@pytest.mark.slow
@pytest.mark.parametrize(
    "token,expected",
    [
        (None, "asks for a token and MLFLOW_TRACKING_TOKEN is not set (HTTP 401)"),
        (
            "an-id-token-for-another-audience",
            "rejected MLFLOW_TRACKING_TOKEN (expired, or minted for another audience)",
        ),
        (NOT_INVOKER, "accepted the token but its identity may not call the server (HTTP 403)"),
    ],
    ids=["missing", "wrong audience", "not an invoker"],
)
def test_a_missing_or_refused_token_is_one_line(
    token_project: Path, proxy: TokenProxy, shared_env: Any, token: str | None, expected: str
) -> None:
    env = project_command_env(shared_env("3.11"))
    env.pop("MLFLOW_TRACKING_TOKEN", None)
    env.update(MLFLOW_TRACKING_URI=proxy.url, **({"MLFLOW_TRACKING_TOKEN": token} if token else {}))
    done = make(token_project, "promote-status", env=env, check=False)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("make")]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr, done.stderr


@pytest.mark.slow
def test_the_token_reaches_a_real_server_through_mlflow(
    token_project: Path, proxy: TokenProxy, shared_env: Any
) -> None:
    env = project_command_env(shared_env("3.11"))
    env.update(MLFLOW_TRACKING_URI=proxy.url, MLFLOW_TRACKING_TOKEN=GOOD)
    before = len(proxy.seen)
    done = make(token_project, "promote-status", "FORMAT=json", env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)
    model = token_project.name.replace("-", "_")
    assert json.loads(done.stdout[done.stdout.index("{") :])["model"] == model  # read through the proxy
    calls = proxy.seen[before:]
    # Past /health, MLflow's own client sent the bearer token on its REST calls to the server.
    assert any(path.startswith("/api/2.0/mlflow/") for path, _ in calls), calls
    assert all(auth == f"Bearer {GOOD}" for _, auth in calls)
