"""Lineage: model@alias or a version number -> run -> commit -> data hashes -> params -> metrics."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import EVIDENCE, RAW, Registry

from mlops_gitops import lineage
from mlops_gitops.project import Project
from mlops_gitops.testing import RAW_MD5


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("champion", ("m", "champion", True)),
        ("other@staging", ("other", "staging", True)),
        ("@champion", ("m", "champion", True)),
        ("3", ("m", "3", False)),
        ("v3", ("m", "3", False)),
        ("other/4", ("other", "4", False)),
    ],
)
def test_references(ref: str, expected: tuple[str, str, bool]) -> None:
    assert lineage.parse_ref(ref, "m") == expected


def test_chain_from_alias_and_version(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    version = registry.register(0.7)
    registry.desire(production=version)
    assert registry.run("apply", *EVIDENCE)[0] == 0

    assert lineage.main([f"{registry.model}@champion", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == version and info["aliases"] == ["champion"]
    assert info["commit"] == {
        "sha": "89abcdef01234567",
        "branch": "main",
        "dirty": "false",
        "pr": "",
        "workflow_run": "",
    }
    assert info["data"]["dvc_md5"] == {"data.raw": RAW_MD5}
    assert info["data"]["same_as_workspace"] is True
    assert info["params"] == {"estimator": "random_forest"}
    assert info["promotions"]["production"]["approvers"] == "alice,bob"

    assert lineage.main([version]) == 0
    table = capsys.readouterr().out
    for row in (
        "run ",
        "commit ",
        "data data.raw",
        "param estimator",
        "metric accuracy",
        "promoted production",
    ):
        assert row in table


def test_unknown_alias_and_version_are_one_line(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    registry.register()
    assert lineage.main(["nope"]) == 1
    assert capsys.readouterr().err.strip() == f"lineage: model '{registry.model}' has no alias 'nope'"
    assert lineage.main(["42"]) == 1
    assert "version 42" in capsys.readouterr().err


def test_training_tags_name_the_data_commit_and_ci_run(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PR_NUMBER", "17")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "9")
    monkeypatch.setenv("GITHUB_HEAD_REF", "feature/x")
    tags = lineage.training_tags(project, [RAW])
    assert tags["dvc.data.raw.md5"] == RAW_MD5  # from the .dvc file
    assert tags[f"dvc.{RAW}.md5"] == hashlib.md5(project.path(RAW).read_bytes()).hexdigest()
    assert tags["git.branch"] == "feature/x" and tags["git.commit"] == "unknown"  # no repository here
    assert tags["ci.pr_number"] == "17"
    assert tags["ci.workflow_run_url"] == "https://github.com/org/repo/actions/runs/9"
