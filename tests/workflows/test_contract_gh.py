"""CONTRACT test of the GitHub CLI stand-in that the journey test puts on PATH (`gh` cannot
reach GitHub here): it answers exactly the two REST calls `mlops-gitops promote evidence` makes,
with GitHub's field names, and refuses anything else, so the evidence step's command lines are
proven, not GitHub's side."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers.github import LocalGitHub, git, install_fake_gh

REPO = "my-org/contract"


@pytest.fixture(scope="module")
def gh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LocalGitHub, str]:
    root = tmp_path_factory.mktemp("gh")
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "a.txt").write_text("a\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "first")
    github = LocalGitHub(root, REPO)
    github.connect(work)
    git(work, "checkout", "-qb", "feature")
    (work / "a.txt").write_text("b\n")
    git(work, "commit", "-qam", "change")
    pull = github.open(work, "feature")
    merged = github.merge(work, pull, "squash", ["alice", "bob"])
    install_fake_gh(root / "bin", github)
    return root / "bin" / "gh", github, merged


def call(fake: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(fake), *args], capture_output=True, text=True)


def test_the_two_calls_of_the_evidence_step(gh) -> None:
    fake, github, merged = gh
    pulls = json.loads(call(fake, "api", f"repos/{REPO}/commits/{merged}/pulls").stdout)
    assert [p["number"] for p in pulls] == [github.pulls[0].number] and pulls[0]["merged_at"]
    done = call(fake, "api", "--paginate", "--slurp", f"repos/{REPO}/pulls/{pulls[0]['number']}/reviews?per_page=100")
    pages = json.loads(done.stdout)
    assert sorted(r["user"]["login"] for r in pages[0] if r["state"] == "APPROVED") == ["alice", "bob"]
    assert json.loads(call(fake, "api", f"repos/{REPO}/commits/{'0' * 40}/pulls").stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ["pr", "view", "1"],
        ["api", "repos/other/repo/pulls/1/reviews?per_page=100", "--paginate", "--slurp"],
        ["api", f"repos/{REPO}/pulls/100/reviews?per_page=100"],  # without --paginate --slurp
        ["api", "--method", "POST", f"repos/{REPO}/pulls"],
    ],
)
def test_anything_else_is_refused(gh, args: list[str]) -> None:
    done = call(gh[0], *args)
    assert done.returncode == 2 and "contract fake" in done.stderr, done.stderr
