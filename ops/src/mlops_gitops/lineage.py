"""Lineage: from a registered model version back to the run, commit, data, params and metrics.

    mlops-gitops lineage champion            # an alias of this project's model
    mlops-gitops lineage my_model@champion   # model@alias
    mlops-gitops lineage 3                   # a version number (also v3, my_model/3)
    mlops-gitops lineage champion --json     # the same chain as JSON

Training records the chain with `training_tags()`: the git commit and branch, the CI run, and the
DVC hashes of the raw data and of the stage inputs. Reading it back, the raw data hash is also
compared with the `.dvc` file in this workspace.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from . import facts, inputs
from .errors import CommandError, quiet_mlflow, run
from .project import Project, load
from .promote import ALIASES, TAG_PREFIX
from .registry import connect, load_version


class LineageError(CommandError):
    """A reference that names no version."""


def file_md5(path: Path) -> str:
    """The hash DVC 3 records for a file (plain MD5 of its bytes): lets lineage tags match dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def raw_data_md5(cfg: Project) -> str | None:
    """The raw data's version: the md5 in its `.dvc` file (params.yaml `data.raw`), if readable."""
    path = cfg.path(f"{cfg.section('data').get('raw')}.dvc")
    if not path.is_file():
        return None
    try:
        return str(yaml.safe_load(path.read_text(encoding="utf-8"))["outs"][0]["md5"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


def training_tags(cfg: Project, files: list[str]) -> dict[str, str]:
    """Tags for a training run and its model version: git, CI, the model's inputs fingerprint
    (mlops_gitops.inputs: what promotion checks) and the DVC hashes of `files`."""
    tags = {**facts.git_info(cfg.root), **facts.ci_context(), **inputs.training_tags(cfg)}
    raw = raw_data_md5(cfg)
    if raw:
        tags["dvc.data.raw.md5"] = raw
    for relative in files:
        tags[f"dvc.{relative}.md5"] = file_md5(cfg.path(relative))
    return tags


def parse_ref(ref: str, default_model: str) -> tuple[str, str, bool]:
    """(model, version-or-alias, is_alias) from 'model@alias', 'model/3', 'alias', '3' or 'v3'."""
    text = ref.strip()
    if not text:
        raise LineageError("give a version: a number (3), an alias (champion) or model@alias")
    if "@" in text:
        model, alias = text.split("@", 1)
        if not alias:
            raise LineageError(f"'{ref}': nothing after '@'; use model@alias")
        return model or default_model, alias, True
    if "/" in text:
        model, number = text.rsplit("/", 1)
        if not re.fullmatch(r"v?\d+", number):
            raise LineageError(f"'{ref}': '{number}' is not a version number")
        return model, number.lstrip("v"), False
    if re.fullmatch(r"v?\d+", text):
        return default_model, text.lstrip("v"), False
    return default_model, text, True


def chain(cfg: Project, ref: str) -> dict[str, Any]:
    """The lineage of one model version as plain data (what --json prints)."""
    from mlflow.exceptions import MlflowException

    model, key, is_alias = parse_ref(ref, cfg.model_name)
    client = connect(cfg)
    if is_alias:
        try:
            key = str(client.get_model_version_by_alias(model, key).version)
        except MlflowException:
            raise LineageError(f"model '{model}' has no alias '{key}'") from None
    found = load_version(client, cfg.scoped(model), key)
    tags = found.run_tags
    data = {k.removeprefix("dvc.").removesuffix(".md5"): v for k, v in sorted(tags.items()) if k.startswith("dvc.")}
    here = raw_data_md5(cfg)
    promotions = {}
    for env in ALIASES:
        prefix = f"{TAG_PREFIX}.{env}."
        entry = {k.removeprefix(prefix): v for k, v in found.version_tags.items() if k.startswith(prefix)}
        if entry:
            promotions[env] = entry
    deployments = {}
    for env in ALIASES:  # deploy.<env>.*: what `mlops-gitops deploy rollout` recorded (rollout.py)
        prefix = f"deploy.{env}."
        entry = {k.removeprefix(prefix): v for k, v in found.version_tags.items() if k.startswith(prefix)}
        if entry:
            deployments[env] = entry
    return {
        "model": model,
        "version": found.version,
        "aliases": sorted(found.aliases),
        "registered": found.created,
        "run": {"id": found.run_id, "experiment": found.experiment},
        "commit": {
            "sha": tags.get("git.commit", "unknown"),
            "branch": tags.get("git.branch", "unknown"),
            "dirty": tags.get("git.dirty", "unknown"),
            "pr": tags.get("ci.pr_number", ""),
            "workflow_run": tags.get("ci.workflow_run_url", ""),
        },
        "data": {
            "dvc_md5": data,
            "workspace_raw_md5": here,
            "same_as_workspace": None if here is None or "data.raw" not in data else data["data.raw"] == here,
        },
        "validation": tags.get("validation.status", "unknown"),
        "params": dict(sorted(found.params.items())),
        "metrics": dict(sorted(found.metrics.items())),
        "promotions": promotions,
        "deployments": deployments,
        "model_card": found.version_tags.get("model_card", ""),
    }


def render_table(info: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = [
        (
            "model version",
            f"{info['model']} v{info['version']} (aliases: {', '.join(info['aliases']) or 'none'})",
        ),
        ("registered", info["registered"]),
        ("run", f"{info['run']['id']} in experiment {info['run']['experiment']}"),
    ]
    commit = info["commit"]
    state = {"true": "uncommitted changes", "false": "clean"}.get(commit["dirty"], "unknown state")
    rows.append(("commit", f"{commit['sha']} on {commit['branch']} ({state})"))
    if commit["pr"]:
        rows.append(("trained for", f"PR #{commit['pr']} {commit['workflow_run']}".strip()))
    for name, md5 in info["data"]["dvc_md5"].items():
        rows.append((f"data {name}", md5))
    same = info["data"]["same_as_workspace"]
    if same is not None:
        rows.append(("data vs workspace", "same raw data as this workspace" if same else "raw data differs here"))
    rows.append(("validation", info["validation"]))
    for name, value in info["params"].items():
        rows.append((f"param {name}", str(value)))
    for name, value in info["metrics"].items():
        rows.append((f"metric {name}", f"{value:.4f}"))
    for env, entry in info["promotions"].items():
        rows.append(
            (
                f"promoted {env}",
                f"PR #{entry.get('pr', '?')} approved by {entry.get('approvers', '?')}, "
                f"merge {entry.get('commit', '?')[:12]}, {entry.get('promoted_at', '?')}",
            )
        )
    for env, entry in info.get("deployments", {}).items():
        rows.append(
            (
                f"deployed {env}",
                f"{entry.get('state', '?')}, smoke {entry.get('smoke', '?')} {entry.get('smoke_at', '')}, "
                f"image {entry.get('image', '?')}, endpoint {entry.get('endpoint', '?')}, "
                f"run {entry.get('run_url', '?')}",
            )
        )
    if info["model_card"]:
        rows.append(("model card", info["model_card"]))
    width = max(len(name) for name, _ in rows)
    lines = [f"Lineage of {info['model']} v{info['version']}: run -> commit -> data -> params -> metrics"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="mlops-gitops lineage", description=__doc__.split("\n\n")[0])
    top.add_argument("ref", nargs="?", default="champion", help="model@alias, alias, or version number")
    top.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = top.parse_args(argv)
    quiet_mlflow()

    def show() -> None:
        info = chain(load(), args.ref)
        print(json.dumps(info, indent=2) if args.json else render_table(info))

    return run(show, "lineage")
