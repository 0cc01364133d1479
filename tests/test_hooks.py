"""Answers: every bad one is refused in one line, before anything is written; hostile ones stay data."""

from __future__ import annotations

import ast
import json
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cookiecutter.environment import StrictEnvironment
from cookiecutter.exceptions import FailedHookException
from cookiecutter.generate import generate_context, generate_file, is_copy_only_path
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config
from cookiecutter.utils import work_in
from jinja2 import FileSystemLoader

from helpers.project import DEFAULTS, PROJECT_TEMPLATE, TEMPLATE, render

GOOD_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
GCP_PROJECT = "my-org-ml-platform"  # the default gcp_project_id

# (answers, text the single error line must contain)
BAD_ANSWERS: dict[str, tuple[dict[str, str], str]] = {
    "empty project name": ({"project_name": " "}, "project_name: is empty"),
    "project name with a line break": ({"project_name": "a\nb"}, "control character or line break"),
    "project name too long": ({"project_name": "x" * 81}, "is 81 characters long"),
    "slug with a space": ({"project_slug": "bad slug"}, "project_slug: 'bad slug' is not a valid repository name"),
    "slug starting with a digit": ({"project_slug": "1-model"}, "project_slug: '1-model'"),
    "slug with double hyphen": ({"project_slug": "a--b"}, "project_slug: 'a--b'"),
    "package is a keyword": ({"package_name": "class"}, "package_name: 'class' is not a valid Python package"),
    "package with hyphen": ({"package_name": "my-pkg"}, "package_name: 'my-pkg'"),
    "package shadows a dependency": ({"package_name": "mlflow"}, "would shadow a module"),
    "description with a line break": ({"description": "one\ntwo"}, "description: contains a control character"),
    "author e-mail": ({"author_email": "nobody"}, "author_email: 'nobody' is not an e-mail address"),
    "github owner with edge hyphen": ({"github_owner": "-org-"}, "github_owner: '-org-' is not a GitHub"),
    "github owner too long": ({"github_owner": "o" * 40}, "github_owner: is 40 characters long"),
    "unknown aws region": ({"cloud_region": "mars-north-1"}, "cloud_region: 'mars-north-1' is not a region of AWS"),
    "aws region for gcp": (
        {"cloud_provider": "gcp", "cloud_region": "eu-west-1"},
        "cloud_region: 'eu-west-1' is a region of AWS, not of Google Cloud. Use a region name such as europe-west1",
    ),
    "azure region typo": (
        {"cloud_provider": "azure", "cloud_region": "west-europe"},
        "'west-europe' is not a region of Azure. Use a region name such as westeurope",
    ),
    "dr region equals main region": ({"dr_region": "eu-west-1"}, "dr_region: is the same as cloud_region"),
    "unknown dr region": (
        {"dr_region": "eu-west-9"},
        "dr_region: 'eu-west-9' is not a region of AWS. Use a region name such as eu-west-3",
    ),
    "metric direction not yes/no": ({"metric_higher_is_better": "maybe"}, "metric_higher_is_better: 'maybe'"),
    "code owner without @": ({"code_owners": "ml-team"}, "code_owners: 'ml-team' is not a GitHub user or team"),
    "platform owner without @": (
        {"platform_owners": "@acme/platform platform"},
        "platform_owners: 'platform' is not a GitHub user or team",
    ),
    "model name with slash": ({"model_name": "team/model"}, "model_name: 'team/model' cannot be used"),
    "uppercase storage prefix": ({"storage_prefix": "MyOrg"}, "storage_prefix: gives the name 'MyOrg-data'"),
    "storage prefix too long for S3": ({"storage_prefix": "a" * 55}, "-artifacts', which must be 3-63"),
    "storage prefix too long for the GCS replica": (
        {"cloud_provider": "gcp", "storage_prefix": "a" * 51},
        "-artifacts-dr', which must be 3-63",
    ),
    "storage prefix too long for Azure": (
        {"cloud_provider": "azure", "storage_prefix": "my-organisation-churn-models"},
        "Azure storage account rules",
    ),
    "google in a GCS bucket": ({"cloud_provider": "gcp", "storage_prefix": "google-ml"}, "which Cloud Storage forbids"),
    "reserved S3 prefix": ({"tf_state_bucket": "xn--state"}, "tf_state_bucket: 'xn--state' uses a prefix"),
    "bucket looking like an IP": ({"tf_state_bucket": "10.0.0.1"}, "looks like an IP address"),
    "short account id": ({"aws_account_id": "1234"}, "aws_account_id: '1234' is not a 12-digit"),
    "malformed ARN": (
        {"aws_oidc_provider_arn": "arn:aws:iam::oidc"},
        "aws_oidc_provider_arn: 'arn:aws:iam::oidc' is not the ARN of the GitHub OIDC provider",
    ),
    "ARN of the wrong service": (
        {"aws_kms_key_arn": GOOD_ARN},
        f"aws_kms_key_arn: '{GOOD_ARN}' is not the ARN of a KMS key",
    ),
    "ARN in another region": (
        {"aws_mlflow_tracking_server_arn": "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/x"},
        "is in region 'us-east-1' but cloud_region is 'eu-west-1'",
    ),
    "ARN of another account": (
        {"aws_oidc_provider_arn": GOOD_ARN.replace("123456789012", "210987654321")},
        "aws_oidc_provider_arn: is in account '210987654321' but aws_account_id is '123456789012'",
    ),
    "tracking URL over http": ({"aws_mlflow_tracking_url": "http://mlflow.example.com"}, "is not an https URL"),
    "gcp project id with capitals": (
        {"cloud_provider": "gcp", "gcp_project_id": "My-Project"},
        "gcp_project_id: 'My-Project' is not a Google Cloud project id",
    ),
    "workload identity provider named by project id": (
        {
            "cloud_provider": "gcp",
            "gcp_workload_identity_provider": f"projects/{GCP_PROJECT}/locations/global/workloadIdentityPools/github/providers/github",
        },
        "is not a workload identity provider name, with the project NUMBER",
    ),
    "gcp key in another region": (
        {
            "cloud_provider": "gcp",
            "gcp_kms_key": f"projects/{GCP_PROJECT}/locations/us-central1/keyRings/platform/cryptoKeys/data",
        },
        "gcp_kms_key: is in region 'us-central1' but cloud_region is 'europe-west1'. Use the platform stack of this region",
    ),
    "gcp key of another project": (
        {
            "cloud_provider": "gcp",
            "gcp_kms_key": "projects/other-project/locations/europe-west1/keyRings/platform/cryptoKeys/data",
        },
        f"gcp_kms_key: is in project 'other-project' but gcp_project_id is '{GCP_PROJECT}'",
    ),
    "gcp MLflow service given as its URL": (
        {"cloud_provider": "gcp", "gcp_mlflow_service": "https://mlflow-1.europe-west1.run.app"},
        "gcp_mlflow_service: 'https://mlflow-1.europe-west1.run.app' is not a Cloud Run service name",
    ),
    "azure tenant that is not a GUID": (
        {"cloud_provider": "azure", "azure_tenant_id": "contoso.onmicrosoft.com"},
        "azure_tenant_id: 'contoso.onmicrosoft.com' is not a GUID (the Entra ID tenant id)",
    ),
    "azure key given as a resource id": (
        {
            "cloud_provider": "azure",
            "azure_key_vault_key_id": "/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/kv/keys/data",
        },
        "is not a versionless Key Vault key id (https://<vault>.vault.azure.net/keys/<name>",
    ),
    "azure resource group ending with a dot": (
        {"cloud_provider": "azure", "azure_state_resource_group": "state."},
        "azure_state_resource_group: 'state.' is not a resource group name",
    ),
    "gcp tracking URL over http": (
        {"cloud_provider": "gcp", "gcp_mlflow_tracking_url": "http://mlflow.example.com"},
        "gcp_mlflow_tracking_url: 'http://mlflow.example.com' is not an https URL",
    ),
    "log loss marked higher-is-better": (
        {"primary_metric": "log_loss", "metric_higher_is_better": "yes"},
        "primary_metric=log_loss, metric_higher_is_better=yes: is not a supported combination",
    ),
    "roc auc marked lower-is-better": (
        {"primary_metric": "roc_auc", "metric_higher_is_better": "no"},
        "is not a supported combination",
    ),
}


@pytest.fixture(autouse=True)
def template_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """cookiecutter puts the template folder on sys.path while it runs, for cookiecutter.json's
    `_extensions` (hooks/project_folder.py): tests that build its Jinja environment do the same."""
    monkeypatch.setattr(sys, "path", [*sys.path, str(TEMPLATE)])


def hook_error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ERROR: ")]


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answer_is_refused_in_one_line_and_leaves_nothing(
    case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    answers, expected = BAD_ANSWERS[case]
    out = tmp_path / "out"
    with pytest.raises(FailedHookException) as refused:
        render(out, **answers)
    # The pre-gen hook prints its line; a bad project_slug is refused earlier, in the exception.
    lines = hook_error_lines(capfd.readouterr().err) + hook_error_lines(str(refused.value))
    assert len(lines) == 1, lines
    assert expected in lines[0]
    assert ". " in lines[0], "the line must also say how to fix it"
    assert list(out.iterdir()) == []


def test_cli_exits_non_zero_on_a_bad_answer(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-o",
            str(tmp_path),
            str(TEMPLATE),
            "cloud_region=nowhere",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert hook_error_lines(done.stderr) == [
        "ERROR: cloud_region: 'nowhere' is not a region of AWS. Use a region name such as eu-west-1"
    ]
    assert list(tmp_path.iterdir()) == []


# Slugs that are not one plain folder name. cookiecutter creates `<output>/<slug>` with its parents
# before the pre-gen hook runs and removes only `<slug>` on failure: `a/b` used to leave `a/` behind
# and an absolute slug wrote outside the output folder. hooks/project_folder.py refuses them first.
BAD_SLUGS = {
    "slash": "a/b",
    "nested under a new folder": "new-parent/child",
    "parent folder": "..",
    "climbing out": "../escaped",
    "backslash": "a\\b",
    "absolute": "{absolute}/abs/child",
    "empty": "",
    "line break": "a\nb",
    "too long": "a" * 61,
}


def slug_of(case: str, tmp_path: Path) -> str:
    return BAD_SLUGS[case].format(absolute=tmp_path / "elsewhere")


def assert_nothing_written(tmp_path: Path, out: Path) -> None:
    assert list(out.iterdir()) == [], list(out.rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing beside or above it either


@pytest.mark.parametrize("case", sorted(BAD_SLUGS))
def test_bad_slug_is_refused_before_any_folder_exists(case: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(FailedHookException) as refused:
        render(out, project_slug=slug_of(case, tmp_path))
    assert_nothing_written(tmp_path, out)
    assert str(refused.value).startswith("ERROR: project_slug: ")
    assert "\n" not in str(refused.value).replace(slug_of(case, tmp_path), "")
    assert ". " in str(refused.value), "the line must also say how to fix it"


@pytest.mark.parametrize("case", ["slash", "absolute", "parent folder"])
def test_bad_slug_from_a_replay_file_is_refused_before_any_folder_exists(case: str, tmp_path: Path) -> None:
    context = generate_context(str(TEMPLATE / "cookiecutter.json"))
    context["cookiecutter"] = prompt_for_config(context, no_input=True)
    context["cookiecutter"]["project_slug"] = slug_of(case, tmp_path)
    replay = tmp_path / "out" / "answers.json"
    replay.parent.mkdir()
    replay.write_text(json.dumps(context))
    with pytest.raises(FailedHookException, match=r"^ERROR: project_slug: "):
        cookiecutter(str(TEMPLATE), replay=str(replay), output_dir=str(replay.parent))
    replay.unlink()
    assert_nothing_written(tmp_path, replay.parent)


def test_cli_refuses_a_slash_slug_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE), "project_slug=a/b"],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert done.returncode != 0
    assert (done.stdout + done.stderr).splitlines() == [
        "ERROR: project_slug: 'a/b' is not a valid repository name. "
        "Use lowercase letters, digits and single hyphens, starting with a letter"
    ]
    assert_nothing_written(tmp_path, out)


@pytest.mark.parametrize("slug", ["a/b", "..", "a\\b", "/abs", "", " ", "a\nb", "a" * 61, "Bad", "a--b", "ok-slug"])
def test_folder_guard_and_pre_gen_hook_give_the_same_line(slug: str, tmp_path: Path) -> None:
    """hooks/project_folder.py repeats the hook's project_slug rule: same verdict, same line."""
    guard = runpy.run_path(str(TEMPLATE / "hooks/project_folder.py"))
    script = rendered_hook("pre_gen_project.py", {}, tmp_path, override={"project_slug": slug})
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    try:
        assert guard["project_folder"](slug) == slug
        refused = []
    except FailedHookException as error:
        refused = [str(error)]
    assert hook_error_lines(done.stderr) == refused
    assert runpy.run_path(str(script), run_name="hook")["SLUG"] == guard["SLUG"]


def test_files_copied_without_render_are_what_rendering_would_write(tmp_path: Path) -> None:
    """`_copy_without_render` (cookiecutter.json) only skips work: each file it matches, alone or in a
    matched folder, would render to the same bytes. A file that gains Jinja must leave that list."""
    context = generate_context(str(TEMPLATE / "cookiecutter.json"))
    context["cookiecutter"] = prompt_for_config(context, no_input=True)
    env = StrictEnvironment(context=context, keep_trailing_newline=True)
    copied = []
    with work_in(PROJECT_TEMPLATE):
        env.loader = FileSystemLoader(".")
        for path in sorted(p for p in PROJECT_TEMPLATE.rglob("*") if p.is_file()):
            parts = path.relative_to(PROJECT_TEMPLATE).parts
            if not any(is_copy_only_path(str(Path(*parts[:i])), context) for i in range(1, len(parts) + 1)):
                continue
            relative = str(Path(*parts))
            copied.append(relative)
            rendered = tmp_path / env.from_string(relative).render(**context)
            rendered.parent.mkdir(parents=True, exist_ok=True)
            generate_file(str(tmp_path), relative, context, env)
            assert rendered.read_bytes() == path.read_bytes(), (
                f"{relative} has Jinja: remove it from _copy_without_render"
            )
    assert "terraform/aws/locals.tf" in copied and "docs/data.md" in copied
    assert not [name for name in copied if name.endswith("answers.tf")], "answers.tf holds the answers: it renders"


# Choice answers: cookiecutter itself refuses a value outside the list before anything is
# written; the hook checks them again for contexts that bypass the prompt (replay files, cruft).
BAD_CHOICES = {"cloud_provider": "ibm", "python_version": "3.9", "primary_metric": "mse", "license": "GPL-3.0"}


@pytest.mark.parametrize("name", sorted(BAD_CHOICES))
def test_bad_choice_is_refused_before_anything_is_written(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"{BAD_CHOICES[name]} provided for choice variable {name}"):
        render(tmp_path / "out", **{name: BAD_CHOICES[name]})
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("name", sorted(BAD_CHOICES))
def test_hook_refuses_a_bad_choice_that_bypassed_the_prompt(name: str, tmp_path: Path) -> None:
    script = rendered_hook("pre_gen_project.py", {}, tmp_path, override={name: BAD_CHOICES[name]})
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ERROR: {name}: '{BAD_CHOICES[name]}' is not an option. Choose one of: " + ", ".join(DEFAULTS[name])
    ]


def test_unsupported_combinations_are_data_and_each_fails(tmp_path: Path) -> None:
    """Every combination listed in the hook's UNSUPPORTED table is refused."""
    source = (TEMPLATE / "hooks/pre_gen_project.py").read_text()
    table = next(
        node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and getattr(getattr(node, "target", None) or node.targets[0], "id", "") == "UNSUPPORTED"
    )
    combinations = ast.literal_eval(table)
    assert len(combinations) >= 2
    for index, (condition, _reason) in enumerate(combinations):
        for key, values in condition.items():
            answers = {k: v[0] for k, v in condition.items()}
            answers[key] = values[-1]
            with pytest.raises(FailedHookException):
                render(tmp_path / f"c{index}{key}", **answers)


HOSTILE = 'Bob "the \\ builder" O\'Neil \'\'\' """ ); __import__("os").system("touch {marker}") #'


def test_hostile_answer_on_one_line_stays_data(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    hostile = HOSTILE.format(marker=marker)
    author = 'O\'Neil "Bob" \\ \'\'\' """'
    project = render(tmp_path / "out", description=hostile, author_name=author)
    assert not marker.exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == hostile
    assert pyproject["project"]["authors"][0]["name"] == author
    for source in project.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")  # nothing in a Python file broke out
        assert "PWNED" not in source.read_text(), source


def test_hostile_answer_with_a_line_break_cannot_reach_the_hook(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    payload = f'x"""\n__import__("pathlib").Path("{marker}").touch()\n"""'
    with pytest.raises(FailedHookException):
        render(tmp_path / "out", description=payload)
    assert not marker.exists()


def rendered_hook(name: str, answers: dict[str, str], tmp_path: Path, override: dict | None = None) -> Path:
    """The hook as cookiecutter renders it, to run it again the way cruft does."""
    context = generate_context(str(TEMPLATE / "cookiecutter.json"), extra_context=answers)
    context["cookiecutter"] = prompt_for_config(context, no_input=True)
    context["cookiecutter"].update(override or {})
    env = StrictEnvironment(context=context)
    script = tmp_path / name
    script.write_text(env.from_string((TEMPLATE / "hooks" / name).read_text()).render(**context))
    return script


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_post_gen_hook_is_idempotent(cloud: str, tmp_path: Path) -> None:
    project = render(tmp_path / "out", cloud_provider=cloud)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    script = rendered_hook("post_gen_project.py", {"cloud_provider": cloud}, tmp_path)
    for _ in range(2):
        done = subprocess.run([sys.executable, str(script)], cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "make setup" in done.stdout
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_hooks_never_touch_the_network() -> None:
    """Hooks import only the standard library modules they need; no sockets, no subprocesses. The
    folder guard (a Jinja extension cookiecutter loads in its own process) only cookiecutter's."""
    allowed = {
        "pre_gen_project.py": {"difflib", "json", "keyword", "re", "sys"},
        "post_gen_project.py": {"json", "os", "shutil", "sys"},
        "project_folder.py": {"re", "cookiecutter", "jinja2"},
    }
    assert {hook.name for hook in (TEMPLATE / "hooks").glob("*.py")} == set(allowed)
    for hook in (TEMPLATE / "hooks").glob("*.py"):
        tree = ast.parse(hook.read_text())
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert imported <= allowed[hook.name], (hook.name, imported - allowed[hook.name])


def test_every_answer_has_a_plain_prompt() -> None:
    questions = [k for k in DEFAULTS if not k.startswith("_")]
    assert set(questions) <= set(DEFAULTS["__prompts__"]), set(questions) - set(DEFAULTS["__prompts__"])
    assert json.dumps(DEFAULTS["__prompts__"]).count("{{") == 0


def test_platform_answers_are_asked_once_and_validated_in_one_table(tmp_path: Path) -> None:
    """Each cloud's `<cloud>_*` questions in cookiecutter.json are exactly the hook's table for that
    cloud, and each prompt says which cloud it is for."""
    script = rendered_hook("pre_gen_project.py", {}, tmp_path)
    table = runpy.run_path(str(script), run_name="hook")["PLATFORM_ANSWERS"]
    assert set(table) == set(DEFAULTS["cloud_provider"])
    for cloud, answers in table.items():
        asked = {k for k in DEFAULTS if k.startswith(f"{cloud}_")}
        assert set(answers) == asked, (cloud, set(answers) ^ asked)
        for name in asked:
            assert DEFAULTS["__prompts__"][name].startswith(f"{cloud.upper()} only"), name


def test_another_clouds_answers_are_ignored(tmp_path: Path) -> None:
    project = render(tmp_path / "out", cloud_provider="gcp", aws_account_id="not-an-account", aws_kms_key_arn="")
    assert "url = gs://" in (project / ".dvc" / "config").read_text()
