"""Validate every answer before a single file is written.

Each rule reports one line, "<answer>: <what is wrong>. <how to fix it>", and exits 1;
cookiecutter then removes the half-made project folder. project_slug, which names that folder, is
checked before it exists too, with the same rule and line (hooks/project_folder.py). Offline and
side-effect free: template update tools (cruft) re-run this hook.
"""

# Imports: only what every run needs (this interpreter's start-up is part of each generation);
# difflib is imported where a typo is reported. Python >= 3.10 (cookiecutter's floor): no __future__.
import json
import keyword
import re
import sys

# Answers arrive as one JSON string literal: quotes, newlines and backslashes in an answer stay
# data and can never become code in this file.
ANSWERS: dict = json.loads({{cookiecutter | tojson | tojson}})  # noqa: F821

# Display name and an example region of each cloud, for messages.
CLOUD_NAMES = {"aws": ("AWS", "eu-west-1"), "gcp": ("Google Cloud", "europe-west1"), "azure": ("Azure", "westeurope")}

REGIONS = {
    "aws": {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "mx-central-1",
        "sa-east-1",
    },
    "gcp": {
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    },
    "azure": {
        "australiacentral",
        "australiaeast",
        "australiasoutheast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "chilecentral",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "uaenorth",
        "uksouth",
        "ukwest",
        "westcentralus",
        "westeurope",
        "westus",
        "westus2",
        "westus3",
    },
}
CHOICES = {
    "cloud_provider": ("aws", "gcp", "azure"),
    "python_version": ("3.11", "3.12", "3.13"),
    "primary_metric": ("roc_auc", "f1", "accuracy", "log_loss"),
    "metric_higher_is_better": ("yes", "no"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}
# Option combinations the template does not support, as data: (condition, reason and fix).
UNSUPPORTED = [
    (
        {"primary_metric": ("log_loss",), "metric_higher_is_better": ("yes",)},
        "log loss is better when lower. Answer 'no' to metric_higher_is_better",
    ),
    (
        {"primary_metric": ("roc_auc", "f1", "accuracy"), "metric_higher_is_better": ("no",)},
        "this metric is better when higher. Answer 'yes' to metric_higher_is_better",
    ),
]
# Names a generated package must not take: they would shadow modules the pipeline imports.
RESERVED_PACKAGES = {
    "test",
    "tests",
    "src",
    "mlflow",
    "dvc",
    "sklearn",
    "pandas",
    "numpy",
    "yaml",
    "json",
    "os",
    "sys",
    "typing",
    "logging",
    "random",
    "string",
    "site",
    "io",
    "re",
    "ast",
    "types",
}
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
OWNER = re.compile(r"^@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?$")
MODEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")

# Each cloud's platform outputs, asked by cookiecutter.json as `<cloud>_*` (the prompt says "<CLOUD>
# only") and ignored for other clouds: answer -> (the whole value's pattern, what it should be).
# A named group must equal the answer SAME names for it: a key in another region or account is
# refused here rather than at the first `terraform apply`. A new cloud adds its entry, nothing else.
# (This file is a Jinja template: no double braces in patterns, hence no f-strings.)
URL = "https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?"
AWS_ID = "(?P<account>[0-9]{12})"
GUID = "[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
GCP_PROJECT = "[a-z][a-z0-9-]{4,28}[a-z0-9]"
GCP_LOCATION = "projects/(?P<project>" + GCP_PROJECT + ")/locations/(?P<region>[a-z0-9-]+)"
PLATFORM_ANSWERS: dict[str, dict[str, tuple[str, str]]] = {
    "aws": {
        "aws_account_id": ("[0-9]{12}", "a 12-digit AWS account id"),
        "aws_oidc_provider_arn": (
            "arn:aws:iam::" + AWS_ID + r":oidc-provider/token\.actions\.githubusercontent\.com",
            "the ARN of the GitHub OIDC provider "
            "(arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com)",
        ),
        "aws_kms_key_arn": (
            "arn:aws:kms:(?P<region>[a-z0-9-]+):" + AWS_ID + ":key/" + GUID,
            "the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<uuid>)",
        ),
        "aws_mlflow_tracking_server_arn": (
            "arn:aws:sagemaker:(?P<region>[a-z0-9-]+):"
            + AWS_ID
            + ":mlflow-tracking-server/[A-Za-z0-9](-*[A-Za-z0-9]){0,255}",
            "the ARN of a SageMaker MLflow tracking server "
            "(arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>)",
        ),
        "aws_mlflow_tracking_url": (URL, "an https URL"),
    },
    "gcp": {
        "gcp_project_id": (GCP_PROJECT, "a Google Cloud project id (6-30 lowercase letters, digits and hyphens)"),
        "gcp_workload_identity_provider": (
            "projects/[0-9]{1,19}/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}",
            "a workload identity provider name, with the project NUMBER "
            "(projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>)",
        ),
        "gcp_kms_key": (
            GCP_LOCATION + "/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}",
            "a Cloud KMS key name (projects/<id>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>)",
        ),
        "gcp_mlflow_service": (
            GCP_LOCATION + "/services/[a-z]([a-z0-9-]{0,47}[a-z0-9])?",
            "a Cloud Run service name (projects/<id>/locations/<region>/services/<name>)",
        ),
        "gcp_mlflow_tracking_url": (URL, "an https URL"),
    },
    "azure": {
        "azure_tenant_id": (GUID, "a GUID (the Entra ID tenant id)"),
        "azure_subscription_id": (GUID, "a GUID (the subscription id)"),
        "azure_state_resource_group": (
            r"[-\w.()]{0,89}[-\w()]",
            "a resource group name (1-90 letters, digits, -_.(), not ending in .)",
        ),
        "azure_key_vault_key_id": (
            r"https://[A-Za-z](-?[A-Za-z0-9]){2,23}\.vault\.azure\.net/keys/[A-Za-z0-9-]{1,127}",
            "a versionless Key Vault key id (https://<vault>.vault.azure.net/keys/<name>: storage follows rotations)",
        ),
        "azure_mlflow_tracking_url": (URL, "an https URL"),
        "azure_mlflow_client_id": (GUID, "a GUID (the client id of the tracking server's Entra application)"),
        "azure_mlflow_principal_id": (GUID, "a GUID (the principal id of the tracking server's identity)"),
    },
}
# A named group of those patterns -> the answer it must equal, and what to do otherwise.
SAME = {
    "account": ("aws_account_id", "Use outputs of the same account"),
    "project": ("gcp_project_id", "Use outputs of the same project"),
    "region": ("cloud_region", "Use the platform stack of this region, or change cloud_region"),
}


class Invalid(Exception):
    """One answer is wrong; the message is the single line the user sees."""


def fail(answer: str, problem: str, fix: str) -> None:
    raise Invalid(f"{answer}: {problem}. {fix}")


def text(name: str, max_length: int = 200) -> str:
    value = ANSWERS.get(name)
    if not isinstance(value, str) or not value.strip():
        fail(name, "is empty", "Give a value")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        fail(name, "contains a control character or line break", "Use a single line of plain text")
    if len(value) > max_length:
        fail(name, f"is {len(value)} characters long", f"Keep it to {max_length} or fewer")
    return value


def check_choices() -> None:
    for name, allowed in CHOICES.items():
        if ANSWERS.get(name) not in allowed:
            fail(name, f"'{ANSWERS.get(name)}' is not an option", f"Choose one of: {', '.join(allowed)}")


def check_combinations() -> None:
    for condition, reason in UNSUPPORTED:
        if all(ANSWERS.get(key) in values for key, values in condition.items()):
            pairs = ", ".join(f"{key}={ANSWERS.get(key)}" for key in condition)
            fail(pairs, "is not a supported combination", reason)


def check_names() -> None:
    text("project_name", 80)
    slug = text("project_slug", 60)
    if not SLUG.match(slug):
        fail(
            "project_slug",
            f"'{slug}' is not a valid repository name",
            "Use lowercase letters, digits and single hyphens, starting with a letter",
        )
    package = text("package_name", 60)
    if not PACKAGE.match(package) or keyword.iskeyword(package):
        fail(
            "package_name",
            f"'{package}' is not a valid Python package name",
            "Use lowercase letters, digits and single underscores, starting with a letter",
        )
    if package in RESERVED_PACKAGES:
        fail("package_name", f"'{package}' would shadow a module the project imports", "Choose another name")
    text("description", 200)
    text("author_name", 100)
    if not EMAIL.match(text("author_email", 254)):
        fail("author_email", f"'{ANSWERS['author_email']}' is not an e-mail address", "Use name@domain.tld")
    owner = text("github_owner", 39)
    if not GITHUB_NAME.match(owner):
        fail(
            "github_owner",
            f"'{owner}' is not a GitHub user or organisation name",
            "Use letters, digits and single hyphens (at most 39)",
        )
    for answer in ("code_owners", "platform_owners"):
        for token in text(answer, 300).split():
            if not OWNER.match(token):
                fail(answer, f"'{token}' is not a GitHub user or team", "Use @user or @org/team, separated by spaces")
    model = text("model_name", 100)
    if not MODEL_NAME.match(model):
        fail(
            "model_name",
            f"'{model}' cannot be used in a model URI (models:/<name>@<alias>)",
            "Use letters, digits, '_', '-' and '.', starting with a letter",
        )


def check_regions(cloud: str) -> None:
    region, dr_region = text("cloud_region", 40), text("dr_region", 40)
    for name, value in (("cloud_region", region), ("dr_region", dr_region)):
        if value not in REGIONS[cloud]:
            here, example = CLOUD_NAMES[cloud]
            other = next((CLOUD_NAMES[c][0] for c in REGIONS if value in REGIONS[c]), None)
            if other:  # another cloud's region: this cloud's example
                fail(name, f"'{value}' is a region of {other}, not of {here}", f"Use a region name such as {example}")
            import difflib  # only on this error path

            near = difflib.get_close_matches(value, sorted(REGIONS[cloud]), n=1) or [example]  # a typo
            fail(name, f"'{value}' is not a region of {here}", f"Use a region name such as {near[0]}")
    if region == dr_region:
        fail(
            "dr_region",
            f"is the same as cloud_region ('{region}')",
            "Pick a second region so disaster-recovery copies survive a regional outage",
        )


def bucket_problem(cloud: str, name: str) -> str | None:
    """Why `name` breaks the cloud's bucket (or storage account) naming rules, or None."""
    if cloud == "azure":
        if not re.fullmatch(r"[a-z0-9]{3,24}", name):
            return "is not 3-24 lowercase letters and digits (Azure storage account rules)"
        return None
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
        return "must be 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name or re.fullmatch(r"[0-9.]+", name):
        return "has adjacent dots or looks like an IP address"
    if cloud == "aws" and (name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3"))):
        return "uses a prefix or suffix that S3 reserves"
    if cloud == "gcp" and (name.startswith("goog") or "google" in name):
        return "contains 'goog' or 'google', which Cloud Storage forbids"
    return None


def check_storage(cloud: str) -> None:
    prefix = text("storage_prefix", 60)
    # Names derived from the prefix are what the cloud sees: check those.
    # AWS and GCP replicate each bucket to `<name>-dr` in dr_region: the longest name decides.
    buckets = [f"{prefix}-data", f"{prefix}-artifacts"]
    derived = [prefix.replace("-", "")] if cloud == "azure" else [*buckets, *(f"{b}-dr" for b in buckets)]
    for name in derived:
        problem = bucket_problem(cloud, name)
        if problem:
            fail("storage_prefix", f"gives the name '{name}', which {problem}", "Choose a shorter or plainer prefix")
    state = text("tf_state_bucket", 63)
    problem = bucket_problem(cloud, state)
    if problem:
        fail("tf_state_bucket", f"'{state}' {problem}", "Use the name the platform stack printed")


def check_platform_answers(cloud: str) -> None:
    for name, (pattern, shape) in PLATFORM_ANSWERS[cloud].items():
        value = text(name, 300)
        match = re.fullmatch(pattern, value)
        if not match:
            fail(name, f"'{value}' is not {shape}", "Copy it from the platform stack's outputs")
        for group, found in match.groupdict().items():
            other, fix = SAME[group]
            if found != ANSWERS[other]:
                fail(name, f"is in {group} '{found}' but {other} is '{ANSWERS[other]}'", fix)


def main() -> int:
    try:
        check_choices()
        check_combinations()
        check_names()
        cloud = ANSWERS["cloud_provider"]
        check_regions(cloud)
        check_storage(cloud)
        check_platform_answers(cloud)
    except Invalid as problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
