"""Helpers of tests/test_monitoring.py: a drifted batch of recent data, and a CONTRACT fake of CML
that also keeps the state GitHub would (which branches have an open pull request).

`@dvcorg/cml` cannot be installed here. The fake checks each call against the command line of
CML 0.20.6 (iterative/cml bin/cml/pr/create.js, bin/cml/comment/update.js) and reproduces the
one behaviour the retraining PR depends on, read from its src/cml.js `prCreate`: when the branch
given by `--branch` exists on the remote and an open PR comes from it, CML pushes nothing and
prints that PR's URL; otherwise it commits the given paths to the branch, pushes it and opens a
PR (`pulls.create`), printing its URL. So a second alarm must find the first PR by its branch
name. This proves the command lines and the dedup rule they rely on, not GitHub's side.
"""

from __future__ import annotations

import csv
import json
import random
import stat
import sys
from pathlib import Path
from typing import Any

from helpers.workflows import CML_COMMENT_OPTIONS, CML_GLOBAL_OPTIONS

# bin/cml/pr/create.js of CML 0.20.6: `cml pr create [glob path...]` and these options.
CML_PR_CREATE_OPTIONS: dict[str, dict[str, Any]] = {
    "md": {"type": "boolean"},
    "skip-ci": {"type": "boolean"},
    "merge": {"type": "boolean", "conflicts": ["rebase", "squash"]},
    "auto-merge": {"type": "boolean", "alias_of": "merge"},
    "rebase": {"type": "boolean", "conflicts": ["merge", "squash"]},
    "squash": {"type": "boolean", "conflicts": ["merge", "rebase"]},
    "branch": {"type": "string"},
    "target-branch": {"type": "string"},
    "title": {"type": "string"},
    "body": {"type": "string"},
    "message": {"type": "string"},
    "remote": {"type": "string"},
    "user-email": {"type": "string"},
    "user-name": {"type": "string"},
}

FAKE = r'''#!{python}
"""CML contract fake with GitHub's pull request state (tests/helpers/monitoring.py)."""
import json, os, re, shutil, sys
from pathlib import Path

folder = Path({folder!r})
contract = json.loads((folder / "contract.json").read_text())
log, state_file = folder / "calls.jsonl", folder / "github.json"


def record(entry):
    with log.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def fail(message):
    record({{"argv": sys.argv[1:], "error": message}})
    print("cml (contract fake): " + message, file=sys.stderr)
    sys.exit(2)


args = sys.argv[1:]
command = " ".join(args[:2])
if command not in contract["commands"]:
    fail("unknown command %r; CML documents %s" % (command, sorted(contract["commands"])))
known = {{**contract["global"], **contract["commands"][command]}}
given, positional, rest = {{}}, [], args[2:]
while rest:
    arg = rest.pop(0)
    if not arg.startswith("--"):
        positional.append(arg)
        continue
    name, has_value, value = arg[2:].partition("=")
    if name not in known:
        fail("unknown option --%s for `cml %s`" % (name, command))
    option = known[name]
    name = option.get("alias_of", name)
    if option["type"] == "boolean":
        if has_value:
            fail("--%s is a flag and takes no value" % name)
        given[name] = True
    else:
        if not has_value:
            if not rest or rest[0].startswith("--"):
                fail("--%s needs a value" % name)
            value = rest.pop(0)
        if not value:
            fail("--%s is empty" % name)
        if "pattern" in option and not re.fullmatch(option["pattern"], value):
            fail("--%s=%s is not a valid value" % (name, value))
        given[name] = value
for name in given:
    for other in known[name].get("conflicts", []):
        if other in given:
            fail("--%s conflicts with --%s" % (name, other))
if "token" not in given and not os.environ.get("REPO_TOKEN"):
    fail("no token: CML reads REPO_TOKEN (or --token)")
state = json.loads(state_file.read_text()) if state_file.exists() else {{"prs": {{}}, "comments": {{}}}}
repo = os.environ.get("GITHUB_REPOSITORY", "owner/repo")
entry = {{"command": command, "options": given, "paths": positional}}
if command == "pr create":
    if not positional:
        fail("pr create: no path to commit")
    for path in positional:
        if not Path(path).is_file():
            fail("pr create: no such file to commit: %s" % path)
    branch = given.get("branch")
    if not branch:
        fail("pr create: no --branch (CML would name it after the commit: every run a new PR)")
    existing = state["prs"].get(branch)
    if existing:
        entry.update(number=existing["number"], existing=True)
    else:
        number = len(state["prs"]) + 1
        kept = folder / "committed" / str(number)
        for path in positional:
            (kept / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, kept / path)
        state["prs"][branch] = {{"number": number, "title": given.get("title"), "body": given.get("body"),
                                "base": given.get("target-branch"), "committed": str(kept)}}
        entry.update(number=number, existing=False, committed=str(kept))
    state_file.write_text(json.dumps(state))
    record(entry)
    print("https://github.com/%s/pull/%d" % (repo, entry["number"]))
    sys.exit(0)
if len(positional) != 1 or not Path(positional[0]).is_file():
    fail("`cml %s` takes one existing markdown file, got %r" % (command, positional))
target = given.get("target", "")
match = re.fullmatch(r"pr/(\d+)", target)
if not match or int(match.group(1)) not in [p["number"] for p in state["prs"].values()]:
    fail("--target=%s is not an open pull request" % target)
key = "%s|%s" % (target, given.get("watermark-title", ""))
comments = state["comments"]
entry["updated"] = key in comments and command == "comment update"
comments[key] = Path(positional[0]).read_text()
state_file.write_text(json.dumps(state))
record(entry)
print("https://github.com/%s/pull/%s#issuecomment-1" % (repo, match.group(1)))
'''


def install_retrain_cml(folder: Path) -> Path:
    """Put the fake `cml` in `folder` (prepend it to PATH); returns the folder (calls.jsonl: the
    calls, github.json: the pull requests and comments it holds)."""
    folder.mkdir(parents=True, exist_ok=True)
    contract = {
        "global": CML_GLOBAL_OPTIONS,
        "commands": {
            "pr create": CML_PR_CREATE_OPTIONS,
            "comment update": CML_COMMENT_OPTIONS,
            "comment create": CML_COMMENT_OPTIONS,
        },
    }
    (folder / "contract.json").write_text(json.dumps(contract))
    for name in ("calls.jsonl", "github.json"):
        (folder / name).unlink(missing_ok=True)
    fake = folder / "cml"
    fake.write_text(FAKE.format(python=sys.executable, folder=str(folder)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return folder


def calls(folder: Path) -> list[dict[str, Any]]:
    log = folder / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def github_state(folder: Path) -> dict[str, Any]:
    path = folder / "github.json"
    return json.loads(path.read_text()) if path.exists() else {"prs": {}, "comments": {}}


def drifted_batch(raw_csv: Path, target: str, rows: int = 300, scale: float = 1.5, seed: int = 7) -> str:
    """A recent batch with labels: rows of the raw data (header as in the file), whose first five
    numeric features are multiplied by `scale` (1.5: a shift no drift test can miss, still inside
    the ranges of data/schema.yaml, so that the retrained pipeline validates)."""
    with raw_csv.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        data = list(reader)
    picked = random.Random(seed).sample(data, rows)
    shifted = [i for i, name in enumerate(header) if name != target][:5]
    out = [header]
    for row in picked:
        row = list(row)
        for i in shifted:
            row[i] = repr(float(row[i]) * scale)
        out.append(row)
    return "\n".join(",".join(row) for row in out) + "\n"
