"""pytest plugin: each cloud's object-store emulator on 127.0.0.1, started on first use.

| cloud | emulator | installed by | checks credentials |
| --- | --- | --- | --- |
| aws | moto's server (`moto[server]`, pyproject.toml) | `uv sync` | yes: IAM auth is switched on once an IAM user exists |
| azure | Azurite's blob service (npm `azurite`, pinned in the root Makefile) | `make test` | yes: Shared Key |
| gcp | `gcp-storage-emulator` (pyproject.toml) | `uv sync` | no: any caller is accepted |

Fixtures:

- `storage_emulator(cloud)`: the running `Emulator` (endpoint, bucket helpers, DVC settings).
- `dvc_emulator_remote(cloud, project=None)`: what a test needs to point a generated project's
  committed `cloud` DVC remote at the emulator: the `dvc remote modify --local cloud KEY VALUE`
  pairs and the environment for DVC. With `project`, the bucket (or container) named by the
  committed remote is created first. Only endpoint and credentials change, as in the workflows.
- `mlflow_on_bucket(cloud)`: an `mlflow server` whose `--artifacts-destination` is a bucket of
  that cloud's emulator (`.start(*clouds)` launches servers early, without waiting).

Every process gets `GUARD_ENV`: no SDK may fall back to a cloud metadata service (a link-local
address) or a cloud endpoint when a test's credentials are wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from helpers.mlflow_server import free_port, server_command, wait_until_up
from helpers.project import QUIET_ENV, TEMPLATE

VENV_BIN = TEMPLATE / ".venv" / "bin"
AZURITE = TEMPLATE / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (a public, well-known key, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CLOSED = "127.0.0.1:9"  # the discard port: nothing listens, so a fallback fails at once, locally
NO_FILE = str(TEMPLATE / ".cache" / "empty")  # an empty file: no profile, no shared credentials

GUARD_ENV = {
    **QUIET_ENV,
    # No instance-metadata or cloud fallbacks.
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": NO_FILE,
    "AWS_SHARED_CREDENTIALS_FILE": NO_FILE,
    "GCE_METADATA_HOST": CLOSED,
    "GCE_METADATA_IP": CLOSED,
    "NO_GCE_CHECK": "true",
    "IDENTITY_ENDPOINT": f"http://{CLOSED}",
    "IMDS_ENDPOINT": f"http://{CLOSED}",
    "MSI_ENDPOINT": f"http://{CLOSED}",
    # gcsfs otherwise spends 60 s per lookup on a gRPC probe that cannot succeed here.
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
}
CLOUD_ENV_PREFIXES = (
    "AWS_",
    "AZURE_",
    "GOOGLE_",
    "GCE_",
    "STORAGE_EMULATOR",
    "MLFLOW_S3",
    "MLFLOW_TRACKING",
    "CLOUDSDK_",
    "VIRTUAL_ENV",
)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ without any cloud configuration of the machine, plus the guards and `extra`."""
    Path(NO_FILE).parent.mkdir(exist_ok=True)
    Path(NO_FILE).touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLOUD_ENV_PREFIXES)}
    env.update(GUARD_ENV)
    env.update(extra or {})
    return env


class Service:
    """A server process on a free loopback port, stopped at the end of the session."""

    def __init__(self, name: str, command: list[str], root: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.root = name, root
        self.log = root / f"{name}.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=root,
                env=clean_env(env),
                start_new_session=True,
            )

    def wait_for(self, url: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers: up
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} not up after {seconds}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Its own process group (e.g. `mlflow server` and its uvicorn worker), by group id."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def split_url(url: str) -> tuple[str, str]:
    """s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix -> (bucket, prefix)."""
    parts = urllib.parse.urlsplit(url)
    return parts.netloc, parts.path.strip("/")


def committed_remote(project: Path, name: str = "cloud") -> dict[str, str]:
    """The remote exactly as the generated project commits it (.dvc/config, not config.local)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for raw in (project / ".dvc" / "config").read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]'"), {})
        elif line and not line.startswith(("#", ";")) and "=" in line:
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()
    return sections[f'remote "{name}"']


@dataclass
class EmulatedRemote:
    """How to point a project's `cloud` remote at an emulator: the --local settings and the env."""

    cloud: str
    settings: list[tuple[str, str]]
    env: dict[str, str] = field(default_factory=dict)

    def apply(self, project: Path, dvc: Path | str, remote: str = "cloud") -> None:
        """Run `dvc remote modify --local <remote> KEY VALUE` for each setting (config.local only)."""
        for key, value in self.settings:
            subprocess.run(
                [str(dvc), "remote", "modify", "--local", remote, key, value],
                cwd=project,
                check=True,
                env=clean_env(self.env),
                capture_output=True,
            )


class Emulator:
    cloud: str
    url_scheme: str

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.services: list[Service] = []

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    # What DVC needs: overridden per cloud.
    def dvc_settings(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def dvc_env(self) -> dict[str, str]:
        return {}

    def remote(self) -> EmulatedRemote:
        return EmulatedRemote(self.cloud, self.dvc_settings(), self.dvc_env())

    def create_bucket(self, name: str) -> None:
        raise NotImplementedError

    def list_objects(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """{key: size} of every object under `prefix`."""
        raise NotImplementedError

    # Wrong configurations, each in the form a user gets it wrong.
    def wrong_credentials(self) -> EmulatedRemote:
        raise NotImplementedError

    def unreachable(self, closed_port: int) -> EmulatedRemote:
        raise NotImplementedError

    # MLflow
    def artifacts_destination(self, bucket: str, path: str) -> str:
        raise NotImplementedError

    def mlflow_server_env(self) -> dict[str, str]:
        return {}


class S3Emulator(Emulator):
    """moto's server. With `auth`, an IAM user with an S3 policy is created and IAM auth is then
    switched on, so wrong keys and wrong signatures are refused as AWS refuses them."""

    cloud, url_scheme = "aws", "s3"
    region = "us-east-1"

    def __init__(self, root: Path, auth: bool = True) -> None:
        super().__init__(root)
        moto = VENV_BIN / "moto_server"
        self.services.append(Service("moto", [str(moto), "-H", "127.0.0.1", "-p", str(self.port)], root))
        self.services[0].wait_for(f"{self.endpoint}/moto-api/")
        self.key_id, self.secret = "testing", "testing"
        if auth:
            self.key_id, self.secret, _ = self.add_user("ci", "s3:*")
            self.enforce()

    def add_user(self, name: str, action: str) -> tuple[str, str, str]:
        """An IAM user allowed `action` on everything: (access key id, secret, user ARN)."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
        iam.put_user_policy(
            UserName=name,
            PolicyName="all",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"], iam.get_user(UserName=name)["User"]["Arn"]

    def enforce(self) -> None:
        """IAM authentication from now on (moto checks every request once this is posted)."""
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request, timeout=10).read()

    def client(self, service: str = "s3", key_id: str | None = None, secret: str | None = None) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=key_id or self.key_id,
            aws_secret_access_key=secret or self.secret,
        )

    def dvc_settings(self) -> list[tuple[str, str]]:
        return [("endpointurl", self.endpoint), ("access_key_id", self.key_id), ("secret_access_key", self.secret)]

    def create_bucket(self, name: str) -> None:
        s3 = self.client()
        if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=name)

    def list_objects(self, bucket: str, prefix: str = "") -> dict[str, int]:
        found: dict[str, int] = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
        return found

    def incomplete_uploads(self, bucket: str) -> int:
        return len(self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))

    def wrong_credentials(self) -> EmulatedRemote:
        # A real key id with the wrong secret: the signature does not match.
        return EmulatedRemote(self.cloud, [*self.dvc_settings()[:2], ("secret_access_key", "not-the-secret")])

    def unreachable(self, closed_port: int) -> EmulatedRemote:
        return EmulatedRemote(
            self.cloud, [("endpointurl", f"http://127.0.0.1:{closed_port}"), *self.dvc_settings()[1:]]
        )

    def artifacts_destination(self, bucket: str, path: str) -> str:
        return f"s3://{bucket}/{path}"

    def mlflow_server_env(self) -> dict[str, str]:
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": self.region,
        }


def azure_shared_key(account: str, key: str, method: str, url: str, headers: dict[str, str]) -> str:
    """The Shared Key signature of Azure Storage (path-style URL, as Azurite serves it)."""
    parts = urllib.parse.urlsplit(url)
    ms = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-ms-"))
    resource = f"/{account}{parts.path}"
    for name, values in sorted(urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()):
        resource += f"\n{name.lower()}:{','.join(sorted(values))}"
    length = headers.get("Content-Length", "")
    string = "\n".join(
        [
            method,
            "",
            "",
            "" if length == "0" else length,
            "",
            headers.get("Content-Type", ""),
            "",
            "",
            "",
            "",
            "",
            "",
            *[f"{k}:{v}" for k, v in ms],
            resource,
        ]
    )
    digest = hmac.new(base64.b64decode(key), string.encode(), hashlib.sha256).digest()
    return f"SharedKey {account}:{base64.b64encode(digest).decode()}"


class AzureEmulator(Emulator):
    """Azurite's blob service, on disk, telemetry off. DVC reaches it through a connection string,
    which dvc-azure prefers over the committed `account_name`."""

    cloud, url_scheme = "azure", "azure"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        if not AZURITE.exists():
            pytest.fail(f"Azurite is not installed ({AZURITE}): run the tests with `make test`")
        (root / "azurite").mkdir()
        command = [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            str(root / "azurite"),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",
        ]
        self.services.append(Service("azurite", command, root))
        self.services[0].wait_for(f"{self.endpoint}/{AZURITE_ACCOUNT}?comp=list")
        self.blob_endpoint = f"{self.endpoint}/{AZURITE_ACCOUNT}"

    def connection_string(self, key: str = AZURITE_KEY, endpoint: str | None = None) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={endpoint or self.blob_endpoint};"
        )

    def request(self, method: str, path: str, query: dict[str, str]) -> bytes:
        url = f"{self.blob_endpoint}/{path}?{urllib.parse.urlencode(sorted(query.items()))}"
        headers = {
            "x-ms-date": formatdate(usegmt=True),
            "x-ms-version": "2021-08-06",
            "Content-Length": "0",
            "Content-Type": "application/xml",  # said explicitly: urllib would add its own, unsigned
        }
        headers["Authorization"] = azure_shared_key(AZURITE_ACCOUNT, AZURITE_KEY, method, url, headers)
        request = urllib.request.Request(url, method=method, headers=headers, data=b"" if method == "PUT" else None)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bytes(answer.read())

    def dvc_settings(self) -> list[tuple[str, str]]:
        return [("connection_string", self.connection_string())]

    def create_bucket(self, name: str) -> None:
        try:
            self.request("PUT", name, {"restype": "container"})
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # already there
                raise

    def list_objects(self, bucket: str, prefix: str = "") -> dict[str, int]:
        found: dict[str, int] = {}
        marker = ""
        while True:
            query = {"restype": "container", "comp": "list", "prefix": prefix}
            if marker:
                query["marker"] = marker
            tree = ElementTree.fromstring(self.request("GET", bucket, query))
            for blob in tree.iter("Blob"):
                found[blob.findtext("Name", "")] = int(blob.findtext("Properties/Content-Length", "0"))
            marker = tree.findtext("NextMarker") or ""
            if not marker:
                return found

    def wrong_credentials(self) -> EmulatedRemote:
        wrong = base64.b64encode(b"not-the-account-key").decode()
        return EmulatedRemote(self.cloud, [("connection_string", self.connection_string(key=wrong))])

    def unreachable(self, closed_port: int) -> EmulatedRemote:
        endpoint = f"http://127.0.0.1:{closed_port}/{AZURITE_ACCOUNT}"
        return EmulatedRemote(self.cloud, [("connection_string", self.connection_string(endpoint=endpoint))])

    def artifacts_destination(self, bucket: str, path: str) -> str:
        # MLflow's wasbs:// parser wants the cloud's host form; the connection string decides where
        # the requests go.
        return f"wasbs://{bucket}@{AZURITE_ACCOUNT}.blob.core.windows.net/{path}"

    def mlflow_server_env(self) -> dict[str, str]:
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string()}


class TokenRefusal(BaseHTTPRequestHandler):
    """Google's OAuth token endpoint refusing a key that is not (or no longer) valid."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class GcsEmulator(Emulator):
    """gcp-storage-emulator, on disk. It accepts any caller, so DVC logs in anonymously; the wrong-
    credentials case is Google's token endpoint refusing a service-account key (see
    `wrong_credentials`)."""

    cloud, url_scheme = "gcp", "gs"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        command = [
            str(VENV_BIN / "python"),
            str(Path(__file__).with_name("gcs_emulator.py")),
            "-d",
            str(root / "gcs"),
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-q",
        ]
        self.services.append(Service("gcs", command, root))
        self.services[0].wait_for(f"{self.endpoint}/storage/v1/b")
        self.token_server: ThreadingHTTPServer | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.endpoint}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.loads(answer.read() or b"{}"))

    def dvc_settings(self) -> list[tuple[str, str]]:
        return [("endpointurl", self.endpoint), ("allow_anonymous_login", "true")]

    def dvc_env(self) -> dict[str, str]:
        return {"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}

    def create_bucket(self, name: str) -> None:
        try:
            self.call("POST", "/storage/v1/b?project=test", {"name": name})
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise

    def delete_object(self, bucket: str, name: str) -> None:
        quoted = urllib.parse.quote(bucket, safe=""), urllib.parse.quote(name, safe="")
        self.call("DELETE", "/storage/v1/b/{}/o/{}".format(*quoted))

    def list_objects(self, bucket: str, prefix: str = "") -> dict[str, int]:
        found: dict[str, int] = {}
        token = ""
        while True:
            query = urllib.parse.urlencode({"prefix": prefix, **({"pageToken": token} if token else {})})
            page = self.call("GET", f"/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?{query}")
            found.update({item["name"]: int(item["size"]) for item in page.get("items", [])})
            token = page.get("nextPageToken", "")
            if not token:
                return found

    def wrong_credentials(self) -> EmulatedRemote:
        """A well-formed service-account key that Google's token endpoint refuses (invalid_grant,
        as for a deleted or rotated key). The endpoint is a loopback stand-in: the emulator itself
        never checks credentials."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        if self.token_server is None:
            self.token_server = ThreadingHTTPServer(("127.0.0.1", 0), TokenRefusal)
            threading.Thread(target=self.token_server.serve_forever, daemon=True).start()
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key_file = self.root / "revoked-key.json"
        key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "test",
                    "private_key_id": "0" * 40,
                    "private_key": pem.decode(),
                    "client_email": "ci@test.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"http://127.0.0.1:{self.token_server.server_address[1]}/token",
                }
            )
        )
        return EmulatedRemote(
            self.cloud,
            [("endpointurl", self.endpoint), ("allow_anonymous_login", "false"), ("credentialpath", str(key_file))],
            self.dvc_env(),
        )

    def unreachable(self, closed_port: int) -> EmulatedRemote:
        return EmulatedRemote(
            self.cloud,
            [("endpointurl", f"http://127.0.0.1:{closed_port}"), ("allow_anonymous_login", "true")],
            self.dvc_env(),
        )

    def artifacts_destination(self, bucket: str, path: str) -> str:
        return f"gs://{bucket}/{path}"

    def mlflow_server_env(self) -> dict[str, str]:
        # google-cloud-storage talks to STORAGE_EMULATOR_HOST anonymously.
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": "test"}

    def stop(self) -> None:
        if self.token_server is not None:
            self.token_server.shutdown()
        super().stop()


EMULATORS: dict[str, type[Emulator]] = {"aws": S3Emulator, "azure": AzureEmulator, "gcp": GcsEmulator}


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`storage_emulator(cloud)` -> the running Emulator of that cloud (started on first use)."""
    running: dict[str, Emulator] = {}

    def get(cloud: str) -> Emulator:
        if cloud not in running:
            running[cloud] = EMULATORS[cloud](tmp_path_factory.mktemp(f"emulator-{cloud}"))
        return running[cloud]

    try:
        yield get
    finally:
        for emulator in running.values():
            emulator.stop()


@pytest.fixture(scope="session")
def dvc_emulator_remote(storage_emulator: Any) -> Any:
    """`dvc_emulator_remote(cloud, project=None)` -> EmulatedRemote for the project's `cloud` remote.

    `.settings` are the `dvc remote modify --local cloud KEY VALUE` pairs, `.env` the extra
    environment, `.apply(project, dvc)` runs them. With `project`, the bucket or container of the
    committed remote URL is created in the emulator first.
    """

    def get(cloud: str, project: Path | None = None) -> EmulatedRemote:
        emulator = storage_emulator(cloud)
        if project is not None:
            emulator.create_bucket(split_url(committed_remote(project)["url"])[0])
        return emulator.remote()

    return get


class MlflowServers:
    """`mlflow server` processes, one per cloud, each with `--artifacts-destination` on a bucket of
    that cloud's emulator. A server takes ~20 s to start here: `start` launches without waiting,
    so tests can start them early and do other work meanwhile; calling the object waits."""

    bucket, prefix = "mlflow-artifacts", "artifacts"

    def __init__(self, mlflow: Path, storage_emulator: Any, tmp: pytest.TempPathFactory) -> None:
        self.mlflow, self.storage_emulator, self.tmp = mlflow, storage_emulator, tmp
        self.servers: dict[str, tuple[str, Emulator, Service]] = {}
        self.own: list[Emulator] = []

    def start(self, *clouds: str) -> None:
        for cloud in clouds:
            if cloud in self.servers:
                continue
            root = self.tmp.mktemp(f"mlflow-{cloud}")
            if cloud == "aws":
                # Its own moto, without IAM auth: MLflow's clients download S3 artifacts through
                # presigned URLs, and moto's IAM auth fails on those (it wants an Authorization header).
                emulator: Emulator = S3Emulator(root, auth=False)
                self.own.append(emulator)
            else:
                emulator = self.storage_emulator(cloud)
            emulator.create_bucket(self.bucket)
            port = free_port()
            service = Service(
                "mlflow",
                server_command(self.mlflow, port, root, emulator.artifacts_destination(self.bucket, self.prefix)),
                root,
                {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **emulator.mlflow_server_env()},
            )
            self.servers[cloud] = (f"http://127.0.0.1:{port}", emulator, service)

    def __call__(self, cloud: str) -> tuple[str, Emulator, str, str]:
        """(server URL, emulator, bucket, prefix) once the server of `cloud` answers."""
        self.start(cloud)
        url, emulator, service = self.servers[cloud]
        wait_until_up(f"{url}/health", service.process, service.log)
        return url, emulator, self.bucket, self.prefix

    def stop(self) -> None:
        for _, _, service in self.servers.values():
            service.stop()
        for emulator in self.own:
            emulator.stop()


@pytest.fixture(scope="session")
def mlflow_on_bucket(shared_env: Any, storage_emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`mlflow_on_bucket(cloud)` -> (server URL, emulator, bucket, prefix); `.start(*clouds)` to
    launch servers early without waiting."""
    servers = MlflowServers(shared_env("3.11") / "bin" / "mlflow", storage_emulator, tmp_path_factory)
    try:
        yield servers
    finally:
        servers.stop()


# Transfer times of the large file, per cloud: printed at the end of the run (not asserted).
TIMINGS: dict[str, dict[str, float]] = {}


@pytest.fixture(scope="session")
def storage_timings() -> dict[str, dict[str, float]]:
    for cloud in EMULATORS:
        TIMINGS.setdefault(cloud, {})
    return TIMINGS


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its timings to the controller, which prints the summary."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["storage_timings"] = {cloud: dict(times) for cloud, times in TIMINGS.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for cloud, times in getattr(node, "workeroutput", {}).get("storage_timings", {}).items():
        TIMINGS.setdefault(cloud, {}).update(times)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    measured = {cloud: times for cloud, times in TIMINGS.items() if times}
    if measured:
        terminalreporter.section("storage emulator timings")
        for cloud, times in measured.items():
            terminalreporter.write_line(f"{cloud}: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
