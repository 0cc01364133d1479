"""The checker's own tests: a clean module passes, and each deliberately wrong one fails
with the expected rule (so the checks of the real roots are able to fail)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlops_gitops.tfcheck.checks import check_paths, constraint_allows

GOOD = """
terraform {
  required_providers {
    aws = {
      version = "~> 6.69.0"
      source  = "hashicorp/aws"
    }
  }
  required_version = ">= 1.10.0"
}

variable "name" {
  type        = string
  description = "Bucket name."
}

locals {
  tags = {
    project       = "p"
    environment   = "dev"
    owner         = "me"
    "cost-center" = "cc"
    "managed-by"  = "terraform"
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = local.tags
  }
}

resource "aws_s3_bucket" "data" {
  bucket = var.name
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    id     = "old"
    status = "Enabled"
    dynamic "noncurrent_version_expiration" {
      for_each = [30]
      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }
  }
}

output "bucket" {
  description = "The bucket."
  value       = aws_s3_bucket.data.id
}
"""

# (case, text replacement applied to GOOD, rule expected in the findings)
BAD = [
    ("unknown argument", ("bucket = var.name", 'bucket = var.name\n  buckett = "x"'), "schema-unknown-argument"),
    (
        "unknown block",
        ("bucket = var.name", "bucket = var.name\n  versioning_config {\n    enabled = true\n  }"),
        "schema-unknown-block",
    ),
    ("unknown nested argument", ('status = "Enabled"', 'status = "Enabled"\n    days = 3'), "schema-unknown-argument"),
    (
        "unknown block in dynamic content",
        ("noncurrent_days = noncurrent_version_expiration.value", "noncurrent_days = 1\n        expiration_days = 2"),
        "schema-unknown-argument",
    ),
    ("missing required argument", ("bucket = aws_s3_bucket.data.id\n  rule", "rule"), "schema-missing-required"),
    ("missing required nested argument", ('    status = "Enabled"\n', ""), "schema-missing-required"),
    (
        "unknown resource type",
        ('resource "aws_s3_bucket" "data"', 'resource "aws_s3_buckets" "data"'),
        "schema-unknown-type",
    ),
    (
        "provider without schema",
        ('output "bucket"', 'resource "nosuch_thing" "x" {}\n\noutput "bucket"'),
        "schema-unknown-provider",
    ),
    ("untyped variable", ("  type        = string\n", ""), "variable-type"),
    ("undocumented variable", ('  description = "Bucket name."\n', ""), "variable-description"),
    (
        "unused variable",
        ('output "bucket"', 'variable "spare" {\n  type        = string\n  description = "x"\n}\n\noutput "bucket"'),
        "unused-variable",
    ),
    ("unused local", ("locals {", "locals {\n  spare = 1"), "unused-local"),
    ("no required_version", ('required_version = ">= 1.10.0"', ""), "required-version"),
    ("provider constraint excludes schema", ('version = "~> 6.69.0"', 'version = "~> 5.0"'), "provider-constraint"),
    (
        "provider constraint admits unchecked minors",
        ('version = "~> 6.69.0"', 'version = "~> 6.25"'),
        "provider-constraint",
    ),
    ("provider without constraint", ('      version = "~> 6.69.0"\n', ""), "provider-constraint"),
    ("provider wrong source", ('source  = "hashicorp/aws"', 'source  = "someone/aws"'), "provider-constraint"),
    (
        "non-snake resource name",
        ('resource "aws_s3_bucket" "data"', 'resource "aws_s3_bucket" "DataBucket"'),
        "snake-case",
    ),
    ("non-snake variable name", ('variable "name"', 'variable "bucketName"'), "snake-case"),
    ("undocumented output", ('  description = "The bucket."\n', ""), "output-description"),
    ("missing tags", ('    "cost-center" = "cc"\n', ""), "standard-tags"),
    ("no default tags", ("  default_tags {\n    tags = local.tags\n  }\n", ""), "standard-tags"),
    (
        "argument written as block",
        ("bucket = var.name", "bucket = var.name\n  tags {\n    a = 1\n  }"),
        "schema-unknown-block",
    ),
    (
        "block written as argument",
        ("bucket = var.name", "bucket = var.name\n  versioning = {}"),
        "schema-block-as-argument",
    ),
    ("parse error", ('output "bucket" {', 'output "bucket" {{'), "parse-error"),
]


def run(tmp_path, text):
    (tmp_path / "main.tf").write_text(text)
    findings, _ = check_paths([str(tmp_path)])
    return findings


def test_good_module_passes(tmp_path):
    assert run(tmp_path, GOOD) == []


@pytest.mark.parametrize("case,change,rule", BAD, ids=[b[0] for b in BAD])
def test_wrong_hcl_fails(tmp_path, case, change, rule):
    old, new = change
    assert old in GOOD, f"test case {case!r} does not apply"
    findings = run(tmp_path, GOOD.replace(old, new, 1))
    assert rule in {f.rule for f in findings}, [str(f) for f in findings]


def test_finding_is_one_line_with_location(tmp_path):
    findings = run(tmp_path, GOOD.replace("bucket = var.name", 'bucket = var.name\n  buckett = "x"'))
    line = str(findings[0])
    assert "\n" not in line
    assert line.startswith(f"{tmp_path}/main.tf:") and ": schema-unknown-argument: " in line
    assert "aws_s3_bucket.data" in line and "'buckett'" in line


def test_cli_exit_codes(tmp_path):
    """Non-zero with findings, zero without: what `make lint` and pre-commit rely on."""
    (tmp_path / "main.tf").write_text(GOOD)
    cmd = [sys.executable, "-m", "mlops_gitops", "tfcheck", str(tmp_path)]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    (tmp_path / "main.tf").write_text(GOOD.replace('version = "~> 6.69.0"', 'version = "~> 5.0"'))
    bad = subprocess.run(cmd, capture_output=True, text=True)
    assert bad.returncode == 1 and "provider-constraint" in bad.stdout


@pytest.mark.parametrize(
    "constraint,ok",
    [
        ("~> 6.25", True),
        ("~> 6.0", True),
        ("~> 6.25.0", True),
        ("~> 6.26", False),
        ("~> 5.0", False),
        (">= 6.0, < 7.0", True),
        ("6.25.0", True),
        ("= 6.24.0", False),
        ("!= 6.25.0", False),
        ("> 6.25", False),
    ],
)
def test_constraint_semantics(constraint, ok):
    assert constraint_allows(constraint, "6.25.0") is ok


def test_schema_comes_from_the_pinned_packages():
    from mlops_gitops.tfcheck.schema import Schemas

    schemas = Schemas()
    aws = schemas.provider("aws")
    github = schemas.provider("github")
    assert aws == {"name": "aws", "source": "hashicorp/aws", "version": "6.69.1"}
    assert schemas.provider("google") == {"name": "google", "source": "hashicorp/google", "version": "8.7.0"}
    assert schemas.provider("google-beta")["version"] == "8.7.0"
    assert github == {"name": "github", "source": "integrations/github", "version": "6.13.0"}
    block, _ = schemas.block("resource", "aws_sagemaker_mlflow_tracking_server")
    assert {k for k, req in block["attrs"].items() if req} == {"artifact_store_uri", "role_arn", "tracking_server_name"}
    assert len(schemas.by_provider["aws"]["resource"]) > 1500


CHILD = """
variable "name" {
  type        = string
  description = "Bucket name."
}

resource "aws_s3_bucket" "data" {
  bucket = var.name
}
"""

CALLER = """
terraform {
  required_providers {
    aws = {
      version = "~> 6.69.0"
      source  = "hashicorp/aws"
    }
  }
  required_version = ">= 1.10.0"
}

provider "aws" {
  region = "eu-west-1"
  DEFAULT_TAGS
}

module "bucket" {
  source = "./modules/bucket"
  name   = "b"
}
"""


@pytest.mark.parametrize("tagged", [True, False])
def test_a_child_module_inherits_its_callers_default_tags(tmp_path, tagged):
    """A local module configures no provider: its resources carry the tags the caller's provider sets."""
    tags = 'project = "p"\n    environment = "dev"\n    owner = "me"\n    "cost-center" = "c"\n    "managed-by" = "t"'
    (tmp_path / "modules/bucket").mkdir(parents=True)
    (tmp_path / "modules/bucket/main.tf").write_text(CHILD)
    (tmp_path / "main.tf").write_text(
        CALLER.replace("DEFAULT_TAGS", f"default_tags {{\n    tags = {{\n    {tags}\n    }}\n  }}" if tagged else "")
    )
    findings, _ = check_paths([str(tmp_path)])
    tag_findings = [f for f in findings if f.rule == "standard-tags"]
    assert (tag_findings == []) is tagged, [str(f) for f in findings]


GOOGLE = """
terraform {
  required_version = ">= 1.10.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 8.7.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 8.7.0"
    }
  }
}

locals {
  labels = {
    project       = "p"
    environment   = "shared"
    owner         = "ml-team"
    "cost-center" = "ml"
    "managed-by"  = "terraform"
  }
}

provider "google" {
  project        = "my-project"
  default_labels = local.labels
}

provider "google-beta" {
  project        = "my-project"
  default_labels = local.labels
}

resource "google_storage_bucket" "data" {
  name     = "p-data"
  location = "EU"
}

resource "google_monitoring_notification_channel" "email" {
  type   = "email"
  labels = { email_address = "ml@example.com" }
}

resource "google_project_service_identity" "run" {
  provider = google-beta
  service  = "run.googleapis.com"
}
"""

# (case, text replacement applied to GOOGLE, rule expected in the findings)
GOOGLE_BAD = [
    ("label key missing", ('    "managed-by"  = "terraform"\n', ""), "standard-tags"),
    (
        "no default labels",
        ('  default_labels = local.labels\n}\n\nprovider "google-beta"', '}\n\nprovider "google-beta"'),
        "standard-tags",
    ),
    ("label value with capitals", ('owner         = "ml-team"', 'owner         = "ML-Team"'), "label-values"),
    ("beta-only type without the beta provider", ("  provider = google-beta\n", ""), "schema-unknown-type"),
    ("google constraint admits unchecked minors", ('version = "~> 8.7.0"', 'version = "~> 8"'), "provider-constraint"),
]


def test_google_module_passes_with_labels_and_beta(tmp_path):
    """Labels stand in for tags on Google Cloud; a notification channel's `labels` (its address)
    is not a resource label; a google-beta resource is checked against google-beta's schema."""
    assert run(tmp_path, GOOGLE) == []


@pytest.mark.parametrize("case,change,rule", GOOGLE_BAD, ids=[b[0] for b in GOOGLE_BAD])
def test_wrong_google_hcl_fails(tmp_path, case, change, rule):
    old, new = change
    assert old in GOOGLE, f"test case {case!r} does not apply"
    findings = run(tmp_path, GOOGLE.replace(old, new, 1))
    assert rule in {f.rule for f in findings}, [str(f) for f in findings]
