"""Promotion as GitOps: make the model registry match the desired state in `deploy/models.yaml`.

    mlops-gitops promote plan      # dry run: what would move, and the gate's verdict
    mlops-gitops promote apply     # reconcile: check, gate, record evidence, card, aliases
    mlops-gitops promote status    # desired state next to the registry's aliases
    mlops-gitops promote propose --env production --version candidate   # edit the file
    mlops-gitops promote evidence  # CI: merged PR and approvers from the GitHub API

The file says which version serves in each environment (`production` -> alias `champion`,
`staging` -> alias `staging`). Apply checks every move before it writes anything: the version
exists, was trained in this project's experiment from exactly the model inputs (code, data and
params: mlops_gitops.inputs) of the commit promoted from, however they reached it, passed the
validate stage, meets the floors of `params.yaml` `gate`, and (production) is not worse than the
champion beyond the tolerance. Then it records the evidence (PR, approvers, merge commit, workflow run, time) as
version tags, attaches a Markdown model card and moves the aliases, keeping `previous-champion`.
A second apply changes nothing. Any bad input is one line on stderr, exit 1, registry untouched.
See docs/promotion.md in the generated project.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from . import facts
from .errors import CommandError, quiet_mlflow, run
from .gate import EPSILON, worse_by
from .inputs import FINGERPRINT_TAG, INPUTS_TAG, committed, differences, model_inputs
from .inputs import fingerprint as model_inputs_fingerprint
from .project import DESIRED_STATE, INTENDED_USE, Project, load
from .registry import (
    CHAMPION,
    Candidate,
    RegistryError,
    connect,
    current_aliases,
    load_version,
    newest_with_tag,
    resolve,
)

PLAN_REPORT = "reports/promotion_plan.md"
# Environment -> the alias that serves it. Production's alias is what serving loads.
ALIASES = {"staging": "staging", "production": CHAMPION}
PREVIOUS = "previous-champion"
CANDIDATE = "candidate"  # propose: the newest version trained from the inputs of the commit promoted from
TAG_PREFIX = "promotion"
CARD_TAG = "model_card"
DESCRIPTION_LIMIT = 5000  # model version descriptions are VARCHAR(5000) on MySQL/PostgreSQL stores
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")
SHA = re.compile(r"^[0-9a-f]{7,40}$")


class PromotionError(CommandError):
    """Bad input or a refused move: one line that names the problem and the fix."""


# --------------------------------------------------------------------------------------------
# Desired state


@dataclass(frozen=True)
class Desired:
    model: str
    versions: dict[str, str | None]  # environment -> version number, None = nothing serves there
    path: Path


def _version_value(env: str, raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise PromotionError(f"{where}: {env}.version must be a version number or null, not {raw!r}")
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise PromotionError(f"{where}: {env}.version must be a version number or null, not {raw!r}")
    return str(int(text))


def read_desired(cfg: Project, path: Path | None = None) -> Desired:
    path = path or cfg.path(DESIRED_STATE)
    where = str(path.relative_to(cfg.root)) if path.is_relative_to(cfg.root) else str(path)
    if not path.is_file():
        raise PromotionError(f"{where} is missing: restore it from the template")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise PromotionError(f"{where} is not valid YAML{line}: fix its syntax") from None
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict):
        raise PromotionError(f"{where} must hold 'model' and an 'environments' mapping")
    model = str(data.get("model") or "")
    if model != cfg.model_name:
        raise PromotionError(
            f"{where} declares model '{model}' but params.yaml registers '{cfg.model_name}': "
            "a desired-state file manages this project's model only"
        )
    environments: dict[str, Any] = data["environments"]
    unknown = sorted(str(name) for name in environments if name not in ALIASES)
    if unknown:
        raise PromotionError(f"{where}: unknown environment '{unknown[0]}'; use {' and '.join(sorted(ALIASES))}")
    versions: dict[str, str | None] = {}
    for env in ALIASES:
        if env not in environments:
            raise PromotionError(f"{where}: environment '{env}' is missing (set its version, or null)")
        entry = environments[env]
        if not isinstance(entry, dict) or "version" not in entry:
            raise PromotionError(f"{where}: {env} must be a mapping with a 'version' key")
        versions[env] = _version_value(env, entry["version"], where)
    return Desired(model=model, versions=versions, path=path)


def edit_desired(text: str, env: str, version: str | None) -> str:
    """The file's text with `environments.<env>.version` replaced; comments and layout kept."""
    lines = text.splitlines(keepends=True)
    in_envs, current = False, None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_envs = stripped.startswith("environments:")
            current = None
        elif in_envs and stripped.endswith(":") and not stripped.startswith("version"):
            current = stripped[:-1].strip()
        elif in_envs and current == env and stripped.startswith("version:"):
            match = re.match(r"^(\s*version:\s*)([^#\s]*)(.*)$", line.rstrip("\n"))
            if match:
                value = "null" if version is None else version
                rest = match.group(3)
                lines[index] = f"{match.group(1)}{value}{rest}\n"
                return "".join(lines)
    raise PromotionError(f"{DESIRED_STATE}: no 'version:' line under environments.{env} to edit")


# --------------------------------------------------------------------------------------------
# Quality gate


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Move:
    env: str
    alias: str
    from_version: str | None
    to_version: str | None
    candidate: Candidate | None = None
    baseline: Candidate | None = None  # what the candidate is compared with (the champion)
    rollback: bool = False
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def failures(self) -> list[str]:
        return [check.detail for check in self.checks if not check.ok]


@dataclass(frozen=True)
class Here:
    """The commit being promoted from (HEAD: main in CI) and its model inputs."""

    label: str
    inputs: dict[str, str]

    @property
    def fingerprint(self) -> str:
        return model_inputs_fingerprint(self.inputs)


def promoted_from(cfg: Project) -> Here:
    tree = committed(cfg.root)
    return Here(tree.label, model_inputs(tree))


def inputs_check(v: str, tags: dict[str, str], at: Here, rollback: bool = False) -> Check:
    """Eligibility: the version was trained from exactly the model inputs this commit holds."""
    recorded = tags.get(FINGERPRINT_TAG, "")
    if rollback:
        return Check("inputs", True, f"rollback to {v}: it served production before")
    if not recorded:
        return Check(
            "inputs",
            False,
            f"{v} records no model inputs (run tag {FINGERPRINT_TAG}): retrain it with `make pipeline`",
        )
    if recorded == at.fingerprint:
        return Check("inputs", True, f"{v} was trained from the inputs {at.label} holds")
    changed = differences(tags.get(INPUTS_TAG), at.inputs)
    which = f" ({', '.join(changed[:4])}{' …' if len(changed) > 4 else ''} differ)" if changed else ""
    return Check(
        "inputs",
        False,
        f"{v} was trained from other model inputs than {at.label} holds{which}: "
        "promote a version trained from what main holds (merge the PR that trained it, or retrain)",
    )


def gate(cfg: Project, move: Move, at: Here | None = None) -> list[Check]:
    """Every check of the quality gate for one move; a move passes when all are ok."""
    at = at or promoted_from(cfg)
    candidate = move.candidate
    assert candidate is not None
    gate_cfg = cfg.section("gate")
    metric = str(gate_cfg["primary_metric"])
    tolerance = float(gate_cfg["tolerance"])
    v = f"v{candidate.version}"
    tags = candidate.run_tags
    checks: list[Check] = []

    if candidate.experiment != cfg.experiment:
        checks.append(
            Check(
                "model",
                False,
                f"{v} was trained in experiment '{candidate.experiment}', not this project's "
                f"'{cfg.experiment}': it belongs to another model",
            )
        )
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if repository and tags.get("ci.repository") and tags["ci.repository"] != repository:
        checks.append(Check("model", False, f"{v} was built by {tags['ci.repository']}, not by {repository}"))
    checks.append(inputs_check(v, tags, at, rollback=move.rollback))
    status = tags.get("validation.status", "")
    checks.append(
        Check(
            "validation",
            status == "passed",
            f"{v} has no passed validate stage (run tag validation.status={status or 'missing'})",
        )
    )
    if metric not in candidate.metrics:
        checks.append(Check("primary", False, f"{v} has no '{metric}' metric to compare"))
        return checks

    baseline = move.baseline
    if move.env == "production" and baseline is not None and baseline.version != candidate.version:
        if move.rollback:
            checks.append(Check("champion", True, f"rollback to {v}, which served production before"))
        elif metric not in baseline.metrics:
            checks.append(Check("champion", True, f"champion v{baseline.version} has no '{metric}'"))
        else:
            gap = worse_by(cfg, candidate.metrics[metric], baseline.metrics[metric])
            checks.append(
                Check(
                    "champion",
                    gap <= tolerance + EPSILON,
                    f"{v} {metric}={candidate.metrics[metric]:.4f} is worse than champion "
                    f"v{baseline.version} ({baseline.metrics[metric]:.4f}) by {gap:.4f} "
                    f"> tolerance {tolerance}",
                )
            )
    for name, floor in dict(gate_cfg.get("minimums") or {}).items():
        value = candidate.metrics.get(str(name))
        checks.append(
            Check(
                f"min {name}",
                value is not None and value >= float(floor),
                f"{v} {name}={'missing' if value is None else f'{value:.4f}'} is below the floor {floor}",
            )
        )
    for name, ceiling in dict(gate_cfg.get("maximums") or {}).items():
        value = candidate.metrics.get(str(name))
        checks.append(
            Check(
                f"max {name}",
                value is not None and value <= float(ceiling),
                f"{v} {name}={'missing' if value is None else f'{value:.4f}'} is above the limit {ceiling}",
            )
        )
    return checks


# --------------------------------------------------------------------------------------------
# Plan


@dataclass
class Plan:
    model: str
    desired: Desired
    aliases: dict[str, str]
    moves: list[Move]
    unchanged: dict[str, str | None]

    @property
    def ok(self) -> bool:
        return all(move.ok for move in self.moves)

    def failures(self) -> list[str]:
        return [f"{move.env}: {detail}" for move in self.moves for detail in move.failures()]


def build_plan(cfg: Project, client: Any, desired: Desired) -> Plan:
    """Compare the desired state with the registry; load and gate every version that would move."""
    aliases = current_aliases(client, cfg)
    at = promoted_from(cfg)
    loaded: dict[str, Candidate] = {}
    missing: dict[str, list[str]] = {}

    def version(number: str, env: str) -> Candidate | None:
        if number not in loaded:
            try:
                loaded[number] = load_version(client, cfg, number)
            except RegistryError:
                missing.setdefault(number, []).append(env)
                return None
        return loaded[number]

    moves: list[Move] = []
    unchanged: dict[str, str | None] = {}
    for env, alias in ALIASES.items():
        target, current = desired.versions[env], aliases.get(alias)
        if target == current:
            unchanged[env] = target
            continue
        move = Move(env=env, alias=alias, from_version=current, to_version=target)
        if target is not None:
            move.candidate = version(target, env)
        champion = aliases.get(ALIASES["production"])
        if champion is not None:
            move.baseline = version(champion, "current champion")
        moves.append(move)
    if missing:
        number, envs = next(iter(missing.items()))
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise PromotionError(
            f"{' and '.join(envs)}: version {number} of '{cfg.model_name}' does not exist "
            f"(deleted, or never registered){more}; point {desired.path.name} at an existing version"
        )
    for move in moves:
        if move.candidate is None:
            continue
        move.rollback = bool(
            move.env == "production" and move.candidate.version_tags.get(f"{TAG_PREFIX}.production.promoted_at")
        )
        move.checks = gate(cfg, move, at)
    return Plan(cfg.model_name, desired, aliases, moves, unchanged)


def _v(version: str | None) -> str:
    return "—" if version is None else f"v{version}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def render_plan(cfg: Project, plan: Plan) -> str:
    gate_cfg = cfg.section("gate")
    metric = str(gate_cfg["primary_metric"])
    direction = "higher" if gate_cfg["higher_is_better"] else "lower"
    lines = [
        f"## Promotion plan: `{plan.model}`",
        "",
        f"Desired state `{DESIRED_STATE}` against the registry. Gate: `{metric}` ({direction} is better), "
        f"tolerance {gate_cfg['tolerance']} against the champion; floors from `params.yaml`.",
        "",
        "| environment | alias | from | to | gate |",
        "| --- | --- | --- | --- | --- |",
    ]
    for move in plan.moves:
        verdict = "passes" if move.ok else "**fails**"
        if move.to_version is None:
            verdict = "alias removed"
        lines.append(f"| {move.env} | `{move.alias}` | {_v(move.from_version)} | {_v(move.to_version)} | {verdict} |")
        if move.env == "production" and move.from_version and move.to_version:
            lines.append(
                f"| — | `{PREVIOUS}` | {_v(plan.aliases.get(PREVIOUS))} | {_v(move.from_version)} | kept for rollback |"
            )
    for env, version in plan.unchanged.items():
        lines.append(f"| {env} | `{ALIASES[env]}` | {_v(version)} | {_v(version)} | unchanged |")

    for move in plan.moves:
        if move.candidate is None:
            continue
        candidate, baseline = move.candidate, move.baseline
        title = f"### {move.env}: {_v(move.from_version)} → {_v(move.to_version)}"
        lines += ["", title + (" (rollback)" if move.rollback else ""), ""]
        head = f"| metric | candidate {_v(candidate.version)} |"
        if baseline is not None:
            head += f" champion {_v(baseline.version)} | Δ |"
        lines += [head, "| --- | ---: |" + (" ---: | ---: |" if baseline is not None else "")]
        for name in sorted(candidate.metrics):
            value = candidate.metrics[name]
            row = f"| {name}{' (primary)' if name == metric else ''} | {_num(value)} |"
            if baseline is not None:
                old = baseline.metrics.get(name)
                row += f" {_num(old)} | {'—' if old is None else f'{value - old:+.4f}'} |"
            lines.append(row)
        lines += ["", "| check | result |", "| --- | --- |"]
        for check in move.checks:
            lines.append(f"| {check.name} | {'ok' if check.ok else '**failed**: ' + check.detail} |")
        commit = candidate.run_tags.get("git.commit", "unknown")
        lines.append(f"\nRun `{candidate.run_id}` · commit `{commit[:12]}` · experiment `{candidate.experiment}`")

    lines.append("")
    if not plan.moves:
        lines.append("Nothing to do: the registry already matches the desired state.")
    elif plan.ok:
        lines.append(
            f"{len(plan.moves)} alias change(s) would be applied on merge (`make promote`, "
            "in the `production` environment)."
        )
    else:
        lines.append("**The quality gate refuses this change**: apply would stop before writing anything.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Evidence and model card


@dataclass(frozen=True)
class Evidence:
    pr: str
    approvers: tuple[str, ...]
    commit: str
    run_url: str
    time: str

    def tags(self, env: str) -> dict[str, str]:
        prefix = f"{TAG_PREFIX}.{env}"
        return {
            f"{prefix}.pr": self.pr,
            f"{prefix}.approvers": ",".join(self.approvers),
            f"{prefix}.commit": self.commit,
            f"{prefix}.run_url": self.run_url,
            f"{prefix}.promoted_at": self.time,
        }


def gather_evidence(cfg: Project, args: argparse.Namespace) -> Evidence:
    """PR, approvers, merge commit, run URL: arguments first, then the environment (see docs)."""
    env = os.environ
    run_url = args.run_url or env.get("PROMOTION_RUN_URL", "") or facts.run_url()
    pr = str(args.pr or env.get("PROMOTION_PR", "")).strip().lstrip("#")
    raw_approvers = args.approvers or env.get("PROMOTION_APPROVERS", "")
    approvers = tuple(sorted({a.strip().lstrip("@") for a in re.split(r"[,\s]+", raw_approvers) if a.strip()}))
    commit = (
        args.commit or env.get("PROMOTION_COMMIT") or env.get("GITHUB_SHA") or facts.git(cfg.root, "rev-parse", "HEAD")
    ).strip()

    missing = []
    if not pr:
        missing.append("PR number (--pr or PROMOTION_PR)")
    if not approvers:
        missing.append("approvers (--approvers or PROMOTION_APPROVERS)")
    if not commit:
        missing.append("merge commit (--commit or PROMOTION_COMMIT)")
    if not run_url:
        missing.append("workflow run URL (--run-url or PROMOTION_RUN_URL)")
    if missing:
        raise PromotionError(f"missing evidence: {', '.join(missing)}; registry untouched")
    if not pr.isdigit() or int(pr) < 1:
        raise PromotionError(f"evidence: PR number {pr!r} is not a positive integer")
    bad = [a for a in approvers if not LOGIN.match(a)]
    if bad:
        raise PromotionError(f"evidence: approver {bad[0]!r} is not a GitHub login")
    if not SHA.match(commit):
        raise PromotionError(f"evidence: merge commit {commit!r} is not a git commit SHA")
    if not (run_url == "local" or re.match(r"^https?://\S+$", run_url)):
        raise PromotionError(f"evidence: workflow run URL {run_url!r} is not a URL (or 'local')")
    now = env.get("PROMOTION_TIME") or datetime.now(UTC).isoformat(timespec="seconds")
    return Evidence(str(int(pr)), approvers, commit, run_url, now)


def intended_use(cfg: Project) -> str:
    path = cfg.path(INTENDED_USE)
    if not path.is_file():
        raise PromotionError(f"{INTENDED_USE} is missing: the model card needs the team's intended-use text")
    text = path.read_text(encoding="utf-8").strip()
    # The file's own top heading would clash with the card's section heading.
    return re.sub(r"^#\s+.*\n+", "", text, count=1)


def model_card(cfg: Project, candidate: Candidate, baseline: Candidate | None, tags: dict[str, str]) -> str:
    gate_cfg = cfg.section("gate")
    metric = str(gate_cfg["primary_metric"])
    run_tags = candidate.run_tags
    lines = [
        f"# Model card: `{cfg.model_name}` version {candidate.version}",
        "",
        "_Written by `make promote` from the desired state in git; the next promotion rewrites it._",
        "",
        "## Serving and approvals",
        "",
        "| environment | alias | PR | approvers | merge commit | workflow run | since |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for env, alias in ALIASES.items():
        prefix = f"{TAG_PREFIX}.{env}"
        if f"{prefix}.promoted_at" in tags:
            lines.append(
                f"| {env} | `{alias}` | #{tags[f'{prefix}.pr']} | {tags[f'{prefix}.approvers']} | "
                f"`{tags[f'{prefix}.commit'][:12]}` | {tags[f'{prefix}.run_url']} | "
                f"{tags[f'{prefix}.promoted_at']} |"
            )
    lines += ["", "## Intended use", "", intended_use(cfg), "", "## Data", ""]
    data_tags = {k: v for k, v in sorted(run_tags.items()) if k.startswith("dvc.")}
    if data_tags:
        lines += ["| DVC-tracked input | md5 |", "| --- | --- |"]
        lines += [f"| `{k.removeprefix('dvc.').removesuffix('.md5')}` | `{v}` |" for k, v in data_tags.items()]
    else:
        lines.append("No DVC hashes were recorded by the training run.")
    lines += [
        "",
        "## Training",
        "",
        f"- run `{candidate.run_id}` in experiment `{candidate.experiment}`, registered {candidate.created}",
        f"- commit `{run_tags.get('git.commit', 'unknown')}` "
        f"on branch `{run_tags.get('git.branch', 'unknown')}`"
        f"{' (uncommitted changes)' if run_tags.get('git.dirty') == 'true' else ''}",
    ]
    if run_tags.get("ci.pr_number"):
        lines.append(f"- trained for PR #{run_tags['ci.pr_number']} {run_tags.get('ci.workflow_run_url', '')}")
    lines += ["", "| parameter | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in sorted(candidate.params.items())]
    title = f"previous champion {_v(baseline.version)}" if baseline else "previous champion"
    lines += [
        "",
        f"## Metrics against the {title}",
        "",
        f"Primary metric `{metric}` ({'higher' if gate_cfg['higher_is_better'] else 'lower'} is better), "
        f"tolerance {gate_cfg['tolerance']}; floors {dict(gate_cfg.get('minimums') or {})}, "
        f"limits {dict(gate_cfg.get('maximums') or {})}.",
        "",
    ]
    if baseline is None or baseline.version == candidate.version:
        lines += ["| metric | this version |", "| --- | ---: |"]
        lines += [f"| {k} | {_num(v)} |" for k, v in sorted(candidate.metrics.items())]
        lines.append("")
        lines.append("No other champion to compare with.")
    else:
        lines += ["| metric | this version | previous | Δ |", "| --- | ---: | ---: | ---: |"]
        for name, value in sorted(candidate.metrics.items()):
            old = baseline.metrics.get(name)
            delta = "—" if old is None else f"{value - old:+.4f}"
            lines.append(f"| {name} | {_num(value)} | {_num(old)} | {delta} |")
    lines += ["", f"Lineage: `make lineage REF={candidate.version}`.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Apply


def apply(cfg: Project, client: Any, plan: Plan, evidence: Evidence) -> list[str]:
    """Write the plan to the registry: model cards, evidence tags, then aliases. Returns what moved.

    The first registry write is the card as the version's description (UpdateModelVersion), which
    only the deploy identity may do: an identity without it stops before any tag or alias moves."""
    model = cfg.model_name
    targets = [move for move in plan.moves if move.candidate is not None]
    tags: dict[str, dict[str, str]] = {}
    for move in targets:  # one card per version, with all of its evidence
        assert move.candidate is not None
        written = tags.setdefault(move.candidate.version, {})
        written.update(evidence.tags(move.env))
        written[f"{TAG_PREFIX}.{move.env}.gate"] = "passed"
        move.candidate.version_tags.update(written)
    for move in targets:
        candidate = move.candidate
        assert candidate is not None
        card = model_card(cfg, candidate, move.baseline, candidate.version_tags)
        artifact = f"model_card/{model}-v{candidate.version}.md"
        client.log_text(candidate.run_id, card, artifact)
        description = (
            card
            if len(card) <= DESCRIPTION_LIMIT
            else card[: DESCRIPTION_LIMIT - 80] + (f"\n\n… full card: run artifact `{artifact}`")
        )
        client.update_model_version(model, candidate.version, description=description)
        run = client.get_run(candidate.run_id)
        tags[candidate.version][CARD_TAG] = f"{run.info.artifact_uri}/{artifact}"
    for version, written in tags.items():
        for key, value in written.items():
            client.set_model_version_tag(model, version, key, value)

    done = []
    for move in plan.moves:
        if move.alias == ALIASES["production"] and move.from_version:
            client.set_registered_model_alias(model, PREVIOUS, move.from_version)
        if move.to_version is None:
            client.delete_registered_model_alias(model, move.alias)
        else:
            client.set_registered_model_alias(model, move.alias, move.to_version)
        done.append(
            f"{move.env}: {move.alias} {_v(move.from_version)} -> {_v(move.to_version)}"
            + (f" ({PREVIOUS} -> {_v(move.from_version)})" if move.env == "production" and move.from_version else "")
        )
    return done


# --------------------------------------------------------------------------------------------
# Commands


def cmd_plan(cfg: Project, args: argparse.Namespace) -> None:
    out = cfg.path(args.out) if args.out else None
    try:
        desired = read_desired(cfg, Path(args.file) if args.file else None)
        client = connect(cfg)
        plan = build_plan(cfg, client, desired)
    except PromotionError as exc:
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(f"## Promotion plan\n\n**Plan failed**: {exc}\n", encoding="utf-8")
        raise
    text = render_plan(cfg, plan)
    print(text, end="")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    if not plan.ok:
        raise PromotionError(f"quality gate failed: {'; '.join(plan.failures())}")


def cmd_apply(cfg: Project, args: argparse.Namespace) -> None:
    desired = read_desired(cfg, Path(args.file) if args.file else None)
    client = connect(cfg)
    plan = build_plan(cfg, client, desired)
    if not plan.moves:
        print(f"promote: the registry already matches {DESIRED_STATE}: nothing to do")
        return
    if not plan.ok:
        raise PromotionError(f"quality gate failed: {'; '.join(plan.failures())}; registry untouched")
    evidence = gather_evidence(cfg, args)
    intended_use(cfg)  # fail before writing if the card cannot be built
    for line in apply(cfg, client, plan, evidence):
        print(f"promote: {line}")


def cmd_status(cfg: Project, args: argparse.Namespace) -> None:
    desired = read_desired(cfg, Path(args.file) if args.file else None)
    client = connect(cfg)
    aliases = current_aliases(client, cfg)
    versions = client.search_model_versions(f"name='{cfg.model_name}'")
    state: dict[str, Any] = {
        "model": cfg.model_name,
        "environments": {
            env: {"alias": alias, "desired": desired.versions[env], "registry": aliases.get(alias)}
            for env, alias in ALIASES.items()
        },
        "aliases": aliases,
        "versions": sorted((str(v.version) for v in versions), key=int),
    }
    if args.json:
        print(json.dumps(state, indent=2))
        return
    print(f"{cfg.model_name}: versions {', '.join(state['versions']) or 'none'}")
    for env, row in state["environments"].items():
        mark = "in sync" if row["desired"] == row["registry"] else "differs: run make promote"
        desired_v, registry_v = _v(row["desired"]), _v(row["registry"])
        print(f"  {env:<10} {row['alias']:<18} desired {desired_v:<5} registry {registry_v:<5} {mark}")
    if PREVIOUS in aliases:
        print(f"  {'':<10} {PREVIOUS:<18} {_v(aliases[PREVIOUS])}")


def cmd_propose(cfg: Project, args: argparse.Namespace) -> None:
    """Edit the desired-state file for one environment, after checking that the gate passes."""
    if args.env not in ALIASES:
        raise PromotionError(f"unknown environment '{args.env}'; use {' and '.join(sorted(ALIASES))}")
    desired = read_desired(cfg)
    client = connect(cfg)
    if args.version.strip() == CANDIDATE:
        at = promoted_from(cfg)
        version = newest_with_tag(client, cfg, FINGERPRINT_TAG, at.fingerprint)
        if version is None:
            raise PromotionError(
                f"no version of '{cfg.model_name}' was trained from the model inputs {at.label} holds: "
                "merge the PR whose pipeline trained one, or run `make pipeline` here"
            )
    else:
        version = resolve(client, cfg, args.version)
    versions = {**desired.versions, args.env: version}
    proposed = Desired(desired.model, versions, desired.path)
    plan = build_plan(cfg, client, proposed)
    if not plan.ok:
        raise PromotionError(f"quality gate failed: {'; '.join(plan.failures())}; file left as it was")
    if desired.versions[args.env] == version:
        print(f"promote: {DESIRED_STATE} already has {args.env} at v{version}: nothing to propose")
        return
    text = edit_desired(desired.path.read_text(encoding="utf-8"), args.env, version)
    desired.path.write_text(text, encoding="utf-8")
    if read_desired(cfg).versions != versions:  # the edit must mean exactly what was asked
        raise PromotionError(f"{DESIRED_STATE}: could not edit {args.env}.version safely; edit it by hand")
    body = render_plan(cfg, plan)
    if args.body:
        out = cfg.path(args.body)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
    print(f"promote: {DESIRED_STATE}: {args.env} -> v{version} (gate passes); open a PR with this change")


def approvers_from_reviews(reviews: list[dict[str, Any]]) -> list[str]:
    """Logins whose latest review (comments aside) is an approval: GitHub's own rule."""
    latest: dict[str, str] = {}
    for review in reviews:
        state, login = review.get("state"), (review.get("user") or {}).get("login")
        if login and state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[str(login)] = str(state)
    return sorted(login for login, state in latest.items() if state == "APPROVED")


def gh_json(*args: str) -> Any:
    try:
        done = subprocess.run(["gh", "api", *args], capture_output=True, text=True, check=True, timeout=60)
    except FileNotFoundError:
        raise PromotionError("the GitHub CLI (gh) is not installed: evidence is read from the GitHub API") from None
    except subprocess.CalledProcessError as exc:
        first = (exc.stderr.strip().splitlines() or ["no message"])[0]
        raise PromotionError(f"gh api {args[-1]} failed: {first}") from None
    return json.loads(done.stdout or "null")


def cmd_evidence(cfg: Project, args: argparse.Namespace) -> None:
    """CI: the merged PR of a commit and its approvers, from the GitHub API, as step outputs."""
    repository, sha = os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_SHA", "")
    if not repository or not sha:
        raise PromotionError("GITHUB_REPOSITORY and GITHUB_SHA are needed to find the merged PR")
    pulls = gh_json(f"repos/{repository}/commits/{sha}/pulls") or []
    merged = [pull for pull in pulls if pull.get("merged_at")]
    if not merged:
        raise PromotionError(f"commit {sha[:12]} is not the merge of a pull request: promote through a PR")
    number = int(merged[0]["number"])
    pages = gh_json("--paginate", "--slurp", f"repos/{repository}/pulls/{number}/reviews?per_page=100") or []
    reviews = [review for page in pages for review in page] if pages and isinstance(pages[0], list) else pages
    approvers = approvers_from_reviews(reviews)
    lines = [f"pr={number}", f"approvers={','.join(approvers)}"]
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not approvers:
        raise PromotionError(f"PR #{number} has no approving review: nothing may be promoted without one")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mlops-gitops promote", description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="dry run: what would move, and the gate's verdict")
    plan.add_argument("--out", help=f"also write the plan as Markdown (e.g. {PLAN_REPORT})")
    app = sub.add_parser("apply", help="reconcile the registry with the desired state")
    app.add_argument("--pr", help="evidence: number of the merged PR (or PROMOTION_PR)")
    app.add_argument("--approvers", help="evidence: comma-separated GitHub logins (or PROMOTION_APPROVERS)")
    app.add_argument("--commit", help="evidence: the merge commit (or PROMOTION_COMMIT, GITHUB_SHA, git HEAD)")
    app.add_argument("--run-url", help="evidence: workflow run URL, or 'local' (or PROMOTION_RUN_URL)")
    status = sub.add_parser("status", help="desired state next to the registry's aliases")
    status.add_argument("--json", action="store_true")
    propose = sub.add_parser("propose", help="point an environment at a version, if the gate passes")
    propose.add_argument("--env", required=True, help="staging or production")
    propose.add_argument(
        "--version",
        required=True,
        help=f"a version number, an alias, or '{CANDIDATE}': the newest version trained from this commit's inputs",
    )
    propose.add_argument("--body", help="write the plan there, as the PR description")
    sub.add_parser("evidence", help="CI: the merged PR and its approvers, from the GitHub API (gh)")
    for command in (plan, app, status):
        command.add_argument("--file", help=f"desired-state file [default: {DESIRED_STATE}]")
    return top


COMMANDS = {
    "plan": cmd_plan,
    "apply": cmd_apply,
    "status": cmd_status,
    "propose": cmd_propose,
    "evidence": cmd_evidence,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet_mlflow()
    return run(lambda: COMMANDS[args.command](load(), args), "promote")
