"""Every Terraform root of a rendered AWS project, and the platform stack, passes the toolchain:
terraform fmt, the offline schema check, the structural rules and checkov (0 failed checks)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tf_support import PROJECT_TEMPLATE, TEMPLATE, checkov_command, checkov_env, terraform_binary

# (name, path inside the rendered project, or None for the template's own platform stack)
ROOTS = {
    "platform": TEMPLATE / "terraform" / "aws",
    "project": "terraform/aws",
    "serving": "terraform/aws/serving",
    "github": "terraform/github",
}


def root_path(name: str, project: Path) -> Path:
    where = ROOTS[name]
    return where if isinstance(where, Path) else project / where


@pytest.mark.parametrize("name", ROOTS)
def test_terraform_fmt(name, aws_project):
    root = root_path(name, aws_project)
    result = subprocess.run(
        [terraform_binary(), "fmt", "-check", "-recursive", "-diff", "-no-color", str(root)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ROOTS)
def test_schema_and_rules(name, aws_project, schemas):
    from tfcheck.checks import check_paths

    root = root_path(name, aws_project)
    findings, stats = check_paths([str(root)], schemas)
    assert not findings, "\n".join(map(str, findings))
    assert stats["resources"] > 0


def test_cli_reports_counts(aws_project, capsys):
    """The project's command (`python tools/tfcheck terraform`) checks every root and exits 0."""
    from tfcheck.cli import main

    code = main([str(aws_project / "terraform"), str(TEMPLATE / "terraform" / "aws")])
    err = capsys.readouterr().err
    assert code == 0, err
    match = re.search(r"(\d+) module\(s\), (\d+) resource and (\d+) data", err)
    assert match and int(match.group(1)) == 4 and int(match.group(2)) >= 60, err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["platform", "project", "github"])
def test_checkov(name, aws_project, tmp_path):
    """checkov once per root (project includes serving/): 0 failed, and every skip has a reason."""
    root = root_path(name, aws_project)
    report = tmp_path / "checkov"
    cmd = [
        *checkov_command(),
        "-d",
        str(root),
        "--framework",
        "terraform",
        "--skip-download",
        "--quiet",
        "-o",
        "json",
        "--output-file-path",
        str(report),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env=checkov_env(), timeout=300)
    data = json.loads((report / "results_json.json").read_text())
    runs = data if isinstance(data, list) else [data]
    summary = {k: sum(r["summary"][k] for r in runs) for k in ("passed", "failed", "skipped")}
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}" for r in runs for c in r["results"]["failed_checks"]]
    assert result.returncode == 0 and not failed, "\n".join(failed) + result.stderr[-2000:]
    assert summary["passed"] + summary["skipped"] > 0  # the github root has few applicable checks
    for r in runs:
        for c in r["results"].get("skipped_checks", []):
            assert (c.get("check_result", {}).get("suppress_comment") or "").strip(), c["check_id"]
    print(f"checkov {name}: {summary}")


def test_answers_live_in_one_file_per_root():
    """Jinja appears only in each root's answers.tf; every other .tf is copied verbatim."""
    roots = [PROJECT_TEMPLATE / "terraform" / r for r in ("aws", "aws/serving", "github")]
    for root in roots:
        for tf in root.glob("*.tf"):
            has_jinja = "{{" in tf.read_text() or "{%" in tf.read_text()
            assert has_jinja == (tf.name == "answers.tf"), tf
    for path in (PROJECT_TEMPLATE / "tools" / "tfcheck").rglob("*.py"):
        assert "{{" not in path.read_text() and "{%" not in path.read_text(), path


def test_rendered_answers(aws_project):
    """The values other parts rely on: bucket names, DVC remote, state backend."""
    text = (aws_project / "terraform" / "aws" / "answers.tf").read_text()
    slug = aws_project.name
    assert re.search(rf'storage_prefix += "[a-z0-9-]+-{slug}"', text), text
    assert re.search(r'bucket += "[a-z0-9-]+-tfstate"', text), text
    locals_tf = (aws_project / "terraform" / "aws" / "locals.tf").read_text()
    assert '"${local.answers.storage_prefix}-data"' in locals_tf
    assert '"${local.answers.storage_prefix}-artifacts"' in locals_tf
    variables = (aws_project / "terraform" / "github" / "aws.tf").read_text()
    for name in ("AWS_PR_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "MLFLOW_TRACKING_URI", "DVC_BUCKET", "ARTIFACT_BUCKET"):
        assert re.search(rf"^\s*{name}\s*=", variables, re.M), name


def test_ci_role_trust_is_per_repository(aws_project):
    """The PR role trusts only pull_request, the deploy role only the production environment."""
    text = (aws_project / "terraform" / "aws" / "ci_roles.tf").read_text()
    assert 'pr     = "repo:${local.answers.repository}:pull_request"' in text
    assert 'deploy = "repo:${local.answers.repository}:environment:production"' in text
    assert "StringLike" not in text.split("ci_trust")[1].split("resource")[0]  # no wildcards in trust
    answers = (aws_project / "terraform" / "aws" / "answers.tf").read_text()
    assert re.search(rf'repository += "[A-Za-z0-9-]+/{aws_project.name}"', answers), answers
