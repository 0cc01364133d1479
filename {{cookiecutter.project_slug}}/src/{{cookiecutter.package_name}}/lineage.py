"""Lineage: from a registered model version back to the run, commit, data, params and metrics.

    python -m <package>.lineage champion            # an alias of this project's model
    python -m <package>.lineage my_model@champion   # model@alias
    python -m <package>.lineage 3                   # a version number (also v3, my_model/3)
    python -m <package>.lineage champion --json     # the same chain as JSON

The chain is read from the registry and the run that produced the version: the run's tags hold
the git commit and branch and the DVC hashes of the data that `train` used (see train.py); the
data hash is also compared with the `.dvc` file in this workspace.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

import yaml

from . import settings
from .promote import ALIASES, TAG_PREFIX, PromotionError, connect, load_version, quiet_mlflow


def parse_ref(ref: str, default_model: str) -> tuple[str, str, bool]:
    """(model, version-or-alias, is_alias) from 'model@alias', 'model/3', 'alias', '3' or 'v3'."""
    text = ref.strip()
    if not text:
        raise PromotionError("give a version: a number (3), an alias (champion) or model@alias")
    if "@" in text:
        model, alias = text.split("@", 1)
        if not alias:
            raise PromotionError(f"'{ref}': nothing after '@'; use model@alias")
        return model or default_model, alias, True
    if "/" in text:
        model, number = text.rsplit("/", 1)
        if not re.fullmatch(r"v?\d+", number):
            raise PromotionError(f"'{ref}': '{number}' is not a version number")
        return model, number.lstrip("v"), False
    if re.fullmatch(r"v?\d+", text):
        return default_model, text.lstrip("v"), False
    return default_model, text, True


def workspace_data_md5(cfg: settings.Settings) -> str | None:
    raw = cfg.section("data").get("raw")
    path = cfg.path(f"{raw}.dvc")
    if not path.is_file():
        return None
    try:
        return str(yaml.safe_load(path.read_text(encoding="utf-8"))["outs"][0]["md5"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


def chain(cfg: settings.Settings, ref: str) -> dict[str, Any]:
    """The lineage of one model version as plain data (what --json prints)."""
    from mlflow.exceptions import MlflowException

    model, key, is_alias = parse_ref(ref, cfg.model_name)
    client = connect(cfg)
    if is_alias:
        try:
            key = str(client.get_model_version_by_alias(model, key).version)
        except MlflowException:
            raise PromotionError(f"model '{model}' has no alias '{key}'") from None
    scoped = settings.Settings(
        root=cfg.root, params={**cfg.params, "model": {**cfg.section("model"), "name": model}}
    )
    found = load_version(client, scoped, key)
    tags = found.run_tags
    data = {
        k.removeprefix("dvc.").removesuffix(".md5"): v
        for k, v in sorted(tags.items())
        if k.startswith("dvc.")
    }
    here = workspace_data_md5(cfg)
    promotions = {}
    for env in ALIASES:
        prefix = f"{TAG_PREFIX}.{env}."
        entry = {k.removeprefix(prefix): v for k, v in found.version_tags.items() if k.startswith(prefix)}
        if entry:
            promotions[env] = entry
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
        rows.append(
            ("data vs workspace", "same raw data as this workspace" if same else "raw data differs here")
        )
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
    if info["model_card"]:
        rows.append(("model card", info["model_card"]))
    width = max(len(name) for name, _ in rows)
    lines = [f"Lineage of {info['model']} v{info['version']}: run -> commit -> data -> params -> metrics"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="lineage", description=__doc__.split("\n\n")[0])
    top.add_argument("ref", nargs="?", default="champion", help="model@alias, alias, or version number")
    top.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = top.parse_args(argv)
    quiet_mlflow()
    try:
        cfg = settings.load()
        info = chain(cfg, args.ref)
    except (PromotionError, settings.ConfigError) as exc:
        print(f"lineage: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from mlflow.exceptions import MlflowException

        if not isinstance(exc, MlflowException | OSError):
            raise
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        print(f"lineage: {exc.__class__.__name__}: {first[:300]}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2) if args.json else render_table(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
