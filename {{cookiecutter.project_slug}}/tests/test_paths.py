"""paths.py and dvc.yaml name the same files: every output DVC tracks is a path the stages use."""

from pathlib import Path

import yaml

from {{ cookiecutter.package_name }} import paths

ROOT = Path(__file__).resolve().parents[1]


def dvc_outputs() -> set[str]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    found: set[str] = set()
    for stage in stages.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                found.add(next(iter(entry)) if isinstance(entry, dict) else entry)
    return found


def test_paths_and_dvc_yaml_agree() -> None:
    plots = {f"{paths.PLOTS}/{name}" for name in (*paths.PLOT_DATA, *paths.IMAGES)}
    named = {
        paths.PREPARED, paths.VALIDATION, paths.TRAIN, paths.TEST, paths.FEATURIZER,
        paths.MODEL, paths.REGISTRATION, paths.METRICS,
    }  # fmt: skip
    assert dvc_outputs() == named | plots
    assert paths.REPORT not in dvc_outputs()  # written by `make report`, after the pipeline
