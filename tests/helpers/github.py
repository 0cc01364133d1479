"""A local stand-in for GitHub in the journey test: a bare repository, pull requests merged by the
three merge methods GitHub offers, the events its workflows receive, and a CONTRACT fake of the
GitHub CLI that answers the two REST calls the promotion's evidence step makes.

What GitHub does on a merge is reproduced with git itself: a merge commit (`--no-ff`), a squash
(one new commit with the PR's tree on top of main) and a rebase (the PR's commits replayed on
main, fast-forwarded). The fake `gh` serves the PRs merged here (number, merge commit, reviews)
from a JSON file and fails on any call the workflows are not known to make.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class PullRequest:
    number: int
    branch: str
    head: str
    base: str  # main's commit when the PR was opened (what `changes` jobs diff against)
    merge_commit: str = ""
    approvers: list[str] = field(default_factory=list)


class LocalGitHub:
    """The remote `github` of a working clone: PRs, merges by method, and their API records.

    The clone's `origin` keeps GitHub's URL (act names the repository from it); after each
    fetch, `origin/main` is set to what the bare repository's main holds, as a clone of GitHub
    would see it."""

    def __init__(self, root: Path, repository: str) -> None:
        self.repository = repository
        self.bare = root / "github.git"
        self.records = root / "github-api.json"
        self.pulls: list[PullRequest] = []
        git(root, "init", "-q", "--bare", "-b", "main", str(self.bare))
        self._save()

    def _save(self) -> None:
        self.records.write_text(
            json.dumps({"repository": self.repository, "pulls": [vars(p) for p in self.pulls]}, indent=1)
        )

    def connect(self, work: Path) -> None:
        """Add the remote to a working clone and push its main."""
        git(work, "remote", "add", "origin", f"https://github.com/{self.repository}.git")
        git(work, "remote", "add", "github", str(self.bare))
        git(work, "push", "-q", "github", "main")
        self.sync(work)

    def sync(self, work: Path) -> None:
        git(work, "fetch", "-q", "github")
        git(work, "update-ref", "refs/remotes/origin/main", "refs/remotes/github/main")

    def open(self, work: Path, branch: str) -> PullRequest:
        """Push `branch` of the working clone and open a PR of it into main."""
        git(work, "push", "-q", "-f", "github", branch)
        self.sync(work)
        pull = PullRequest(
            number=100 + len(self.pulls),
            branch=branch,
            head=git(work, "rev-parse", branch),
            base=git(work, "rev-parse", "origin/main"),
        )
        self.pulls.append(pull)
        self._save()
        return pull

    def merge(self, work: Path, pull: PullRequest, method: str, approvers: list[str]) -> str:
        """Merge as GitHub's button does; main is pushed and checked out in `work`."""
        self.sync(work)
        git(work, "checkout", "-q", "main")
        git(work, "reset", "-q", "--hard", "origin/main")
        if method == "merge":
            git(work, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{pull.number}", pull.branch)
        elif method == "squash":
            git(work, "merge", "-q", "--squash", pull.branch)
            git(work, "commit", "-q", "-m", f"{pull.branch} (#{pull.number})")
        elif method == "rebase":
            git(work, "checkout", "-q", "-B", f"rebase-{pull.number}", pull.branch)
            git(work, "rebase", "-q", "--force-rebase", "main")  # GitHub rewrites every commit
            git(work, "checkout", "-q", "main")
            git(work, "merge", "-q", "--ff-only", f"rebase-{pull.number}")
        else:
            raise ValueError(f"unknown merge method {method!r}")
        git(work, "push", "-q", "github", "main")
        self.sync(work)
        pull.merge_commit = git(work, "rev-parse", "HEAD")
        pull.approvers = approvers
        self._save()
        return pull.merge_commit


def pull_request_payload(github: LocalGitHub, pull: PullRequest) -> dict[str, Any]:
    repo = {"full_name": github.repository}
    return {
        "action": "opened",
        "number": pull.number,
        "pull_request": {
            "number": pull.number,
            "head": {"ref": pull.branch, "sha": pull.head, "repo": repo},
            "base": {"ref": "main", "sha": pull.base, "repo": repo},
        },
        "repository": repo,
    }


def push_payload(github: LocalGitHub, before: str, after: str) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "before": before, "after": after, "repository": {"full_name": github.repository}}


def dispatch_payload(github: LocalGitHub, inputs: dict[str, str]) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "inputs": inputs, "repository": {"full_name": github.repository}}


FAKE_GH = r'''#!{python}
"""CONTRACT fake of the GitHub CLI: only `gh api` with the two REST paths the evidence step reads
(the PRs of a commit; the reviews of a PR, --paginate --slurp), answered from the local records."""
import json, re, sys

records = json.load(open({records!r}))
args = sys.argv[1:]
if not args or args[0] != "api":
    print("gh (contract fake): only `gh api` is used by the workflows, got %r" % args, file=sys.stderr)
    sys.exit(2)
flags = [a for a in args[1:] if a.startswith("-")]
paths = [a for a in args[1:] if not a.startswith("-")]
if len(paths) != 1 or any(f not in ("--paginate", "--slurp") for f in flags):
    print("gh (contract fake): unexpected arguments %r" % args, file=sys.stderr)
    sys.exit(2)
path, repo = paths[0], records["repository"]
commit = re.fullmatch(r"repos/%s/commits/([0-9a-f]{{40}})/pulls" % re.escape(repo), path)
reviews = re.fullmatch(r"repos/%s/pulls/(\d+)/reviews\?per_page=100" % re.escape(repo), path)
if commit:
    found = [p for p in records["pulls"] if p["merge_commit"] == commit.group(1)]
    print(json.dumps([{{"number": p["number"], "merged_at": "2026-11-29T00:00:00Z"}} for p in found]))
elif reviews and flags == ["--paginate", "--slurp"]:
    pull = next((p for p in records["pulls"] if p["number"] == int(reviews.group(1))), None)
    if pull is None:
        print("gh: HTTP 404: Not Found", file=sys.stderr)
        sys.exit(1)
    page = [{{"state": "APPROVED", "user": {{"login": login}}}} for login in pull["approvers"]]
    print(json.dumps([page]))
else:
    print("gh (contract fake): the workflows make no call %r" % path, file=sys.stderr)
    sys.exit(2)
'''


def install_fake_gh(folder: Path, github: LocalGitHub) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "gh"
    fake.write_text(FAKE_GH.format(python=sys.executable, records=str(github.records)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
