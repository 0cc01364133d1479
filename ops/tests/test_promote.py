"""Promotion: desired state, quality gate, evidence, model card, idempotence and rollback.

Against a local SQLite registry; the template's suite runs the same commands against a real
`mlflow server` in rendered projects (tests/promotion/).
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import EVIDENCE, Registry

from mlops_gitops import promote
from mlops_gitops.project import DESIRED_STATE, Project
from mlops_gitops.testing import RAW_MD5


def test_a_fresh_desired_state_is_valid(project: Project) -> None:
    desired = promote.read_desired(project)
    assert desired.versions == {"staging": None, "production": None}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: [unclosed\n", "is not valid YAML (line"),
        ("- a list\n", "must hold 'model' and an 'environments' mapping"),
        (
            "model: MODEL\nenvironments:\n  qa: {version: 1}\n  staging: {version: 1}\n",
            "unknown environment 'qa'",
        ),
        (
            "model: other\nenvironments: {staging: {version: 1}, production: {version: 1}}\n",
            "declares model 'other'",
        ),
        ("model: MODEL\nenvironments: {staging: {version: 1}}\n", "environment 'production' is missing"),
        (
            "model: MODEL\nenvironments: {staging: {version: -2}, production: {version: 1}}\n",
            "version number or null",
        ),
        (
            "model: MODEL\nenvironments: {staging: {version: yes}, production: {version: 1}}\n",
            "version number or null",
        ),
        (
            "model: MODEL\nenvironments: {staging: 3, production: {version: 1}}\n",
            "mapping with a 'version' key",
        ),
    ],
)
def test_bad_desired_state_is_one_clear_line(registry: Registry, text: str, message: str) -> None:
    registry.register()
    before = registry.snapshot()
    registry.cfg.path(DESIRED_STATE).write_text(text.replace("MODEL", registry.model), encoding="utf-8")
    for command in (["plan"], ["apply", *EVIDENCE]):
        code, _, err = registry.run(*command)
        assert code == 1
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert registry.snapshot() == before


def test_edit_keeps_comments_and_layout() -> None:
    text = "# head\nmodel: m\nenvironments:\n  staging:\n    version: null   # note\n  production:\n    version: 2\n"
    edited = promote.edit_desired(text, "staging", "5")
    assert edited == text.replace("version: null   # note", "version: 5   # note")
    assert promote.edit_desired(edited, "production", None).endswith("    version: null\n")


def test_first_promotion_records_evidence_card_and_aliases(registry: Registry) -> None:
    version = registry.register(0.5)
    registry.desire(staging=version, production=version)

    code, out, err = registry.run("plan")
    assert code == 0, err
    assert "| production | `champion` | — | v1 | passes |" in out
    assert registry.aliases() == {}  # plan is a dry run

    code, out, err = registry.run("apply", *EVIDENCE)
    assert code == 0, err
    assert registry.aliases() == {"champion": version, "staging": version}
    tags = registry.client.get_model_version(registry.model, version).tags
    assert tags["promotion.production.pr"] == "7"
    assert tags["promotion.production.approvers"] == "alice,bob"
    assert tags["promotion.production.commit"] == "0123456789abcdef"
    assert tags["promotion.production.run_url"] == "local"
    assert tags["promotion.production.promoted_at"]
    card = registry.client.get_model_version(registry.model, version).description
    assert "## Intended use" in card and "alice,bob" in card and RAW_MD5 in card
    assert tags["model_card"].endswith(f"model_card/{registry.model}-v{version}.md")

    before = registry.snapshot()
    code, out, _ = registry.run("apply", *EVIDENCE)
    assert code == 0 and "nothing to do" in out
    assert registry.snapshot() == before


def test_better_candidate_moves_champion_and_keeps_previous(registry: Registry) -> None:
    old, new = registry.register(0.4), registry.register(0.6)
    registry.desire(production=old)
    assert registry.run("apply", *EVIDENCE)[0] == 0
    registry.desire(staging=new, production=new)
    code, out, _ = registry.run("plan", "--out", promote.PLAN_REPORT)
    assert code == 0
    assert f"| — | `previous-champion` | — | v{old} | kept for rollback |" in out
    assert registry.cfg.path(promote.PLAN_REPORT).read_text(encoding="utf-8") == out
    assert registry.run("apply", *EVIDENCE)[0] == 0
    assert registry.aliases() == {"champion": new, "staging": new, "previous-champion": old}


def test_revert_rolls_back_even_when_the_old_champion_is_worse(registry: Registry) -> None:
    old, new = registry.register(0.2), registry.register(0.9)
    registry.desire(production=old)
    assert registry.run("apply", *EVIDENCE)[0] == 0
    registry.desire(production=new)
    assert registry.run("apply", *EVIDENCE)[0] == 0
    registry.desire(production=old)  # the revert of the promotion PR
    code, _, err = registry.run("apply", *EVIDENCE)
    assert code == 0, err
    assert registry.aliases() == {"champion": old, "previous-champion": new}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trained_from": {"src/model/train.py": "0" * 40}}, "was trained from other model inputs"),
        ({"trained_from": {}}, "records no model inputs (run tag lineage.fingerprint)"),
        ({"validation": None}, "validation.status=missing"),
        ({"experiment": "someone-else"}, "it belongs to another model"),
        ({"q": -1.0}, "below the floor"),
    ],
)
def test_gate_refuses_and_leaves_the_registry_unchanged(registry: Registry, kwargs: dict, message: str) -> None:
    if registry.cfg.section("gate")["higher_is_better"] is False and "q" in kwargs:
        message = "above the limit"
    version = registry.register(**kwargs)
    registry.desire(production=version)
    before = registry.snapshot()
    code, _, err = registry.run("apply", *EVIDENCE)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert registry.snapshot() == before


def test_worse_than_champion_beyond_tolerance_is_refused(registry: Registry) -> None:
    good, bad = registry.register(0.9), registry.register(0.1)
    registry.desire(production=good)
    assert registry.run("apply", *EVIDENCE)[0] == 0
    registry.desire(production=bad)
    before = registry.snapshot()
    code, out, err = registry.run("plan")
    assert code == 1 and "worse than champion" in err and "**fails**" in out
    code, _, err = registry.run("apply", *EVIDENCE)
    assert code == 1 and "quality gate failed" in err
    assert registry.snapshot() == before


def test_missing_evidence_and_deleted_versions_change_nothing(registry: Registry) -> None:
    version = registry.register()
    registry.desire(staging=version, production=version)
    before = registry.snapshot()
    code, _, err = registry.run("apply", "--commit", "0123456")
    assert code == 1 and "missing evidence: PR number" in err and "approvers" in err
    assert registry.snapshot() == before

    registry.client.delete_model_version(registry.model, version)
    before = registry.snapshot()
    code, _, err = registry.run("apply", *EVIDENCE)
    assert code == 1 and "staging and production: version 1" in err and "does not exist" in err
    assert registry.snapshot() == before


def test_evidence_from_the_github_environment(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    version = registry.register()
    registry.desire(production=version)
    monkeypatch.setenv("PROMOTION_PR", "12")
    monkeypatch.setenv("PROMOTION_APPROVERS", "carol dave")
    monkeypatch.setenv("GITHUB_SHA", "fedcba9876543210fedcba9876543210fedcba98")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "99")
    assert registry.run("apply")[0] == 0
    tags = registry.client.get_model_version(registry.model, version).tags
    assert tags["promotion.production.approvers"] == "carol,dave"
    assert tags["promotion.production.run_url"] == "https://github.com/org/repo/actions/runs/99"


def test_propose_edits_the_file_only_when_the_gate_passes(registry: Registry) -> None:
    good, bad = registry.register(0.9), registry.register(0.1)
    registry.desire(production=good)
    assert registry.run("apply", *EVIDENCE)[0] == 0
    registry.client.set_registered_model_alias(registry.model, "trial", bad)
    before = registry.cfg.path(DESIRED_STATE).read_text(encoding="utf-8")
    code, _, err = registry.run("propose", "--env", "production", "--version", "trial")
    assert code == 1 and "file left as it was" in err
    assert registry.cfg.path(DESIRED_STATE).read_text(encoding="utf-8") == before
    code, _, err = registry.run("propose", "--env", "staging", "--version", "trial", "--body", "reports/pr.md")
    assert code == 0, err
    assert promote.read_desired(registry.cfg).versions == {"staging": bad, "production": good}
    assert "Promotion plan" in registry.cfg.path("reports/pr.md").read_text(encoding="utf-8")


def test_status_reports_desired_and_registry(registry: Registry) -> None:
    version = registry.register()
    registry.desire(production=version)
    code, out, _ = registry.run("status", "--json")
    state = json.loads(out)
    assert code == 0 and state["environments"]["production"] == {
        "alias": "champion",
        "desired": version,
        "registry": None,
    }


def test_unreachable_tracking_server_is_one_line(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    code, _, err = registry.run("plan")
    assert code == 1 and "is unreachable" in err and len(err.strip().splitlines()) == 1


def test_approvers_are_the_latest_approving_reviews() -> None:
    reviews = [
        {"user": {"login": "alice"}, "state": "APPROVED"},
        {"user": {"login": "bob"}, "state": "APPROVED"},
        {"user": {"login": "bob"}, "state": "CHANGES_REQUESTED"},
        {"user": {"login": "carol"}, "state": "CHANGES_REQUESTED"},
        {"user": {"login": "carol"}, "state": "APPROVED"},
        {"user": {"login": "carol"}, "state": "COMMENTED"},
    ]
    assert promote.approvers_from_reviews(reviews) == ["alice", "carol"]


def test_evidence_reads_the_merged_pr_through_gh(
    project: Project, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path_factory.mktemp("bin")
    fake = bin_dir / "gh"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        '  *commits/*/pulls*) echo \'[{"number": 12, "merged_at": "2026-01-01T00:00:00Z"}]\' ;;\n'
        '  *pulls/12/reviews*) echo \'[[{"user": {"login": "alice"}, "state": "APPROVED"}]]\' ;;\n'
        "  *) exit 1 ;;\n"
        "esac\n"
    )
    fake.chmod(0o755)
    output = project.root / "github_output"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/repo")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert promote.main(["evidence"]) == 0
    assert output.read_text() == "pr=12\napprovers=alice\n"
