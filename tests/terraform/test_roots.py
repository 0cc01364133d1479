"""Every Terraform root of a rendered AWS, GCP and Azure project, and each cloud's platform stack,
passes the toolchain: terraform fmt, the offline schema check (aws 6.69.1, google/google-beta 8.7.0,
azurerm 5.10.0, azuread 3.10.0, azapi 2.13.0, github 6.13.0), the structural rules and checkov
(0 failed checks)."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from helpers.project import DEFAULTS, PROJECT_TEMPLATE, TEMPLATE, checkov_command, checkov_env
from helpers.terraform import terraform_binary

CLOUDS = ("aws", "gcp", "azure")
# (cloud, path inside the rendered project, or an absolute path for the template's platform stacks)
ROOTS = {
    "aws-platform": ("aws", TEMPLATE / "terraform" / "aws"),
    "aws-project": ("aws", "terraform/aws"),
    "aws-serving": ("aws", "terraform/aws/serving"),
    "aws-github": ("aws", "terraform/github"),
    "gcp-platform": ("gcp", TEMPLATE / "terraform" / "gcp"),
    "gcp-project": ("gcp", "terraform/gcp"),
    "gcp-serving": ("gcp", "terraform/gcp/serving"),
    "gcp-github": ("gcp", "terraform/github"),
    "azure-platform": ("azure", TEMPLATE / "terraform" / "azure"),
    "azure-project": ("azure", "terraform/azure"),
    "azure-serving": ("azure", "terraform/azure/serving"),
    "azure-github": ("azure", "terraform/github"),
}


@pytest.fixture(scope="session")
def cloud_projects(aws_project, gcp_project, azure_project) -> dict[str, Path]:
    return {"aws": aws_project, "gcp": gcp_project, "azure": azure_project}


def root_path(name: str, projects: dict[str, Path]) -> Path:
    cloud, where = ROOTS[name]
    return where if isinstance(where, Path) else projects[cloud] / where


@pytest.mark.parametrize("name", ROOTS)
def test_terraform_fmt(name, cloud_projects):
    root = root_path(name, cloud_projects)
    result = subprocess.run(
        [terraform_binary(), "fmt", "-check", "-recursive", "-diff", "-no-color", str(root)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ROOTS)
def test_schema_and_rules(name, cloud_projects, schemas):
    from mlops_gitops.tfcheck.checks import check_paths

    root = root_path(name, cloud_projects)
    findings, stats = check_paths([str(root)], schemas)
    assert not findings, "\n".join(map(str, findings))
    assert stats["resources"] > 0


@pytest.mark.parametrize("cloud", CLOUDS)
def test_cli_reports_counts(cloud, cloud_projects, capsys):
    """The project's command (`mlops-gitops tfcheck terraform`) checks every root and exits 0."""
    from mlops_gitops.tfcheck.cli import main

    code = main([str(cloud_projects[cloud] / "terraform"), str(TEMPLATE / "terraform" / cloud)])
    err = capsys.readouterr().err
    assert code == 0, err
    match = re.search(r"(\d+) module\(s\), (\d+) resource and (\d+) data", err)
    # Four roots, and on AWS and GCP the bucket module in the project's folder.
    assert match and int(match.group(1)) == (4 if cloud == "azure" else 5) and int(match.group(2)) >= 40, err
    print(f"tfcheck {cloud}: {err.strip()}")


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"{cloud}-{part}" for cloud in CLOUDS for part in ("platform", "project")])
def test_checkov(name, cloud_projects, tmp_path):
    """checkov once per platform stack and once per rendered project's terraform/ (its project,
    serving and github roots): 0 failed, and every skip has a reason. Counts are printed per root."""
    root = root_path(name, cloud_projects)
    if name.endswith("-project"):
        root = root.parent  # terraform/: project, serving and github in one run
    report = tmp_path / "checkov"
    cmd = [
        *checkov_command(),
        "-d",
        str(root),
        "--framework",
        "terraform",
        "--skip-download",
        "-o",
        "json",
        "--output-file-path",
        str(report),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env=checkov_env(), timeout=300)
    data = json.loads((report / "results_json.json").read_text())
    runs = data if isinstance(data, list) else [data]
    checks = [
        (kind, c)
        for r in runs
        for kind in ("passed", "failed", "skipped")
        for c in r["results"].get(f"{kind}_checks", [])
    ]
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}" for kind, c in checks if kind == "failed"]
    assert result.returncode == 0 and not failed, "\n".join(failed) + result.stderr[-2000:]
    for kind, c in checks:
        if kind == "skipped":
            assert (c.get("check_result", {}).get("suppress_comment") or "").strip(), c["check_id"]
    platform = name.endswith("-platform")  # its bucket module lives in the project template
    per_root = Counter(("platform" if platform else _root_of(c["file_path"]), kind) for kind, c in checks)
    roots = sorted({r for r, _ in per_root})
    assert all(per_root[(r, "passed")] + per_root[(r, "skipped")] > 0 for r in roots), per_root
    for r in roots:
        counts = {kind: per_root[(r, kind)] for kind in ("passed", "failed", "skipped")}
        print(f"checkov {name.split('-')[0]} {r}: {counts}")


def _root_of(file_path: str) -> str:
    """The root a checked file belongs to: checkov names files from the folder it was given."""
    parts = file_path.strip("/").split("/")
    return "serving" if "serving" in parts else "github" if parts[0] == "github" else "project"


def test_answers_live_in_one_file_per_root():
    """Jinja appears only in each root's answers.tf; every other .tf is copied verbatim."""
    for tf in (PROJECT_TEMPLATE / "terraform").rglob("*.tf"):  # roots and modules/
        has_jinja = "{{" in tf.read_text() or "{%" in tf.read_text()
        assert has_jinja == (tf.name == "answers.tf"), tf


def test_rendered_answers(aws_project):
    """The values other parts rely on: bucket names, DVC remote, state backend."""
    text = (aws_project / "terraform" / "aws" / "answers.tf").read_text()
    slug = aws_project.name
    assert re.search(rf'storage_prefix += "[a-z0-9-]+-{slug}"', text), text
    assert re.search(r'bucket += "[a-z0-9-]+-tfstate"', text), text
    locals_tf = (aws_project / "terraform" / "aws" / "locals.tf").read_text()
    assert '"${local.answers.storage_prefix}-data"' in locals_tf
    assert '"${local.answers.storage_prefix}-artifacts"' in locals_tf
    variables = (aws_project / "terraform" / "aws" / "outputs.tf").read_text().split('output "repository_variables"')[1]
    for name in (
        "AWS_PR_ROLE_ARN",
        "AWS_DEPLOY_ROLE_ARN",
        "AWS_BACKUP_ROLE_ARN",
        "MLFLOW_TRACKING_URI",
        "DVC_BUCKET",
        "ARTIFACT_BUCKET",
        "BACKUP_URL",
        "MONITOR_URL",
    ):
        assert re.search(rf"^\s*{name}\s*=", variables, re.M), name


# The subjects each CI identity trusts, the same on every cloud: pull requests and the
# promotion-proposal environment (promote.yml's `propose`, main only) for pr, the production
# environment for deploy, the backup environment (backup.yml, main only) for backup. Nothing else:
# no wildcard, no branch, no fork.
CI_TRUST = {
    "pr": {
        "pull_request": "repo:${local.answers.repository}:pull_request",
        "proposal": "repo:${local.answers.repository}:environment:promotion-proposal",
    },
    "deploy": {"production": "repo:${local.answers.repository}:environment:production"},
    "backup": {"backup": "repo:${local.answers.repository}:environment:backup"},
}
# What `make backup` writes to, per cloud: the data bucket's registry-backup/ prefix, which the
# cloud's replication already copies to the disaster-recovery location.
BACKUP_URLS = {
    "aws": 's3://${module.storage.ids["data"]}/registry-backup',
    "gcp": 'gs://${module.storage.names["data"]}/registry-backup',
    # adlfs' form names the storage account, which DVC's azure://container/path leaves out.
    "azure": 'az://${azurerm_storage_container.project["data"].name}@${azurerm_storage_account.project.name}.blob.core.windows.net/registry-backup',
}
BACKUP_IDENTITY_VARIABLES = {
    "aws": ("AWS_BACKUP_ROLE_ARN", '${aws_iam_role.ci["backup"].arn}'),
    "gcp": ("GCP_BACKUP_SERVICE_ACCOUNT", '${google_service_account.ci["backup"].email}'),
    "azure": ("AZURE_BACKUP_CLIENT_ID", '${azurerm_user_assigned_identity.ci["backup"].client_id}'),
}


def ci_locals(stack: Path) -> dict:
    return {k: v for block in hcl(stack)["locals"] for k, v in block.items()}


def test_ci_role_trust_is_per_repository(aws_project):
    """The PR role trusts pull requests and main, the deploy role only the production environment."""
    stack = aws_project / "terraform" / "aws"
    assert ci_locals(stack)["ci_trust"] == CI_TRUST
    text = (stack / "ci_roles.tf").read_text()
    trust = text.split('data "aws_iam_policy_document" "ci_trust"')[1].split("resource")[0]
    assert "StringLike" not in trust and "values   = each.value" in trust  # exact subjects only
    answers = (stack / "answers.tf").read_text()
    assert re.search(rf'repository += "[A-Za-z0-9-]+/{aws_project.name}"', answers), answers


def test_aws_backup_role_holds_its_policy_only(aws_project):
    """The backup role gets none of ci_common (attached to pr and deploy only) and exactly its
    inline policy: registry reads, model files read, registry-backup/ read and written, the
    project key; no alias, tag or delete, no Terraform state, no DVC data."""
    from helpers.permissions import Module, aws_ci_roles, decide

    roles = aws_ci_roles(aws_project / "terraform" / "aws")
    assert {key: [p.document_name for p in role.policies] for key, role in roles.items()} == {
        "pr": ["ci_common", "pr_training"],
        "deploy": ["ci_common", "deploy", "deploy_training_image"],
        "backup": ["backup"],
    }
    statements = roles["backup"].statements
    assert not [s for s in statements if s.get("Condition") or s["Effect"] != "Allow"], statements
    actions = {a for s in statements for a in s["Action"]}
    mlflow = {a.removeprefix("sagemaker-mlflow:") for a in actions if a.startswith("sagemaker-mlflow:")}
    assert mlflow and all(a.startswith(("Get", "Search", "List")) for a in mlflow), mlflow
    assert actions - {f"sagemaker-mlflow:{a}" for a in mlflow} == {
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    stack = Module(aws_project / "terraform" / "aws")
    data, artifacts = (f"arn:aws:s3:::{stack.output(name)}" for name in ("dvc_bucket", "artifact_bucket"))
    allowed = lambda action, resource: decide(statements, action, resource).allowed  # noqa: E731
    assert allowed("s3:PutObject", f"{data}/registry-backup/blobs/ab/abc")
    assert allowed("s3:GetObject", f"{data}/registry-backup/snapshots/x/manifest.json")
    assert allowed("s3:GetObject", f"{artifacts}/mlflow/models/m-1/artifacts/model.pkl")
    assert not allowed("s3:GetObject", f"{data}/dvc/files/md5/ab/cdef")  # no DVC data
    assert not allowed("s3:PutObject", f"{data}/dvc/files/md5/ab/cdef")
    assert not allowed("s3:PutObject", f"{artifacts}/mlflow/x")
    assert not allowed("s3:DeleteObject", f"{data}/registry-backup/blobs/ab/abc")
    assert not allowed("s3:GetObject", "arn:aws:s3:::any-tfstate/any/terraform.tfstate")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_backup_identity_and_url_are_repository_variables(cloud, cloud_projects):
    """terraform/github writes every key of repository_variables: the backup identity and BACKUP_URL."""
    outputs = {
        name: body
        for entry in hcl(cloud_projects[cloud] / "terraform" / cloud)["output"]
        for name, body in entry.items()
    }
    variables = outputs["repository_variables"]["value"]
    name, identity = BACKUP_IDENTITY_VARIABLES[cloud]
    assert variables[name] == identity
    assert variables["BACKUP_URL"] == BACKUP_URLS[cloud]


# ---- the replicated bucket Terraform: one module, used by the platform and the project stacks

MODULE = PROJECT_TEMPLATE / "terraform" / "aws" / "modules" / "secure_bucket"
STACKS = {"platform": TEMPLATE / "terraform" / "aws", "project": PROJECT_TEMPLATE / "terraform" / "aws"}
MODULE_SOURCE = {
    "platform": "../../{{cookiecutter.project_slug}}/terraform/aws/modules/secure_bucket",
    "project": "./modules/secure_bucket",
}


def hcl(directory: Path) -> dict[str, list]:
    """Top-level blocks of a directory's .tf files, by kind (answers.tf skipped: it holds Jinja)."""
    blocks: dict[str, list] = {}
    options = SerializationOptions(with_comments=False, strip_string_quotes=True)
    for tf in sorted(directory.glob("*.tf")):
        if tf.name != "answers.tf":
            for kind, entries in hcl2.loads(tf.read_text(), serialization_options=options).items():
                blocks.setdefault(kind, []).extend(entries)
    return blocks


def module_calls(stack: Path) -> dict[str, dict]:
    return {name: body for entry in hcl(stack).get("module", []) for name, body in entry.items()}


def test_bucket_terraform_is_written_once():
    """No S3 bucket resource outside the module, in any stack of either side."""
    bucket = re.compile(r'^\s*resource\s+"aws_s3_bucket(_\w+)?"', re.M)
    for tf in [*(TEMPLATE / "terraform").rglob("*.tf"), *(PROJECT_TEMPLATE / "terraform").rglob("*.tf")]:
        if tf.parent != MODULE and ".terraform" not in tf.parts:
            assert not bucket.search(tf.read_text()), tf
    resources = {type_ for entry in hcl(MODULE)["resource"] for type_ in entry}
    assert "aws_s3_bucket" in resources and "aws_s3_bucket_replication_configuration" in resources


@pytest.mark.parametrize("stack", STACKS)
def test_stacks_source_the_bucket_module(stack):
    """Each stack calls the module by a path that resolves to it (the platform reaches into the
    project template), passes the DR provider, sets every input without a default and no other."""
    (call,) = [c for c in module_calls(STACKS[stack]).values() if c["source"] == MODULE_SOURCE[stack]]
    assert (STACKS[stack] / call["source"]).resolve() == MODULE.resolve()
    assert (MODULE / "main.tf").is_file()
    assert call["providers"] == {"aws": "aws", "${aws.dr}": "${aws.dr}"}
    inputs = {name: body for entry in hcl(MODULE)["variable"] for name, body in entry.items()}
    given = set(call) - {"source", "providers", "__is_block__"}
    assert given <= set(inputs), given - set(inputs)
    assert {name for name, body in inputs.items() if "default" not in body} <= given


@pytest.mark.parametrize("stack", STACKS)
def test_bucket_state_moves_into_the_module(stack):
    """Stacks applied before the module move every resource's state instead of replacing it
    (prevent_destroy would stop the plan). Goes with moved.tf once every stack has applied it."""
    (name,) = [n for n, c in module_calls(STACKS[stack]).items() if c["source"] == MODULE_SOURCE[stack]]
    resources = {f"{t}.{n}" for entry in hcl(MODULE)["resource"] for t, named in entry.items() for n in named}
    moved = {m["from"].strip("${}"): m["to"].strip("${}") for m in hcl(STACKS[stack]).get("moved", [])}
    assert moved == {r: f"module.{name}.{r}" for r in resources}


def test_rendered_project_ships_the_bucket_module(aws_project):
    """The module folder is in an AWS render, rendered verbatim, where the project stack looks."""
    rendered = aws_project / "terraform" / "aws" / "modules" / "secure_bucket"
    assert sorted(p.name for p in rendered.glob("*.tf")) == sorted(p.name for p in MODULE.glob("*.tf"))
    for tf in MODULE.glob("*.tf"):
        assert (rendered / tf.name).read_text() == tf.read_text(), tf.name


def test_contract_gcp_ci_identities_are_exact_subjects_and_least_privilege(gcp_project):
    """Contract test of the rendered GCP IAM (no IAM emulator for Google Cloud runs here): each CI
    account trusts one exact subject of this repository, no basic or project-wide storage role is
    granted anywhere, and the PR account can neither delete nor overwrite outside the lock file."""
    stack = gcp_project / "terraform" / "gcp"
    text = "\n".join(tf.read_text() for tf in sorted(stack.rglob("*.tf")))
    repository = f"{DEFAULTS['github_owner']}/{gcp_project.name}"
    ci = hcl(stack)
    assert ci_locals(stack)["ci_trust"] == CI_TRUST
    assert re.search(rf'repository += "{repository}"', (stack / "answers.tf").read_text())
    (federation,) = [
        r["google_service_account_iam_member"]["ci_federation"]
        for r in ci["resource"]
        if "ci_federation" in r.get("google_service_account_iam_member", {})
    ]
    assert federation["role"] == "roles/iam.workloadIdentityUser" and federation["for_each"] == "${local.ci_federation}"
    assert (
        federation["member"].startswith("principal://iam.googleapis.com/")
        and "/subject/${each.value.subject}" in federation["member"]
    )
    assert "principalSet://" not in text  # never a whole set of GitHub identities
    assert not re.search(r'"roles/(owner|editor|viewer)"', text)
    project_roles = next(block["ci_project_roles"] for block in ci["locals"] if "ci_project_roles" in block)
    assert not [g for g in project_roles.values() if g["role"].startswith("roles/storage.")], project_roles
    grants = next(block["ci_bucket_grants"] for block in ci["locals"] if "ci_bucket_grants" in block)
    # The backup account: exactly these grants (invoker on MLflow, as every CI account, below).
    assert {name: grant for name, grant in grants.items() if grant["identity"] == "backup"} == {
        "backup_models_read": {
            "identity": "backup",
            "bucket": "${local.artifacts}",
            "role": "roles/storage.objectViewer",
            "condition": "${local.backup_models_scope}",
        },
        "backup_read": {
            "identity": "backup",
            "bucket": "${local.data}",
            "role": "roles/storage.objectViewer",
            "condition": "${local.backup_scope}",
        },
        "backup_write": {
            "identity": "backup",
            "bucket": "${local.data}",
            "role": "roles/storage.objectCreator",
            "condition": "${format(local.under, local.data, local.backup_prefix)}",
        },
    }
    scopes = ci_locals(stack)
    assert scopes["backup_prefix"] == "registry-backup/"
    assert (
        scopes["backup_scope"] == "${format(local.under_or_list, local.data, local.backup_prefix, local.backup_prefix)}"
    )
    assert scopes["backup_models_scope"] == '${format(local.under_or_list, local.artifacts, "mlflow/", "mlflow/")}'
    assert not [g for g in project_roles.values() if g["identity"] == "backup"], project_roles
    resources = {(t, n): body for entry in ci["resource"] for t, named in entry.items() for n, body in named.items()}
    # Grants over every account: only the MLflow invoker; the others name pr or deploy.
    assert resources[("google_cloud_run_v2_service_iam_member", "ci_mlflow")]["for_each"] == "${local.ci_subjects}"
    assert resources[("google_cloud_run_v2_service_iam_member", "ci_mlflow")]["role"] == "roles/run.invoker"
    every = [key for key, body in resources.items() if body.get("for_each") == "${local.ci_subjects}"]
    assert sorted(every) == [("google_cloud_run_v2_service_iam_member", "ci_mlflow"), ("google_service_account", "ci")]
    assert not [key for key, body in resources.items() if 'ci_members["backup"]' in json.dumps(body)], resources
    for name, grant in grants.items():
        if grant["identity"] == "pr":
            assert grant["role"] in (
                "roles/storage.objectViewer",
                "roles/storage.objectCreator",
                "roles/storage.objectUser",
            ), name
            if grant["role"] != "roles/storage.objectViewer":  # writes only under a prefix
                assert grant["condition"] not in (None, "null"), name
            if grant["role"] == "roles/storage.objectUser":  # delete: only the state lock
                assert ".tflock" in grant["condition"], name


@pytest.mark.parametrize("cloud", CLOUDS)
def test_projects_check_against_the_schemas_the_template_checks(cloud, cloud_projects):
    """The project's `make tf-schema` adds the same schema packages (and versions) that these
    tests check its roots against: its own CI cannot pass what this suite would refuse."""
    from helpers.project import schema_packages

    line = next(
        li for li in (cloud_projects[cloud] / "Makefile").read_text().splitlines() if li.startswith("TF_SCHEMAS :=")
    )
    pins = set(line.removeprefix("TF_SCHEMAS :=").split())
    assert pins and pins <= set(schema_packages()), pins - set(schema_packages())
    assert any(
        pin.startswith(f"cdktn-provider-{ {'gcp': 'google', 'azure': 'azurerm'}.get(cloud, cloud) }==") for pin in pins
    ), pins


def test_contract_azure_ci_identities_are_exact_subjects_and_least_privilege(azure_project):
    """Contract test of the rendered Azure RBAC (no Entra or ARM emulator runs here): each CI
    identity has one federated credential for one exact subject, nothing is granted at
    subscription scope, and the PR identity writes only through conditions and never deletes."""
    stack = azure_project / "terraform" / "azure"
    ci = hcl(stack)
    local = {k: v for block in ci["locals"] for k, v in block.items()}
    assert local["ci_trust"] == CI_TRUST
    resources = {(t, n): body for entry in ci["resource"] for t, named in entry.items() for n, body in named.items()}
    credentials = [body for (t, _), body in resources.items() if t == "azurerm_federated_identity_credential"]
    assert len(credentials) == 1 and credentials[0]["for_each"] == "${local.ci_federation}"
    assert credentials[0]["subject"] == "${each.value.subject}"
    assert credentials[0]["issuer"] == "https://token.actions.githubusercontent.com"
    assert credentials[0]["audience"] == ["api://AzureADTokenExchange"]
    writer = resources[("azurerm_role_definition", "blob_writer")]["permissions"][0]
    assert not [a for a in writer["actions"] + writer["data_actions"] if "delete" in a.lower()], writer
    # The backup identity: exactly these grants (and the MLflow app role, through the platform
    # stack: mlflow_access_principal_ids lists every CI identity).
    assert {name: grant for name, grant in local["ci_grants"].items() if grant["identity"] == "backup"} == {
        "backup_models_read": {
            "identity": "backup",
            "scope": "${local.artifacts_id}",
            "role": "Storage Blob Data Reader",
            "condition": "${format(local.read_under, local.mlflow_prefix)}",
        },
        "backup_write": {
            "identity": "backup",
            "scope": "${local.dvc_id}",
            "role": "${local.blob_writer}",
            "condition": "${format(local.read_under, local.backup_prefix)}AND\n${format(local.write_under, local.backup_prefix)}",
        },
    }
    assert local["backup_prefix"] == "registry-backup/" and local["mlflow_prefix"] == "mlflow/"
    outputs = {name: body for entry in ci["output"] for name, body in entry.items()}
    assert outputs["mlflow_access_principal_ids"]["value"] == "${values(local.ci_principals)}"
    every = [key for key, body in resources.items() if body.get("for_each") == "${local.ci_subjects}"]
    assert every == [("azurerm_user_assigned_identity", "ci")]
    for name, grant in local["ci_grants"].items():
        assert grant["role"] not in ("Owner", "User Access Administrator"), name
        assert "/subscriptions/" not in grant["scope"] or "resourceGroups" in grant["scope"], name
        if grant["identity"] == "pr":
            assert grant["role"] in ("Reader", "Storage Blob Data Reader", "${local.blob_writer}"), name
            if grant["role"] == "${local.blob_writer}":
                assert grant["condition"] not in (None, "null"), name


# ---- managed training (training.tf of each cloud; issue #16, the training contract)

TRAINING_JOB = "-train-20261129120000"  # a job name is "<slug[:40] without a trailing hyphen>-train-<UTC time>"
TRAINING_OUTPUTS = {
    "aws": {"training_role_arn", "training_image_repository_url"},
    "gcp": {"training_service_account", "training_image_repository"},
    "azure": {"training_identity_client_id", "training_image_repository", "training_workspace_name"},
}
TRAINING_VARIABLES = ("TRAINING_ROLE", "TRAINING_IMAGE_REPOSITORY", "TRAINING_STORAGE_URL")


def _ignoring_conditions(statements: list[dict]) -> list[dict]:
    """The statements as if every condition held: what they could ever grant."""
    return [{k: v for k, v in s.items() if k != "Condition"} for s in statements]


def test_aws_training_role_reads_inputs_and_writes_only_outputs(aws_project):
    """training.tf's execution role, evaluated from the rendered Terraform: only SageMaker, for
    this account's jobs of this project, may assume it; it reads the job's inputs and the DVC
    data, writes only <data>/training/<job>/output/ and training/checkpoints/, pulls only the
    training repository, and holds no IAM, SageMaker or delete action."""
    from helpers.permissions import Module, aws_ci_roles, decide

    stack = aws_project / "terraform" / "aws"
    module = Module(stack)
    (role,) = aws_ci_roles(stack, "training").values()
    assert [p.document_name for p in role.policies] == ["training"]
    statements = role.statements
    account, region = module.facts()["account_id"], module.facts()["region"]
    job = f"{aws_project.name[:40]}{TRAINING_JOB}"

    (trust,) = module.data["aws_iam_policy_document"]["training_trust"]["statement"]
    assert module.evaluate(trust["principals"][0]["identifiers"], {}) == ["sagemaker.amazonaws.com"]
    conditions = {
        module.evaluate(c["variable"], {}): (module.evaluate(c["test"], {}), module.evaluate(c["values"], {}))
        for c in trust["condition"]
    }
    assert conditions == {
        "aws:SourceAccount": ("StringEquals", [account]),
        "aws:SourceArn": (
            "ArnLike",
            [f"arn:aws:sagemaker:{region}:{account}:training-job/{aws_project.name[:40]}-train-*"],
        ),
    }

    data, artifacts = (f"arn:aws:s3:::{module.output(name)}" for name in ("dvc_bucket", "artifact_bucket"))
    allowed = lambda action, resource: decide(statements, action, resource).allowed  # noqa: E731
    assert allowed("s3:GetObject", f"{data}/training/{job}/input/data/features/train.parquet")
    assert allowed("s3:GetObject", f"{data}/dvc/files/md5/ab/cdef")
    assert allowed("s3:PutObject", f"{data}/training/{job}/output/model.tar.gz")
    assert allowed("s3:PutObject", f"{data}/training/checkpoints/diagnosis_classifier/step-10.pt")
    assert allowed("s3:GetObject", f"{data}/training/checkpoints/diagnosis_classifier/step-10.pt")
    for resource in (
        f"{data}/training/{job}/input/data/features/train.parquet",  # its inputs: read only
        f"{data}/dvc/files/md5/ab/cdef",
        f"{data}/registry-backup/x",
        f"{artifacts}/other/model.pkl",
    ):
        assert not allowed("s3:PutObject", resource), resource
    # The job logs its model through MLflow, as this role: the tracking store's artifacts only.
    assert allowed("s3:PutObject", f"{artifacts}/mlflow/models/m-1/artifacts/model.pkl")
    assert allowed("sagemaker-mlflow:CreateModelVersion", module.output("mlflow_tracking_uri"))
    assert not allowed("sagemaker-mlflow:SetRegisteredModelAlias", module.output("mlflow_tracking_uri"))
    # Listing: the bucket, only under training/ and the DVC remote.
    (listing,) = [s for s in statements if "s3:ListBucket" in s["Action"]]
    assert listing["Resource"] == [data] and listing["Condition"] == {
        "StringLike": {"s3:prefix": ["training/*", "dvc/*"]}
    }
    repository = f"arn:aws:ecr:{region}:{account}:repository/{aws_project.name}"
    assert allowed("ecr:BatchGetImage", f"{repository}-training")
    assert not allowed("ecr:BatchGetImage", f"{repository}-serving")
    actions = {a for s in statements for a in s["Action"]}
    assert not [a for a in actions if a.startswith(("iam:", "sagemaker:", "sts:")) or "Delete" in a], actions
    group = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs"
    assert allowed("logs:PutLogEvents", f"{group}:log-stream:{job}/algo-1-1764417600")
    assert not allowed("logs:PutLogEvents", f"{group}:log-stream:other-project-train-1/algo-1-1764417600")


def test_aws_pr_role_submits_training_jobs_and_passes_only_the_training_role(aws_project):
    """The PR role creates, watches, stops and tags this project's training jobs only, passes the
    training role (to SageMaker only) and no other, uploads inputs under training/<job>/input/,
    and can change no IAM at all, whatever the conditions; the training image is pushed by the
    deploy role, never by the PR role."""
    from helpers.permissions import Module, aws_ci_roles, decide

    stack = aws_project / "terraform" / "aws"
    module = Module(stack)
    roles = aws_ci_roles(stack)
    (training,) = aws_ci_roles(stack, "training").values()
    account, region = module.facts()["account_id"], module.facts()["region"]
    pr = roles["pr"].statements
    jobs = f"arn:aws:sagemaker:{region}:{account}:training-job"
    job = f"{aws_project.name[:40]}{TRAINING_JOB}"
    for action in ("CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob", "AddTags"):
        assert decide(pr, f"sagemaker:{action}", f"{jobs}/{job}").allowed, action
        assert not decide(pr, f"sagemaker:{action}", f"{jobs}/other-project{TRAINING_JOB}").allowed, action
    assert not decide(pr, "sagemaker:CreateEndpoint", f"arn:aws:sagemaker:{region}:{account}:endpoint/{job}").allowed

    # iam:PassRole: one statement, the training role only, to SageMaker only.
    passing = [s for s in pr if decide(_ignoring_conditions([s]), "iam:PassRole", training.arn).allowed]
    assert [(s["Resource"], s["Condition"]) for s in passing] == [
        ([training.arn], {"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com"]}})
    ]
    anything = _ignoring_conditions(pr)
    for other in (module.output("serving_role_arn"), roles["deploy"].arn, roles["pr"].arn, "*"):
        assert not decide(anything, "iam:PassRole", other).allowed, other
    for action in (
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreatePolicyVersion",
        "iam:TagRole",
    ):
        for resource in (training.arn, roles["pr"].arn, f"arn:aws:iam::{account}:policy/x"):
            assert not decide(anything, action, resource).allowed, (action, resource)

    data = f"arn:aws:s3:::{module.output('dvc_bucket')}"
    assert decide(pr, "s3:PutObject", f"{data}/training/{job}/input/params.yaml").allowed
    assert not decide(pr, "s3:PutObject", f"{data}/training/{job}/output/model.tar.gz").allowed
    assert not decide(pr, "s3:PutObject", f"{data}/training/checkpoints/m/step-1.pt").allowed
    repository = f"arn:aws:ecr:{region}:{account}:repository/{aws_project.name}-training"
    assert not decide(anything, "ecr:PutImage", repository).allowed
    assert decide(roles["deploy"].statements, "ecr:PutImage", repository).allowed


@pytest.mark.parametrize("cloud", CLOUDS)
def test_training_outputs_and_repository_variables(cloud, cloud_projects):
    """Each project stack has the contract's outputs and a training_repository_variables map
    that terraform/github writes with the other repository variables."""
    stack = cloud_projects[cloud] / "terraform" / cloud
    outputs = {name: body for entry in hcl(stack)["output"] for name, body in entry.items()}
    assert TRAINING_OUTPUTS[cloud] <= set(outputs), TRAINING_OUTPUTS[cloud] - set(outputs)
    value = json.dumps(outputs["training_repository_variables"]["value"])
    for name in (*TRAINING_VARIABLES, *(("TRAINING_WORKSPACE",) if cloud == "azure" else ())):
        assert name in value, name
    github = (cloud_projects[cloud] / "terraform" / "github" / "main.tf").read_text()
    assert "data.terraform_remote_state.project.outputs.training_repository_variables" in github
    if cloud == "aws":  # the values, evaluated as the permission harness does
        from helpers.permissions import Module

        aws = Module(stack)
        variables = Module(stack.parent / "github", remote_states={"project": aws}).local("repository_variables")
        assert variables["TRAINING_ROLE"] == aws.output("training_role_arn")
        assert variables["TRAINING_STORAGE_URL"] == f"s3://{aws.output('dvc_bucket')}/training"
        assert variables["TRAINING_IMAGE_REPOSITORY"] == aws.output("training_image_repository_url")
        assert variables["TRAINING_IMAGE_REPOSITORY"].endswith(f".amazonaws.com/{cloud_projects[cloud].name}-training")


def test_contract_gcp_training_grants(gcp_project):
    """Contract test of the rendered GCP IAM of training.tf (no IAM emulator runs here): the job's
    account reads and writes the data bucket only through prefix conditions, the PR account
    acts as the training account only, through a custom role of custom-job permissions, and no
    grant of the file changes IAM."""
    stack = gcp_project / "terraform" / "gcp"
    resources = {
        (t, n): body for entry in hcl(stack)["resource"] for t, named in entry.items() for n, body in named.items()
    }
    scopes = ci_locals(stack)
    assert scopes["training_prefix"] == "training/"
    grants = scopes["training_bucket_grants"]
    assert {name: grant["role"] for name, grant in grants.items()} == {
        "training_read": "roles/storage.objectViewer",
        "training_output": "roles/storage.objectCreator",
        "training_checkpoints": "roles/storage.objectUser",
    }
    assert grants["training_output"]["condition"] == '${format(local.training_leaf, "output")}'
    assert "checkpoints/" in grants["training_checkpoints"]["condition"]
    assert 'extract("/objects/${local.training_prefix}{job}/%s/") != ""' in scopes["training_leaf"]
    binding = resources[("google_storage_bucket_iam_member", "training")]
    assert binding["member"] == "${google_service_account.training.member}" and binding["condition"]
    # actAs: on the training account only, for pr; no other account's serviceAccountUser to pr.
    acting = [
        (name, body["service_account_id"])
        for (t, name), body in resources.items()
        if t == "google_service_account_iam_member"
        and "serviceAccountUser" in json.dumps(body)
        and 'ci_members["pr"]' in body["member"]
    ]
    assert acting == [("pr_training", "${google_service_account.training.name}")]
    role = resources[("google_project_iam_custom_role", "training_jobs")]
    assert sorted(role["permissions"]) == sorted(
        f"aiplatform.customJobs.{verb}" for verb in ("create", "get", "list", "cancel")
    )
    assert resources[("google_project_iam_member", "pr_training_jobs")]["role"] == (
        "${google_project_iam_custom_role.training_jobs.name}"
    )
    options = SerializationOptions(with_comments=False, strip_string_quotes=True)
    granted = hcl2.loads((stack / "training.tf").read_text(), serialization_options=options)["resource"]
    roles = {body["role"] for entry in granted for named in entry.values() for body in named.values() if "role" in body}
    roles |= {grant["role"] for grant in grants.values()}
    assert not [
        r for r in roles if re.search(r"roles/(owner|editor|aiplatform\.|iam\.(?!serviceAccount)|resourcemanager)", r)
    ]
    assert not [p for p in role["permissions"] if "setIamPolicy" in p or p.startswith("iam.")]


def test_contract_azure_training_grants_and_optional_workspace(azure_project):
    """Contract test of the rendered Azure RBAC of training.tf (no ARM emulator runs here): the
    Azure ML workspace (and its vault and Application Insights) exist only with
    training_backend_enabled (default false); the job identity writes only outputs and
    checkpoints; the PR identity gets AzureML Data Scientist on the workspace, Managed Identity
    Operator on the training identity only and conditioned input uploads; no role can write a
    role assignment."""
    stack = azure_project / "terraform" / "azure"
    blocks = hcl(stack)
    variables = {name: body for entry in blocks["variable"] for name, body in entry.items()}
    assert variables["training_backend_enabled"]["type"] == "bool"
    assert variables["training_backend_enabled"]["default"] is False
    resources = {
        (t, n): body for entry in blocks["resource"] for t, named in entry.items() for n, body in named.items()
    }
    for key in (
        ("azurerm_machine_learning_workspace", "training"),
        ("azurerm_key_vault", "training"),
        ("azurerm_application_insights", "training"),
        ("azurerm_role_assignment", "pr_training_workspace"),
    ):
        assert resources[key]["count"] == "${var.training_backend_enabled ? 1 : 0}", key
    workspace = resources[("azurerm_machine_learning_workspace", "training")]
    assert workspace["storage_account_id"] == "${azurerm_storage_account.project.id}"
    assert workspace["storage_account_access_type"] == "Identity"  # the account has no shared keys
    assert workspace["identity"][0]["identity_ids"] == ["${azurerm_user_assigned_identity.training.id}"]
    assert resources[("azurerm_key_vault", "training")]["public_network_access_enabled"] is False
    assert resources[("azurerm_role_assignment", "pr_training_workspace")]["role_definition_name"] == (
        "AzureML Data Scientist"
    )
    local = ci_locals(stack)
    grants = local["training_grants"]
    assert {name: grant["role"] for name, grant in grants.items()} == {
        "job_training": "${local.blob_writer}",  # no delete (ci_identities.tf)
        "job_dvc_read": "Storage Blob Data Reader",
        "job_pull": "AcrPull",
        "pr_inputs": "${local.blob_writer}",
        "pr_assign": "Managed Identity Operator",
    }
    assert grants["pr_assign"]["scope"] == "${azurerm_user_assigned_identity.training.id}"
    assert grants["pr_inputs"]["condition"] == '${format(local.write_like, "${local.training_prefix}*/input/*")}'
    write = local["training_write"]
    assert "StringLike '${local.training_prefix}*/output/*'" in write
    assert "StringStartsWith '${local.training_prefix}checkpoints/'" in write
    text = (stack / "training.tf").read_text()
    assert not re.search(
        r'"(Owner|Contributor|User Access Administrator|Role Based Access Control Administrator)"', text
    )
