"""The serving roots read the generated release (docs/deploy.md, release.auto.tfvars.json): with a
canary step of version 3 over the live version 2 written beside them, every cloud's root passes
the offline schema check (tfcheck) and checkov (0 failed checks), and its `variable "release"`
declares the contract's shape.

The roots are copied from the session's renders (tests/terraform/conftest.py), so the release
file lands in no other test's root."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.project import checkov_command, checkov_env

CLOUDS = ("aws", "gcp", "azure")
# The contract's example: a canary step of version 3, the previously live version 2 keeps the rest.
CANARY = {
    "release": {
        "canary_percent": 10,
        "environment": "staging",
        "image_tag": "v3-abc1234",
        "model": "diagnosis_classifier",
        "step": "canary",
        "traffic": [
            {"image_tag": "v3-abc1234", "percent": 10, "version": "3"},
            {"image_tag": "v2-def5678", "percent": 90, "version": "2"},
        ],
        "version": "3",
    }
}


@pytest.fixture(scope="module")
def serving_roots(aws_project, gcp_project, azure_project, tmp_path_factory) -> dict[str, Path]:
    """Each cloud's serving root with the canary release written beside its .tf files."""
    roots = {}
    for cloud, project in {"aws": aws_project, "gcp": gcp_project, "azure": azure_project}.items():
        root = tmp_path_factory.mktemp(f"serving-{cloud}") / "serving"
        shutil.copytree(project / "terraform" / cloud / "serving", root)
        (root / "release.auto.tfvars.json").write_text(json.dumps(CANARY, indent=2, sort_keys=True) + "\n")
        roots[cloud] = root
    return roots


def release_type(root: Path) -> str:
    text = (root / "variables.tf").read_text()
    block = text.split('variable "release" {', 1)[1].split("\n}\n", 1)[0]
    return block.split("type = object({", 1)[1].split("  })\n", 1)[0]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_contract_release_variable_matches_the_generated_file(cloud, serving_roots):
    """Contract test (the pinned Terraform here, 1.0, predates the roots' 1.10 floor, so it cannot
    evaluate them): `variable "release"` declares exactly the generated file's keys, the traffic
    entries' keys, is nullable with a null default, and its validations name the fix."""
    declared = release_type(serving_roots[cloud])
    top = set(re.findall(r"^    (\w+)\s+=", declared, re.M))
    entry = set(re.findall(r"^      (\w+)\s+=", declared, re.M))
    assert top == set(CANARY["release"]), declared
    assert entry == set(CANARY["release"]["traffic"][0]), declared
    text = (serving_roots[cloud] / "variables.tf").read_text().split('variable "release" {', 1)[1]
    assert re.search(r"^  default\s+= null$", text, re.M) and re.search(r"^  nullable = true$", text, re.M)
    assert text.count("make serving-config") >= 1
    main = (serving_roots[cloud] / "main.tf").read_text()
    assert not re.search(r"var\.image_tag\b|var\.model_data_url|model_data_url\s*=", main)
    assert "serve       = var.release != null" in main or "serve = var.release != null" in main


@pytest.mark.parametrize("cloud", CLOUDS)
def test_schema_check_with_the_release(cloud, serving_roots, schemas):
    from mlops_gitops.tfcheck.checks import check_paths

    findings, stats = check_paths([str(serving_roots[cloud])], schemas)
    assert not findings, "\n".join(map(str, findings))
    assert stats["resources"] > 0


@pytest.mark.slow
def test_checkov_with_the_release(serving_roots, tmp_path):
    """checkov once over the three serving roots, the release passed as a var file: 0 failed."""
    parent = next(iter(serving_roots.values())).parent.parent
    report = tmp_path / "checkov"
    command = [*checkov_command(), "--framework", "terraform", "--skip-download", "-o", "json"]
    command += ["--output-file-path", str(report)]
    for root in serving_roots.values():
        command += ["-d", str(root)]
    command += ["--var-file", str(next(iter(serving_roots.values())) / "release.auto.tfvars.json")]
    done = subprocess.run(command, capture_output=True, text=True, env=checkov_env(), timeout=600, cwd=parent)
    data = json.loads((report / "results_json.json").read_text())
    runs = data if isinstance(data, list) else [data]
    failed = [
        f"{c['check_id']} {c['resource']} {c['file_path']}" for r in runs for c in r["results"].get("failed_checks", [])
    ]
    passed = sum(len(r["results"].get("passed_checks", [])) for r in runs)
    assert done.returncode == 0 and not failed, "\n".join(failed) + done.stderr[-2000:]
    assert passed > 0


# ---- the Makefile's deploy targets, with the cloud tools replaced by recording stubs

STUBS = {
    # `uv run X` -> X: the targets' commands run on PATH.
    "uv": '[ "$1" = run ] && shift\nexec "$@"',
    "mlops-gitops": """echo "mlops-gitops $*" >> "$CALLS"
case "$1 $2" in
  "deploy config") cat "$RELEASE_FIXTURE" > terraform/gcp/serving/release.auto.tfvars.json ;;
  "deploy dockerfile") mkdir -p build/serving-image && echo "FROM scratch" > build/serving-image/Dockerfile ;;
  "deploy rollout") echo "rollout SMOKE_URL=${SMOKE_URL:-unset} SERVING_ENV=$SERVING_ENV" ;;
esac""",
    "terraform": """echo "terraform $*" >> "$CALLS"
case "$*" in
  *"output -raw serving_repository") echo "europe-west1-docker.pkg.dev/p/repo" ;;
  *"output -raw version_url") echo "https://v3---svc-x.a.run.app" ;;
  *"output -raw url") echo "https://svc-x.a.run.app" ;;
esac""",
    "docker": """echo "docker $*" >> "$CALLS"
case "$1" in
  manifest) exit "${MANIFEST_EXIT:-1}" ;;
  image) echo '[{"RepoDigests": ["europe-west1-docker.pkg.dev/p/repo/model@sha256:'"$(printf 'a%.0s' $(seq 64))"'"]}]' ;;
esac""",
    "gcloud": 'echo "gcloud $*" >> "$CALLS"',
}


@pytest.fixture
def stubbed(gcp_project, tmp_path):
    """A copy of the GCP render, and `make` with the cloud tools stubbed (contract: no docker
    engine, no cloud here); returns run(target, **env) -> (CompletedProcess, calls)."""

    project = tmp_path / "project"
    shutil.copytree(gcp_project, project, ignore=shutil.ignore_patterns(".venv", "mlruns", "*.db"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text("#!/bin/bash\n" + body + "\n")
        (bin_dir / name).chmod(0o755)
    fixture = tmp_path / "release.json"
    calls = tmp_path / "calls.log"

    def run(*args: str, release: dict | None = None, **env: str):
        fixture.write_text(json.dumps({"release": release}))
        calls.write_text("")
        # `uv run` (make test) exports UV, the real uv's path, which the Makefile's `UV ?= uv` would take.
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SERVING_", "SMOKE_", "GITHUB_")) and k not in ("UV", "VIRTUAL_ENV")
        }
        path = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{base['PATH']}"
        done = subprocess.run(
            ["make", "--no-print-directory", "-s", *args, "TERRAFORM=terraform"],
            cwd=project,
            env={**base, "PATH": path, "CALLS": str(calls), "RELEASE_FIXTURE": str(fixture), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done, calls.read_text().splitlines()

    run.project = project  # type: ignore[attr-defined]
    return run


def test_contract_serving_image_push_builds_once_per_tag(stubbed):
    """The image of SERVING_ENV's version, named by the generated release (<registry>/model:<tag>),
    built and pushed when the registry lacks the tag, only pulled when it has it (immutable tags);
    pushed.json gets the digest, as the rollout reads it."""
    release = CANARY["release"] | {"step": "full"}
    done, calls = stubbed("serving-image-push", "SERVING_ENV=staging", release=release)
    assert done.returncode == 0, done.stdout + done.stderr
    image = "europe-west1-docker.pkg.dev/p/repo/model:v3-abc1234"
    assert "mlops-gitops deploy config --env staging --step full" in calls
    assert "mlops-gitops deploy dockerfile --version 3 --out build/serving-image" in calls
    assert f"docker build -t {image} build/serving-image" in calls and f"docker push {image}" in calls
    pushed = json.loads((stubbed.project / "build/serving-image/pushed.json").read_text())
    assert pushed == {"image": image, "digest": "sha256:" + "a" * 64}

    done, calls = stubbed("serving-image-push", "SERVING_ENV=production", release=release, MANIFEST_EXIT="0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"docker pull -q {image}" in calls and not [
        c for c in calls if c.startswith(("docker build", "docker push"))
    ]


def test_contract_nothing_to_build_or_scan_without_a_version(stubbed):
    done, calls = stubbed("serving-image-push", "SERVING_ENV=production", release=None)
    assert done.returncode == 0 and "no version serves in production: nothing to build" in done.stdout
    assert not [c for c in calls if c.startswith("docker")]
    done, _ = stubbed("scan-image", "SERVING_ENV=production", release=None)
    assert done.returncode == 0 and "no image to scan" in done.stdout, done.stderr


def test_contract_serving_url_and_deploy_targets(stubbed):
    """serving-url prints the version's own URL on the canary step, the service's otherwise, alone
    on stdout (Terraform's output goes to stderr); deploy leaves SMOKE_URL to the rollout unless
    it is given; an unknown environment is refused in one line before anything runs."""
    done, calls = stubbed("serving-url", "SERVING_ENV=staging", SERVING_STEP="canary")
    assert done.returncode == 0 and done.stdout.strip() == "https://v3---svc-x.a.run.app", done.stderr
    assert "terraform -chdir=terraform/gcp/serving workspace select -or-create staging" in calls
    done, _ = stubbed("serving-url", "SERVING_ENV=production")
    assert done.stdout.strip() == "https://svc-x.a.run.app"
    done, _ = stubbed("deploy", "SERVING_ENV=staging")
    assert "rollout SMOKE_URL=unset SERVING_ENV=staging" in done.stdout
    done, _ = stubbed("deploy", "SERVING_ENV=staging", SMOKE_URL="http://127.0.0.1:9")
    assert "rollout SMOKE_URL=http://127.0.0.1:9" in done.stdout
    done, calls = stubbed("serving-apply", "SERVING_ENV=dev")
    assert done.returncode != 0 and not calls
    assert (
        done.stderr.splitlines()[0] == "serving-apply: SERVING_ENV=dev is not an environment: use staging or production"
    )
