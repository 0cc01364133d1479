"""The split between the machinery package (ops/, `mlops-gitops`) and the generated project.

The package's own tests run here in the project environment, where the package is installed from
the wheel `make test` builds from ops/ (what a generated project installs, not the source tree).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers.project import TEMPLATE, render

OPS = TEMPLATE / "ops"
VERSION = tomllib.loads((OPS / "pyproject.toml").read_text())["project"]["version"]
STAGES = ("prepare", "validate", "featurize", "train", "evaluate", "report")
# What a stage may import from its own package: settings, paths and shared helpers, not a stage.
SHARED = {"settings", "paths", "metrics", "tracking", "dataset"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("split"))


def package_dir(project: Path) -> Path:
    return next(p for p in (project / "src").iterdir() if p.is_dir())


def test_the_package_passes_its_own_tests(shared_env) -> None:
    env = shared_env()
    done = subprocess.run(
        [str(env / "bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=OPS, capture_output=True, text=True,
    )  # fmt: skip
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0 and " passed" in summary and "failed" not in summary, done.stdout[-6000:]
    assert not (OPS / "mlruns").exists(), "the package's tests wrote into the source tree"
    installed = subprocess.run(
        [str(env / "bin/python"), "-c", "import mlops_gitops; print(mlops_gitops.__file__, mlops_gitops.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert "site-packages" in installed[0] and installed[1] == VERSION  # the wheel, not ops/src


def test_one_version_and_the_rendered_pin_equals_it(project: Path) -> None:
    assert tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["project"]["version"] == VERSION
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"mlops-gitops=={VERSION}" in dependencies


def test_src_holds_only_the_ml_engineers_code_each_file_saying_so(project: Path) -> None:
    modules = sorted(package_dir(project).glob("*.py"))
    assert {m.stem for m in modules} == {"__init__", "sample_data", *STAGES, *SHARED}
    lines = sum(len(m.read_text().splitlines()) for m in modules)
    # Real tabular data (categories, missing values, text labels, multi-class, one-line refusals)
    # is most of it; a budget keeps platform machinery from creeping back in.
    assert lines < 1600, f"{lines} lines of ML code"
    for module in modules:
        assert module.read_text().startswith('"""Yours to edit'), module.name


def test_stages_import_settings_and_paths_never_each_other(project: Path) -> None:
    for stage in STAGES:
        tree = ast.parse((package_dir(project) / f"{stage}.py").read_text())
        local = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                local |= {node.module} if node.module else {alias.name for alias in node.names}
        assert local <= SHARED, f"{stage} imports {local - SHARED}"


def test_each_module_imports_alone_in_a_fresh_interpreter(project: Path, shared_env) -> None:
    python, package = shared_env() / "bin/python", package_dir(project).name
    for module in sorted(package_dir(project).glob("*.py")):
        name = package if module.stem == "__init__" else f"{package}.{module.stem}"
        done = subprocess.run(
            [str(python), "-c", f"import {name}"], cwd=project, env={"PYTHONPATH": str(project / "src")},
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, f"import {name}: {done.stderr[-2000:]}"


def test_training_does_not_depend_on_plotting_code(project: Path) -> None:
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    package = package_dir(project).name
    for stage in ("train", "evaluate"):
        deps = stages[stage]["deps"]
        assert f"src/{package}/{stage}.py" in deps and f"src/{package}/metrics.py" in deps
    assert f"src/{package}/evaluate.py" not in stages["train"]["deps"]


def test_the_package_imports_nothing_of_a_project() -> None:
    # fsspec, numpy and pandas come with dvc and mlflow (dr: bucket access, predictions).
    allowed = {"mlflow", "dvc", "yaml", "hcl2", "google", "fsspec", "numpy", "pandas", "mlops_gitops"}
    allowed |= {"scipy", "matplotlib"}  # monitor: drift statistics and plots (projects pin both)
    # Imported lazily by the cloud's own module only (training launchers, SageMaker serving): each
    # project installs its cloud's SDK (boto3 with sagemaker-mlflow, the `training` extra).
    allowed |= {"boto3", "botocore", "azure"}
    allowed |= set(sys.stdlib_module_names)
    for path in (OPS / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.relative_to(OPS)} imports {name}"


def test_the_readme_tree_names_every_file_of_src_and_every_top_level_entry(project: Path) -> None:
    readme = (project / "README.md").read_text()
    tree = readme.split("## What is where", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    for module in package_dir(project).glob("*.py"):
        if module.stem != "__init__":
            assert f" {module.name} " in tree and "yours" in tree.split(module.name, 1)[1].split("\n")[0]
    for entry in project.iterdir():
        assert entry.name in tree, f"{entry.name} is missing from the README's tree"
