"""`mlops-gitops deploy serve|smoke|dockerfile|config|rollout|rollback`: a registered version served.

    mlops-gitops deploy serve      [--version N|ALIAS] [--port 5001]      # make serve
    mlops-gitops deploy smoke      [--url URL] [--version N|ALIAS]        # make smoke
    mlops-gitops deploy dockerfile [--version N|ALIAS] [--out DIR]        # make serving-image
    mlops-gitops deploy config|rollout|rollback --env ENV ...             # merge-to-deploy: rollout.py

`serve` runs MLflow's scoring server (`mlflow models serve -m models:/<name>/<version>
--env-manager local`) on 127.0.0.1, in the foreground, for the champion or the version given.
`smoke` POSTs the version's logged input example (or rows of the test split, in the columns of its
signature) to `<url>/invocations` in MLflow's `dataframe_split` format and checks the answer: one
prediction per row, of the signature's output type, among the classes of the test split.
`dockerfile` writes the serving image's build context with `mlflow models generate-dockerfile`
(no Docker needed) and prints the exact build and push commands; the image is tagged
`<IMAGE_REPOSITORY>/<model>:v<version>-<short commit>` (the version's `git.commit` tag).
Besides the rows above, smoke sends the edge rows (the first row with the signature's optional
columns null; the minimum and maximum of every column of the test split), checks the slowest answer
against params.yaml `deploy.smoke_latency_ms`, prints one line per check, sends $SMOKE_TOKEN as a
bearer token (never printed) and calls a `sagemaker://<endpoint>` URL through boto3.

Every refusal is one line and exit 1; the version is always a registered one (`models:/` URI).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CommandError, quiet_mlflow, run
from .project import Project, load
from .registry import CHAMPION, connect, not_found, resolve

HOST = "127.0.0.1"
DEFAULT_PORT = 5001  # `make ui` takes 5000
DEFAULT_URL = f"http://{HOST}:{DEFAULT_PORT}"
TEST_SPLIT = "data/features/test.csv"  # the featurize stage's test split (the project's paths.TEST)
MAX_ROWS = 100
DEFAULT_IMAGE_DIR = "build/serving-image"
IMAGE_REPOSITORY_ENV = "IMAGE_REPOSITORY"
PLACEHOLDER_REPOSITORY = "<registry>/<repository>"
COMMIT_TAG = "git.commit"
TIMEOUT = 30.0


class DeployError(CommandError):
    """Serving or its smoke test cannot go on; the message names the problem and the fix."""


# --- the registered version --------------------------------------------------------------------


@dataclass
class Served:
    """One registered version: its number, URI and the commit it was trained at."""

    model: str
    version: str
    commit: str
    run_id: str

    @property
    def uri(self) -> str:
        return f"models:/{self.model}/{self.version}"


def find_version(client: Any, cfg: Project, ref: str | None) -> Served:
    """The champion (ref None) or the version `ref` names (number, vN or alias), checked to exist."""
    from mlflow.exceptions import MlflowException

    model = cfg.model_name
    if ref is None or not ref.strip():
        try:
            version = str(client.get_model_version_by_alias(model, CHAMPION).version)
        except MlflowException:
            raise DeployError(
                f"'{model}' has no alias '{CHAMPION}' in {cfg.tracking_uri}: promote a version first "
                "(make promote) or give one: VERSION=<n>"
            ) from None
    else:
        version = resolve(client, cfg, ref)
    try:
        found = client.get_model_version(model, version)
    except MlflowException as exc:
        if not_found(exc):
            raise DeployError(
                f"version {version} of '{model}' does not exist in {cfg.tracking_uri}: "
                "`make promote-status` lists the registered versions"
            ) from None
        raise
    commit = str(dict(found.tags or {}).get(COMMIT_TAG, ""))
    if not commit and found.run_id:
        try:
            commit = str(client.get_run(found.run_id).data.tags.get(COMMIT_TAG, ""))
        except MlflowException:
            commit = ""
    return Served(model=model, version=str(found.version), commit=commit, run_id=str(found.run_id or ""))


@contextmanager
def registry_of(cfg: Project) -> Any:
    """MLflow's fluent API (models:/ URIs) pointed at the project's store for the duration."""
    import mlflow

    before = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(cfg.tracking_uri)
    mlflow.set_registry_uri(cfg.tracking_uri)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        mlflow.set_tracking_uri(before["MLFLOW_TRACKING_URI"])  # type: ignore[arg-type]
        mlflow.set_registry_uri(before["MLFLOW_REGISTRY_URI"])  # type: ignore[arg-type]


def served_env(cfg: Project) -> dict[str, str]:
    """The environment of MLflow's own commands: they resolve models:/ in the project's store."""
    env = dict(os.environ)
    env.update(MLFLOW_TRACKING_URI=cfg.tracking_uri, MLFLOW_REGISTRY_URI=cfg.tracking_uri)
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    env.setdefault("DO_NOT_TRACK", "true")
    return env


# --- serve ---------------------------------------------------------------------------------------


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve_command(served: Served, port: int) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "models", "serve", "-m", served.uri,
        "--env-manager", "local", "--host", HOST, "--port", str(port),
    ]  # fmt: skip


def serve(cfg: Project, ref: str | None, port: int) -> None:
    if not 0 < port < 65536:
        raise DeployError(f"port {port} is not a port number: make serve SERVE_PORT=5001")
    served = find_version(connect(cfg), cfg, ref)
    if not port_is_free(port):
        raise DeployError(f"port {port} on {HOST} is in use: make serve SERVE_PORT={port + 1}")
    print(
        f"serve: {served.uri} on http://{HOST}:{port} (MLflow scoring server; Ctrl-C stops it); "
        f"`make smoke{'' if ref is None else f' VERSION={ref}'}` tests it",
        flush=True,
    )
    command = serve_command(served, port)
    os.execve(command[0], command, served_env(cfg))  # the foreground process is MLflow's own


# --- smoke ---------------------------------------------------------------------------------------


@dataclass
class Request:
    """What smoke sends and what it expects back."""

    columns: list[str]
    rows: list[list[Any]]
    source: str  # where the rows come from, for the report line
    output_kind: str | None = None  # integer | float | string | bool, from the signature's output
    classes: list[Any] = field(default_factory=list)  # the labels the test split holds

    def body(self) -> bytes:
        split = {"columns": self.columns, "data": self.rows}
        return json.dumps({"dataframe_split": split}, allow_nan=False).encode()


def kind_of(dtype: Any) -> str | None:
    """integer | float | string | bool for an MLflow DataType or a numpy dtype."""
    name = str(getattr(dtype, "name", dtype)).lower()
    if name.startswith(("int", "long", "uint")):
        return "integer"
    if name.startswith(("float", "double")):
        return "float"
    if name in ("bool", "boolean"):
        return "bool"
    if name in ("string", "str", "object", "binary") or name.startswith("<u"):
        return "string"
    return None


def output_kind(signature: Any) -> str | None:
    outputs = getattr(signature, "outputs", None)
    if outputs is None or len(outputs.inputs) != 1:
        return None
    spec = outputs.inputs[0]
    return kind_of(spec.type)


def plain(value: Any) -> Any:
    """A JSON value of a pandas cell (NaN becomes null)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def frame_rows(frame: Any) -> list[list[Any]]:
    return [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def build_request(
    cfg: Project, served: Served, signature: Any, example: Any, test_data: str, max_rows: int = MAX_ROWS
) -> Request:
    """The rows to send: the logged input example, else the test split in the signature's columns."""
    import pandas as pd

    target = str(cfg.params.get("data", {}).get("target", "")) if isinstance(cfg.params.get("data"), dict) else ""
    split = cfg.path(test_data)
    table = pd.read_csv(split) if split.is_file() else None
    classes = sorted({plain(v) for v in table[target]}, key=str) if table is not None and target in table else []
    kind = output_kind(signature)
    if example is not None:
        frame = example if isinstance(example, pd.DataFrame) else pd.DataFrame(example)
        if len(frame) == 0:
            raise DeployError(f"the input example of {served.uri} has no rows: log one with rows, or none")
        return Request([str(c) for c in frame.columns], frame_rows(frame), "its input example", kind, classes)
    inputs = getattr(signature, "inputs", None)
    if inputs is None or not inputs.has_input_names():
        raise DeployError(
            f"{served.uri} has neither an input example nor a signature with column names: smoke cannot build "
            "a request; log the model with signature= (train does) or input_example="
        )
    if table is None:
        raise DeployError(
            f"{served.uri} has no input example and {test_data} is missing: run `make pipeline` first "
            "(smoke sends rows of the test split)"
        )
    columns = [str(n) for n in inputs.input_names()]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DeployError(
            f"the signature of {served.uri} names columns {test_data} lacks ({', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}): it was trained on other data"
        )
    frame = table[columns].head(max_rows)
    if len(frame) == 0:
        raise DeployError(f"{test_data} has no rows: run `make pipeline` first")
    return Request(columns, frame_rows(frame), f"{len(frame)} rows of {test_data}", kind, classes)


def predictions_of(answer: Any) -> list[Any]:
    """The predictions of a scoring server's answer: {"predictions": [...]} (MLflow 2+) or a list."""
    found = answer.get("predictions") if isinstance(answer, dict) else answer
    if not isinstance(found, list):
        raise DeployError(f"the answer holds no list of predictions: {json.dumps(answer)[:200]}")
    if found and isinstance(found[0], dict) and len(found[0]) == 1:  # a one-column frame as records
        found = [next(iter(row.values())) for row in found]
    return found


def value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def check_answer(request: Request, answer: Any, where: str) -> str:
    """One line on a bad answer; else what was checked (for the report line)."""
    predictions = predictions_of(answer)
    rows = len(request.rows)
    if len(predictions) != rows:
        raise DeployError(f"{where} answered {len(predictions)} predictions for {rows} rows: one per row expected")
    kinds = {value_kind(p) for p in predictions}
    if request.output_kind is not None:
        allowed = {request.output_kind} | ({"integer"} if request.output_kind == "float" else set())
        wrong = kinds - allowed
        if wrong:
            raise DeployError(
                f"{where} answered predictions of type {', '.join(sorted(wrong))}; the signature says "
                f"{request.output_kind}: the served model is not the one registered"
            )
    checked = [f"type {request.output_kind or '/'.join(sorted(kinds))}"]
    if request.classes:
        known = {str(c) for c in request.classes}
        unknown = sorted({str(p) for p in predictions} - known)
        if unknown:
            raise DeployError(
                f"{where} answered classes {', '.join(unknown[:5])} that the test split does not hold "
                f"({', '.join(sorted(known))})"
            )
        checked.append(f"classes in {{{', '.join(sorted(known))}}}")
    return ", ".join(checked)


def first_line(text: str) -> str:
    """The message of an MLflow error body ({"error_code", "message"}) or the body's first line."""
    try:
        found = json.loads(text)
        if isinstance(found, dict) and found.get("message"):
            text = str(found["message"])
    except ValueError:
        pass
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[0] if lines else "(empty body)")[:300]


TOKEN_ENV = "SMOKE_TOKEN"  # a bearer token for a serving front that asks for one; never printed
LATENCY_KEY = "smoke_latency_ms"
DEFAULT_LATENCY_MS = 2000


class SmokeError(DeployError):
    """A smoke check failed: `check` names which (answer, missing values, extremes, latency, reach)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check


def hide_token(text: str) -> str:
    token = os.environ.get(TOKEN_ENV, "")
    return text.replace(token, "***") if token else text


def http(url: str, body: bytes | None = None, timeout: float = TIMEOUT) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if os.environ.get(TOKEN_ENV):
        headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


def ping(url: str) -> None:
    unreachable = f"nothing answers at {url}: start the server first (make serve), or set SMOKE_URL"
    try:
        status, text = http(f"{url}/ping", timeout=5)
    except (urllib.error.URLError, OSError):
        raise SmokeError("reach", unreachable) from None
    if status != 200:
        raise SmokeError("reach", f"{url}/ping answered HTTP {status} ({first_line(text)}): the server is not ready")


def logged_model(served: Served) -> tuple[Any, Any]:
    """(signature, input example or None) of a registered version, read from its MLmodel."""
    import mlflow
    from mlflow.models import Model

    with tempfile.TemporaryDirectory(prefix="smoke-") as folder:
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=f"{served.uri}/MLmodel", dst_path=folder)
        except Exception as exc:
            raise DeployError(
                f"cannot read the MLmodel of {served.uri} ({exc.__class__.__name__}: {first_line(str(exc))[:160]})"
            ) from None
        model = Model.load(local)
        example = None
        if model.saved_input_example_info:
            name = model.saved_input_example_info.get("artifact_path")
            if name:
                mlflow.artifacts.download_artifacts(artifact_uri=f"{served.uri}/{name}", dst_path=folder)
                example = model.load_input_example(folder)
        return model.signature, example


def latency_limit(cfg: Project) -> float:
    """params.yaml `deploy.smoke_latency_ms`: the slowest answer smoke accepts, in milliseconds."""
    section = cfg.params.get("deploy")
    raw = section.get(LATENCY_KEY, DEFAULT_LATENCY_MS) if isinstance(section, dict) else DEFAULT_LATENCY_MS
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise DeployError(f"params.yaml deploy.{LATENCY_KEY} must be a positive number of milliseconds, not {raw!r}")
    return float(raw)


def edge_requests(cfg: Project, base: Request, signature: Any, test_data: str) -> list[tuple[str, Request | str]]:
    """The edge rows besides the base request: (check, request) or (check, why it is skipped).

    - missing values: the first row with every column the signature marks optional set to null;
    - extremes: the minimum and the maximum of every column of the test split.
    """
    import pandas as pd

    found: list[tuple[str, Request | str]] = []
    inputs = getattr(signature, "inputs", None)
    optional = [
        str(spec.name)
        for spec in (getattr(inputs, "inputs", None) or [])
        if getattr(spec, "name", None) in base.columns and getattr(spec, "required", True) is False
    ]
    if optional:
        row = [None if column in optional else value for column, value in zip(base.columns, base.rows[0], strict=True)]
        shown = ", ".join(optional[:4]) + (", ..." if len(optional) > 4 else "")
        found.append(
            ("missing values", Request(base.columns, [row], f"optional {shown} null", base.output_kind, base.classes))
        )
    else:
        found.append(("missing values", "skipped: the signature requires every column"))
    split = cfg.path(test_data)
    table = pd.read_csv(split) if split.is_file() else None
    if table is None or any(column not in table.columns for column in base.columns) or len(table) == 0:
        found.append(("extremes", f"skipped: {test_data} lacks the request's columns"))
        return found
    frame = table[base.columns]
    rows: list[list[Any]] = [[], []]
    for column in base.columns:
        values = frame[column].dropna()
        try:
            low, high = (values.min(), values.max()) if len(values) else (None, None)
        except TypeError:  # mixed types: the first value stands for both ends
            low = high = values.iloc[0]
        rows[0].append(plain(low))
        rows[1].append(plain(high))
    found.append(
        ("extremes", Request(base.columns, rows, f"min and max of {test_data}", base.output_kind, base.classes))
    )
    return found


@dataclass
class Target:
    """Where smoke sends its requests: a scoring server's URL, or a SageMaker endpoint."""

    url: str
    endpoint: str | None = None  # SageMaker: invoke_endpoint (boto3), no /ping
    region: str | None = None

    def send(self, body: bytes) -> tuple[int, str, float]:
        """(status, text, milliseconds)."""
        started = time.perf_counter()
        if self.endpoint:
            from . import serving_aws

            status, text = serving_aws.invoke(self.endpoint, body, self.region)
        else:
            status, text = http(f"{self.url}/invocations", body)
        return status, text, (time.perf_counter() - started) * 1000


def target_of(url: str) -> Target:
    from .serving_aws import endpoint_of

    url = url.strip().rstrip("/")
    sagemaker = endpoint_of(url)
    if sagemaker:
        return Target(url, sagemaker[0], sagemaker[1])
    if not re.match(r"https?://", url):
        raise DeployError(f"SMOKE_URL={url!r} is not an http(s) URL or sagemaker://<endpoint>: e.g. {DEFAULT_URL}")
    return Target(url.removesuffix("/invocations"))


def smoke_request(target: Target, request: Request, served: Served, check: str) -> tuple[str, float]:
    where = f"{target.url}{'' if target.endpoint else '/invocations'} ({served.uri})"
    try:
        status, text, millis = target.send(request.body())
    except (urllib.error.URLError, OSError) as exc:
        raise SmokeError(check, f"{where} did not answer ({getattr(exc, 'reason', exc)})") from None
    if status != 200:
        raise SmokeError(check, f"{where} answered HTTP {status}: {first_line(text)}")
    try:
        answer = json.loads(text)
    except ValueError:
        raise SmokeError(check, f"{where} answered something that is not JSON: {first_line(text)}") from None
    try:
        return check_answer(request, answer, where), millis
    except DeployError as exc:
        raise SmokeError(check, str(exc)) from None


def smoke(cfg: Project, url: str, ref: str | None, test_data: str = TEST_SPLIT, served: Served | None = None) -> str:
    """Every check against `url`, one line each; raises SmokeError at the first that fails."""
    try:
        return _smoke(cfg, url, ref, test_data, served)
    except DeployError as exc:
        message = hide_token(str(exc))
        raise (SmokeError(exc.check, message) if isinstance(exc, SmokeError) else DeployError(message)) from None


def _smoke(cfg: Project, url: str, ref: str | None, test_data: str, served: Served | None) -> str:
    target = target_of(url)
    limit = latency_limit(cfg)
    served = served or find_version(connect(cfg), cfg, ref)
    with registry_of(cfg):
        signature, example = logged_model(served)
    request = build_request(cfg, served, signature, example, test_data)
    if not target.endpoint:
        ping(target.url)
    checked, millis = smoke_request(target, request, served, "answer")
    rows = len(request.rows)
    lines = [f"smoke: {target.url} answered {rows}/{rows} rows of {served.uri} ({request.source}; {checked})"]
    print(lines[0], flush=True)
    times = [millis]
    for check, edge in edge_requests(cfg, request, signature, test_data):
        if isinstance(edge, str):
            lines.append(f"smoke: {check}: {edge}")
        else:
            _, millis = smoke_request(target, edge, served, check)
            times.append(millis)
            lines.append(f"smoke: {check}: {len(edge.rows)}/{len(edge.rows)} rows answered ({edge.source})")
        print(lines[-1], flush=True)
    slowest = max(times)
    if slowest > limit:
        raise SmokeError(
            "latency",
            f"{target.url} took {slowest:.0f} ms to answer, more than params.yaml deploy.{LATENCY_KEY} "
            f"({limit:.0f} ms): a cold start or an undersized service",
        )
    lines.append(f"smoke: latency: slowest of {len(times)} answers {slowest:.0f} ms <= {limit:.0f} ms")
    print(lines[-1], flush=True)
    return lines[0]


# --- the serving image ---------------------------------------------------------------------------


def image_name(model: str) -> str:
    """A Docker repository path component: lowercase, [a-z0-9._-]."""
    name = re.sub(r"[^a-z0-9._-]+", "-", model.lower()).strip("-._")
    return name or "model"


def image_tag(served: Served) -> str:
    short = served.commit[:7] if served.commit else "nocommit"
    return f"v{served.version}-{short}"


def image_commands(served: Served, context: Path, repository: str) -> list[str]:
    image = f"{repository.rstrip('/')}/{image_name(served.model)}:{image_tag(served)}"
    return [
        f"docker build -t {shlex.quote(image)} {shlex.quote(str(context))}",
        f"docker push {shlex.quote(image)}",
    ]


def dockerfile(cfg: Project, ref: str | None, out: str) -> list[str]:
    served = find_version(connect(cfg), cfg, ref)
    context = Path(out)
    if not context.is_absolute():
        context = cfg.root / context
    command = [
        sys.executable, "-m", "mlflow", "models", "generate-dockerfile", "-m", served.uri,
        "--output-directory", str(context), "--env-manager", "local",
    ]  # fmt: skip
    done = subprocess.run(command, env=served_env(cfg), capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (context / "Dockerfile").is_file():
        errors = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith(" ")]
        last = (errors or ["no Dockerfile written"])[-1][:240]
        raise DeployError(f"mlflow models generate-dockerfile failed for {served.uri}: {last}")
    repository = os.environ.get(IMAGE_REPOSITORY_ENV, "").strip()
    commands = image_commands(served, context, repository or PLACEHOLDER_REPOSITORY)
    shown = context.relative_to(cfg.root) if context.is_relative_to(cfg.root) else context
    print(f"serving-image: {shown}/Dockerfile serves {served.uri} (commit {served.commit or 'unknown'})")
    if not repository:
        print(f"serving-image: {IMAGE_REPOSITORY_ENV} is not set: replace {PLACEHOLDER_REPOSITORY} below")
    if not served.commit:
        print(f"serving-image: {served.uri} has no {COMMIT_TAG} tag: the image tag says 'nocommit'")
    for line in commands:
        print(line)
    return commands


# --- entry point ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="mlops-gitops deploy", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    one = sub.add_parser("serve", help="MLflow's scoring server for a registered version, on 127.0.0.1")
    one.add_argument("--version", default=None, help="version number or alias (default: champion)")
    one.add_argument("--port", type=int, default=DEFAULT_PORT)
    two = sub.add_parser("smoke", help="send the version's input example to a scoring server and check the answer")
    two.add_argument("--url", default=DEFAULT_URL)
    two.add_argument("--version", default=None, help="version number or alias (default: champion)")
    two.add_argument("--test-data", default=TEST_SPLIT, help="CSV the request rows come from without an example")
    three = sub.add_parser("dockerfile", help="the serving image's build context and its build/push commands")
    three.add_argument("--version", default=None, help="version number or alias (default: champion)")
    three.add_argument("--out", default=DEFAULT_IMAGE_DIR)
    from . import rollout  # config, rollout, rollback: merge-to-deploy (rollout.py)

    rollout.add_parsers(sub)
    args = top.parse_args(argv)
    quiet_mlflow()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one line, not bars
    if args.command in ("config", "rollout", "rollback"):
        return run(rollout.action(load, args), "serving-config" if args.command == "config" else args.command)
    version = args.version or None
    actions = {
        "serve": lambda: serve(load(), version, args.port),
        "smoke": lambda: smoke(load(), args.url or DEFAULT_URL, version, args.test_data),
        "dockerfile": lambda: dockerfile(load(), version, args.out),
    }
    names = {"serve": "serve", "smoke": "smoke", "dockerfile": "serving-image"}
    return run(actions[args.command], names[args.command])


if __name__ == "__main__":
    sys.exit(main())
