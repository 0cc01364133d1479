"""`mlops-gitops storage push|pull` (`make push` / `make pull`): move DVC-tracked data to and from a DVC remote.

It runs `dvc push` / `dvc pull` on the remote (by default `cloud`, the project's bucket) and, when
the transfer fails, prints ONE line that says what is wrong and what to change, and exits 1. The
full DVC output goes to `.dvc/tmp/storage-<command>.log`. The local DVC cache is never touched by
a failure: DVC only reads it on push and only adds to it on pull.

Before DVC starts, the storage endpoint is probed with one TCP connection (5 s): DVC's clients
retry an unreachable endpoint for 15 s (S3), 40 s (GCS) or minutes (Azure) before they give up.

Endpoints and credentials are never written here or in `.dvc/config`: CI and laptops set them
through the cloud's usual environment variables or `dvc remote modify --local` (docs/storage.md).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .errors import CommandError, run
from .project import find_root

DEFAULT_REMOTE = "cloud"
SKIPPED = {".dvc", ".git", ".venv", "node_modules"}  # folders that hold no .dvc files of the project
PROBE_SECONDS = 5.0
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


class StorageError(CommandError):
    """The transfer cannot happen; the message names the cause and the fix."""


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    options: dict[str, Any]

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def bucket(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def kind(self) -> str:
        """'bucket' or, on Azure, 'container': the word the cloud's own console uses."""
        return "container" if self.scheme == "azure" else "bucket"


def read_remote(root: Path, name: str) -> Remote:
    """The remote as DVC sees it: .dvc/config merged with config.local, global and system config."""
    from dvc.config import Config, ConfigError

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
    except ConfigError as exc:
        raise StorageError(f"the DVC configuration is invalid ({exc}): fix .dvc/config or .dvc/config.local") from None
    remotes = config.get("remote", {})
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise StorageError(f"there is no DVC remote named '{name}' (remotes: {known}); see .dvc/config")
    options = dict(remotes[name])
    return Remote(name=name, url=str(options.pop("url")), options=options)


def connection_string_endpoint(connection_string: str) -> str:
    parts = dict(item.split("=", 1) for item in connection_string.split(";") if "=" in item)
    if parts.get("BlobEndpoint"):
        return parts["BlobEndpoint"]
    protocol = parts.get("DefaultEndpointsProtocol", "https")
    suffix = parts.get("EndpointSuffix", "core.windows.net")
    return f"{protocol}://{parts.get('AccountName', '')}.blob.{suffix}"


def endpoint(remote: Remote, env: dict[str, str] | None = None) -> str | None:
    """The URL the remote's client will connect to; None for a folder remote."""
    env = dict(os.environ if env is None else env)
    options = remote.options
    if remote.scheme == "s3":
        region = options.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        return str(
            options.get("endpointurl")
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL")
            or f"https://s3.{region}.amazonaws.com"
        )
    if remote.scheme == "gs":
        emulator = env.get("STORAGE_EMULATOR_HOST", "")
        if emulator and "://" not in emulator:
            emulator = f"http://{emulator}"
        return str(options.get("endpointurl") or emulator or "https://storage.googleapis.com")
    if remote.scheme == "azure":
        connection_string = options.get("connection_string") or env.get("AZURE_STORAGE_CONNECTION_STRING")
        if connection_string:
            return connection_string_endpoint(str(connection_string))
        account = options.get("account_name") or env.get("AZURE_STORAGE_ACCOUNT", "")
        return f"https://{account}.blob.core.windows.net"
    return None


def behind_proxy(host: str, env: dict[str, str]) -> bool:
    """A proxy carries the traffic: a direct probe would say nothing about the real path."""
    proxy = any(env.get(name) for name in PROXY_VARIABLES)
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    bypass = [item.strip().lstrip(".") for item in no_proxy.split(",")]
    return proxy and not any(item and (host == item or host.endswith(f".{item}")) for item in bypass)


def probe(url: str, env: dict[str, str] | None = None, seconds: float = PROBE_SECONDS) -> None:
    """One TCP connection to the endpoint: a wrong or dead endpoint fails in seconds, not minutes."""
    env = dict(os.environ if env is None else env)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or behind_proxy(host, env):
        return
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=seconds):
            return
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise StorageError(
            f"cannot reach the storage endpoint {url} ({reason}): check the endpoint URL "
            "(`dvc remote modify --local` or the environment) and your network"
        ) from None


def check_google_credentials(remote: Remote, env: dict[str, str] | None = None) -> None:
    """A key file's token exchange, once: gcsfs retries a refused one for ~40 s per command."""
    env = dict(os.environ if env is None else env)
    path = remote.options.get("credentialpath") or env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if remote.scheme != "gs" or remote.options.get("allow_anonymous_login") or not path:
        return
    import google.auth
    from google.auth import exceptions
    from google.auth.transport.requests import Request

    scope = "https://www.googleapis.com/auth/devstorage.read_write"
    try:
        credentials, _ = google.auth.load_credentials_from_file(str(path), scopes=[scope])
        credentials.refresh(Request())
    except exceptions.RefreshError as exc:
        reason = str(exc.args[0] if exc.args else exc).splitlines()[0][:200]
        raise StorageError(
            f"the storage refused the credentials in {path} ({reason}) for remote '{remote.name}' "
            f"({remote.url}): {CREDENTIAL_HINTS['gs']}"
        ) from None
    except exceptions.TransportError as exc:
        raise StorageError(
            f"cannot reach Google's token endpoint for {path} ({exc.__class__.__name__}): check your network"
        ) from None
    except (exceptions.DefaultCredentialsError, OSError, ValueError) as exc:
        raise StorageError(
            f"the credentials file {path} cannot be used ({exc}) for remote '{remote.name}': {CREDENTIAL_HINTS['gs']}"
        ) from None


# Patterns in DVC's output, most specific first. Each maps to a cause; `explain` words the message.
UNREACHABLE = re.compile(
    r"Could not connect to the endpoint URL|Cannot connect to host|Connect call failed|Connection refused"
    r"|Name or service not known|Temporary failure in name resolution|nodename nor servname"
    r"|Failed to establish a new connection|ConnectTimeout|Connection timed out|ServiceRequestError"
    r"|EndpointConnectionError",
    re.IGNORECASE,
)
CREDENTIALS = re.compile(
    r"InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|InvalidToken|InvalidClientTokenId"
    r"|Unauthorized|\b401\b|Unable to locate credentials"
    r"|NoCredentialsError|AuthenticationFailed"
    r"|InvalidAuthenticationInfo|ClientAuthenticationError|DefaultAzureCredential failed"
    r"|invalid_grant|RefreshError|DefaultCredentialsError|Could not automatically determine credentials"
    r"|Failed to authenticate",
    re.IGNORECASE,
)
# Valid credentials, but their identity may not do this (an IAM policy, a missing role).
DENIED = re.compile(
    r"AccessDenied|Access Denied|AuthorizationPermissionMismatch|AuthorizationFailure"
    r"|Anonymous caller does not have|does not have storage\.\w+\.\w+ access",
    re.IGNORECASE,
)
# A bare 403 (S3 answers HEAD requests without an error code): either of the two.
FORBIDDEN = re.compile(r"\bForbidden\b|\b403\b", re.IGNORECASE)
NO_BUCKET = re.compile(
    r"NoSuchBucket|specified bucket does not exist|ContainerNotFound|specified container does not exist"
    r"|No such container|unexpected error - b/[^/\s]+/o\s*$",
    re.IGNORECASE | re.MULTILINE,
)
MISSING = re.compile(r"missing from the remote|not found in the remote|failed to (pull|fetch)", re.IGNORECASE)

CREDENTIAL_HINTS = {
    "s3": "in CI the OIDC role (aws-actions/configure-aws-credentials); locally AWS_PROFILE or `aws sso login`",
    "gs": "in CI workload identity (google-github-actions/auth); locally "
    "`gcloud auth application-default login` or GOOGLE_APPLICATION_CREDENTIALS",
    "azure": "in CI OIDC (azure/login); locally `az login`, with the Storage Blob Data Contributor role",
}


def last_error(output: str) -> str:
    """DVC's own last ERROR line, without its prefix: the fallback message."""
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    if not errors:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        return lines[-1][:300] if lines else "no output"
    message = errors[-1].removeprefix("ERROR:").strip()
    return message.removeprefix("unexpected error - ")[:300]


def bucket_exists(root: Path, remote: Remote) -> bool | None:
    """Whether the remote's bucket (container) exists; None when that cannot be told.

    Needed because some clients report a missing container as missing files (dvc-azure on pull).
    """
    try:
        from dvc.repo import Repo

        with Repo(str(root)) as repo:
            return bool(repo.cloud.get_remote(remote.name).fs.exists(remote.bucket))
    except Exception:
        return None


def no_bucket(remote: Remote, where: str | None) -> str:
    at = f" at {where}" if where else ""
    return (
        f"the {remote.kind} '{remote.bucket}' of remote '{remote.name}' ({remote.url}) does not exist{at}: "
        "check the url in .dvc/config, or create it with the project's Terraform"
    )


def explain(output: str, remote: Remote, command: str, where: str | None) -> str:
    """One line for a failed `dvc push/pull`: the cause, the remote, the fix."""
    target = f"remote '{remote.name}' ({remote.url})"
    at = f" at {where}" if where else ""
    if UNREACHABLE.search(output):
        return f"cannot reach the storage endpoint{at} for {target}: check the endpoint URL and your network"
    hint = CREDENTIAL_HINTS.get(remote.scheme, "check the remote's credentials")
    if CREDENTIALS.search(output):
        return f"the storage{at} refused the credentials for {target}: {hint}"
    if DENIED.search(output):
        return (
            f"the storage{at} denied `dvc {command}` on {target} to the identity in use: its role lacks "
            "the permission (a PR identity may read the data and add DVC objects only); use an identity that has it"
        )
    if FORBIDDEN.search(output):
        return f"the storage{at} refused the credentials for {target} (403; or its role lacks this permission): {hint}"
    if NO_BUCKET.search(output):
        return no_bucket(remote, where)
    if command == "pull" and MISSING.search(output):
        return f"some data is not in {target}: run `make push` where it was added, then pull again"
    return f"dvc {command} to {target} failed: {last_error(output)}"


def tracked_outputs(root: Path) -> list[Path]:
    """The files and folders that `.dvc` files track (the raw data: the pipeline cannot rebuild it)."""
    found = []
    for dvc_file in sorted(root.rglob("*.dvc")):
        if not dvc_file.is_file() or SKIPPED & set(dvc_file.relative_to(root).parts[:-1]):
            continue
        data = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
        found += [dvc_file.parent / str(out["path"]) for out in data.get("outs", [])]
    return found


def transfer(command: str, remote_name: str, jobs: int | None, targets: list[str]) -> None:
    root = find_root()
    remote = read_remote(root, remote_name)
    where = endpoint(remote)
    if where:
        probe(where)
    check_google_credentials(remote)
    args = [sys.executable, "-m", "dvc", command, "--remote", remote_name]
    if command == "pull":
        # Pipeline outputs missing from the remote are rebuilt by `dvc repro`; tracked data is
        # checked below.
        args.append("--allow-missing")
    if jobs:
        args += ["--jobs", str(jobs)]
    done = subprocess.run([*args, *targets], cwd=root, capture_output=True, text=True, check=False)
    log = root / ".dvc" / "tmp" / f"storage-{command}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise StorageError(
            f"{explain(done.stdout + done.stderr, remote, command, where)} (details: {log.relative_to(root)})"
        )
    if command == "pull" and not targets:
        missing = [str(path.relative_to(root)) for path in tracked_outputs(root) if not path.exists()]
        if missing:
            if remote.scheme in CREDENTIAL_HINTS and bucket_exists(root, remote) is False:
                raise StorageError(f"{no_bucket(remote, where)} (details: {log.relative_to(root)})")
            raise StorageError(
                f"{', '.join(missing)} not in remote '{remote_name}' ({remote.url}): run `make push` where "
                "it was added, then pull again"
            )
    # DVC's last line says what moved ("3 files pushed"); the lines before list each file.
    changes = ("A ", "M ", "D ")
    summary = [line for line in done.stdout.splitlines() if line.strip() and not line.startswith(changes)]
    print(f"{command}: {summary[-1] if summary else 'done'} ({remote_name}: {remote.url})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlops-gitops storage", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["push", "pull"])
    parser.add_argument("--remote", default=DEFAULT_REMOTE, help="DVC remote name (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=None, help="parallel transfers (DVC's default if unset)")
    parser.add_argument("targets", nargs="*", help=".dvc files or stages (default: everything)")
    options = parser.parse_args(argv)
    return run(lambda: transfer(options.command, options.remote, options.jobs, options.targets), options.command)
