"""Git and CI facts, read in one place: the training run's tags and the promotion evidence."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(root: Path, *args: str) -> str:
    """`git ARGS` in `root`; '' outside a repository or without git."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def head(root: Path) -> str:
    """The commit being built: $GIT_COMMIT, else HEAD ('' outside a repository)."""
    return os.environ.get("GIT_COMMIT") or git(root, "rev-parse", "HEAD")


def git_info(root: Path) -> dict[str, str]:
    """Commit and branch of the working tree; 'unknown' outside a git repository."""
    # In a PR workflow the checkout is detached; GitHub names the branch in the environment.
    branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME")
    return {
        "git.commit": head(root) or "unknown",
        "git.branch": branch or git(root, "rev-parse", "--abbrev-ref", "HEAD") or "unknown",
        "git.dirty": "true" if git(root, "status", "--porcelain") else "false",
    }


def run_url() -> str:
    """This workflow run's URL on GitHub ('' outside GitHub Actions)."""
    env = os.environ
    if not (env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY")):
        return ""
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"


def ci_context() -> dict[str, str]:
    """What CI knows about this run (empty on a laptop): recorded as tags for lineage."""
    context = {
        "ci.pr_number": os.environ.get("PR_NUMBER", ""),
        "ci.repository": os.environ.get("GITHUB_REPOSITORY", ""),
        "ci.workflow_run_url": run_url(),
    }
    return {key: value for key, value in context.items() if value}
