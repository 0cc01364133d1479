"""`make push` / `make pull`: every failure becomes one line that names its cause.

The DVC outputs below are real, recorded from dvc 3.67 against moto (S3), gcp-storage-emulator
(GCS) and Azurite (Azure Blob); the template's own suite runs the same failures end to end.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from mlops_gitops import storage
from mlops_gitops.project import Project
from mlops_gitops.storage import Remote, StorageError

S3 = Remote("cloud", "s3://acme-data/dvc", {"region": "eu-west-1"})
GS = Remote("cloud", "gs://acme-data/dvc", {})
AZ = Remote("cloud", "azure://dvc/data", {"account_name": "acmedata"})

# "<scheme> <cause>": DVC's output for that failure.
RECORDED = {
    "s3 no-bucket": "ERROR: unexpected error - The specified bucket does not exist: An error "
    "occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist",
    "s3 credentials": "ERROR: unexpected error - The AWS Access Key Id you provided does not exist in "
    "our records.: An error occurred (InvalidAccessKeyId) when calling the ListObjectsV2 operation",
    "s3 signature": "ERROR: unexpected error - The request signature we calculated does not match the "
    "signature you provided. Check your key and signing method.: An error occurred (SignatureDoesNotMatch)",
    # moto with IAM enforcement, a role without s3:PutObject on the prefix (tests/permissions).
    "s3 denied": "ERROR: failed to transfer 'ab12' - An error occurred (AccessDenied) when calling the "
    "PutObject operation: Access Denied\nERROR: failed to push data to the cloud - 1 files failed to upload",
    "s3 unreachable": "ERROR: unexpected error - Could not connect to the endpoint URL: "
    '"http://127.0.0.1:45999/acme-data?list-type=2&prefix=dvc%2Ffiles%2Fmd5%2F00%2F0&encoding-type=url"',
    "gs no-bucket": "ERROR: unexpected error - b/acme-data/o",
    "gs credentials": "ERROR: unexpected error - Invalid Credentials, 401: ('invalid_grant: Invalid JWT "
    "Signature.', {'error': 'invalid_grant', 'error_description': 'Invalid JWT Signature.'})",
    "gs unreachable": "ERROR: unexpected error - Cannot connect to host 127.0.0.1:45999 ssl:default "
    "[Connect call failed ('127.0.0.1', 45999)]: [Errno 111] Connect call failed ('127.0.0.1', 45999)",
    "azure no-bucket": "ERROR: failed to transfer 'ccf9c688f4ea7c2b75059a39cfb8dacd' - [Errno 2] "
    "No such container: 'dvc'\nERROR: failed to push data to the cloud - 2 files failed to upload",
    "azure credentials": "ERROR: unexpected error - Server failed to authenticate the request. Make "
    "sure the value of the Authorization header is formed correctly including the signature.\n"
    "RequestId:af43\nErrorCode:AuthorizationFailure\nContent: <Error><Code>AuthorizationFailure</Code>",
    "azure unreachable": "ERROR: unexpected error - Cannot connect to host 127.0.0.1:45999 "
    "ssl:default [Connect call failed ('127.0.0.1', 45999)]",
}
REMOTES = {"s3": S3, "gs": GS, "azure": AZ}
CAUSES = {
    "no-bucket": "does not exist",
    "credentials": "refused the credentials",
    "signature": "refused the credentials",
    "denied": "denied `dvc push`",
    "unreachable": "cannot reach the storage endpoint",
}


@pytest.mark.parametrize("recorded", sorted(RECORDED))
def test_each_recorded_failure_becomes_one_line_naming_its_cause(recorded: str) -> None:
    scheme, case = recorded.split()
    message = storage.explain(RECORDED[recorded], REMOTES[scheme], "push", "https://endpoint")
    assert CAUSES[case] in message
    assert "\n" not in message
    assert REMOTES[scheme].url in message
    assert "Traceback" not in message


def test_the_message_uses_the_clouds_own_words_and_fixes() -> None:
    assert "container 'dvc'" in storage.explain(RECORDED["azure no-bucket"], AZ, "push", None)
    assert "bucket 'acme-data'" in storage.explain(RECORDED["s3 no-bucket"], S3, "push", None)
    assert "az login" in storage.explain(RECORDED["azure credentials"], AZ, "push", None)
    assert "gcloud auth" in storage.explain(RECORDED["gs credentials"], GS, "pull", None)
    assert "aws sso login" in storage.explain(RECORDED["s3 credentials"], S3, "pull", None)


def test_an_unknown_failure_keeps_dvcs_own_last_error() -> None:
    output = "WARNING: something\nERROR: unexpected error - disk quota exceeded\n"
    message = storage.explain(output, S3, "pull", None)
    assert message.endswith("failed: disk quota exceeded")


def test_endpoints_follow_the_remote_then_the_environment_then_the_cloud_default() -> None:
    assert storage.endpoint(S3, {}) == "https://s3.eu-west-1.amazonaws.com"
    assert storage.endpoint(S3, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}) == "http://127.0.0.1:9000"
    s3_local = Remote("cloud", S3.url, {"endpointurl": "http://127.0.0.1:1"})
    assert storage.endpoint(s3_local, {"AWS_ENDPOINT_URL": "http://x"}) == "http://127.0.0.1:1"
    assert storage.endpoint(GS, {}) == "https://storage.googleapis.com"
    assert storage.endpoint(GS, {"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}) == "http://127.0.0.1:4443"
    assert storage.endpoint(AZ, {}) == "https://acmedata.blob.core.windows.net"
    azurite = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1:9/a;"
    assert storage.endpoint(AZ, {"AZURE_STORAGE_CONNECTION_STRING": azurite}) == "http://127.0.0.1:9/a"
    assert storage.endpoint(Remote("local", "../.dvc-storage", {}), {}) is None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_endpoint_fails_in_seconds_with_one_line() -> None:
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"cannot reach the storage endpoint http://127\.0\.0\.1"):
        storage.probe(f"http://127.0.0.1:{closed_port()}", {})
    assert time.monotonic() - started < storage.PROBE_SECONDS + 1


def test_behind_a_proxy_the_probe_steps_aside() -> None:
    storage.probe(f"http://example.invalid:{closed_port()}", {"HTTPS_PROXY": "http://127.0.0.1:3128"})
    bypassed = {"HTTPS_PROXY": "http://p", "NO_PROXY": "amazonaws.com"}
    assert storage.behind_proxy("s3.amazonaws.com", bypassed) is False


def test_the_committed_cloud_remote_is_read_with_its_options(project: Project) -> None:
    remote = storage.read_remote(project.root, "cloud")
    assert (remote.scheme, remote.bucket, remote.options["region"]) == ("s3", "acme-data", "eu-west-1")
    assert storage.endpoint(remote, {}) == "https://s3.eu-west-1.amazonaws.com"


def test_a_missing_remote_is_one_line_and_exit_1(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert storage.main(["push", "--remote", "nowhere"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("push: there is no DVC remote named 'nowhere'")


def test_tracked_outputs_are_the_dvc_files_outs(project: Project) -> None:
    assert storage.tracked_outputs(project.root) == [project.path("data/raw/dataset.csv")]


def test_a_google_key_file_that_cannot_be_used_is_one_line_before_dvc_starts(tmp_path: Path) -> None:
    missing = Remote("cloud", GS.url, {"credentialpath": str(tmp_path / "absent.json")})
    with pytest.raises(StorageError, match="cannot be used"):
        storage.check_google_credentials(missing, {})
    (tmp_path / "broken.json").write_text('{"type": "service_account"}', encoding="utf-8")
    broken = Remote("cloud", GS.url, {"credentialpath": str(tmp_path / "broken.json")})
    with pytest.raises(StorageError, match="gcloud auth application-default login"):
        storage.check_google_credentials(broken, {})
    # Anonymous (an emulator) and other clouds: nothing to check.
    storage.check_google_credentials(Remote("cloud", GS.url, {"allow_anonymous_login": True}), {})
    storage.check_google_credentials(S3, {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "absent.json")})
