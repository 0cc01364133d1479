"""The model inputs fingerprint: it follows content through every merge method, changes with what
the model is made of and only with that, and `propose --version candidate` finds by it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import RAW, Registry

from mlops_gitops import inputs
from mlops_gitops.project import DESIRED_STATE, Project

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]


def git(root: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def committed_project(project: Project) -> Path:
    root = project.root
    (root / "README.md").write_text("# readme\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "generated")
    return root


def edit_params(root: Path, section: str, key: str, value: object) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params.setdefault(section, {})[key] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_a_merged_branch_gives_main_the_fingerprint_it_trained_with(project: Project, method: str) -> None:
    root = committed_project(project)
    git(root, "checkout", "-q", "-b", "feature")
    edit_params(root, "train", "n_estimators", 150)
    git(root, "commit", "-qam", "fewer trees")
    (root / "src/model/train.py").write_text("print('train v2')\n")
    git(root, "commit", "-qam", "new train")
    trained = inputs.fingerprint(inputs.model_inputs(inputs.Tree(root)))  # what train records on the branch
    git(root, "checkout", "-q", "main")
    (root / "README.md").write_text("# main moved on, without touching the model\n")
    git(root, "commit", "-qam", "docs")
    before = inputs.fingerprint(inputs.model_inputs(inputs.committed(root)))
    assert before != trained
    if method == "merge":
        git(root, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    elif method == "squash":
        git(root, "merge", "-q", "--squash", "feature")
        git(root, "commit", "-qm", "feature (squashed)")
    else:
        git(root, "checkout", "-q", "feature")
        git(root, "rebase", "-q", "main")
        git(root, "checkout", "-q", "main")
        git(root, "merge", "-q", "--ff-only", "feature")
    assert inputs.fingerprint(inputs.model_inputs(inputs.committed(root))) == trained


def test_only_what_the_model_is_made_of_counts(project: Project) -> None:
    root = committed_project(project)
    base = inputs.model_inputs(inputs.committed(root))
    assert set(base) == {
        "cmd prepare", "cmd train", "param model", "param train", RAW, "src/model/train.py",
    }  # fmt: skip
    assert base[RAW].startswith("dvc:")  # the .dvc file's md5: the data need not be pulled

    def changed(edit) -> list[str]:
        edit()
        git(root, "commit", "-qam", "change")
        return inputs.differences(
            inputs.training_tags(project)[inputs.INPUTS_TAG], inputs.model_inputs(inputs.committed(root, "HEAD~1"))
        )

    assert changed(lambda: (root / "README.md").write_text("other docs\n")) == []
    assert changed(lambda: edit_params(root, "gate", "tolerance", 0.5)) == []  # not a train param
    assert changed(lambda: edit_params(root, "train", "n_estimators", 7)) == ["param train"]
    dvc_file = root / f"{RAW}.dvc"
    assert changed(lambda: dvc_file.write_text(dvc_file.read_text().replace("0123", "9999"))) == [RAW]
    pipeline = root / "dvc.yaml"
    assert changed(lambda: pipeline.write_text(pipeline.read_text().replace("model.prepare", "model.prep2"))) == [
        "cmd prepare"
    ]  # an upstream stage's command


def test_uncommitted_changes_do_not_count_for_the_commit(project: Project) -> None:
    root = committed_project(project)
    edit_params(root, "train", "n_estimators", 1)
    assert inputs.model_inputs(inputs.committed(root)) != inputs.model_inputs(inputs.Tree(root))
    assert inputs.committed(root).label.startswith("commit ")


def test_propose_candidate_picks_the_newest_version_trained_from_this_commit(registry: Registry) -> None:
    root = committed_project(registry.cfg)
    other = registry.register(0.9, trained_from={"src/model/train.py": "2" * 40})
    older, newer = registry.register(0.6), registry.register(0.7)
    registry.register(0.95, trained_from={"src/model/train.py": "3" * 40})
    code, out, err = registry.run("propose", "--env", "staging", "--version", "candidate")
    assert code == 0, err
    assert f"staging -> v{newer}" in out and other != newer != older

    edit_params(root, "train", "n_estimators", 3)
    git(root, "commit", "-qam", "retune without retraining")
    before = registry.cfg.path(DESIRED_STATE).read_text()
    code, _, err = registry.run("propose", "--env", "production", "--version", "candidate")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "no version of" in err and "was trained from the model inputs commit" in err
    assert registry.cfg.path(DESIRED_STATE).read_text() == before
