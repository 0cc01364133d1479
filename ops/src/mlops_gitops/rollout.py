"""Merge-to-deploy: the serving configuration, the rollout with its smoke tests, and the break-glass rollback.

    mlops-gitops deploy config   --env ENV --step canary|full|rollback [--cloud C] [--out FILE]
    mlops-gitops deploy rollout  --env ENV [--cloud C] [--allow-unpushed-image]
    mlops-gitops deploy rollback --env ENV [--cloud C]

`config` writes terraform/<cloud>/serving/release.auto.tfvars.json from deploy/models.yaml (the
version desired in ENV), the registry (its image tag, and which version serves now) and params.yaml
`deploy.canary_percent`: the only place that configuration comes from (mlops_gitops.traffic).

`rollout` walks the steps (canary, full; only full for a first version): for each it writes the
configuration, runs $SERVING_APPLY_COMMAND (default `make serving-apply SERVING_ENV=ENV`; `true`
applies nothing), finds the URL ($SMOKE_URL, else the last line of $SERVING_URL_COMMAND, default
`make -s serving-url SERVING_ENV=ENV`) and runs the smoke test. A failed smoke test applies the
rollback step, records the evidence and exits 1 in one line. Everything that can be checked before
an apply is checked first: the version exists and can be smoke-tested, production only takes a
version whose staging smoke test passed, and the image of the version was pushed
(build/serving-image/pushed.json; locally or under act, --allow-unpushed-image or
SERVING_ALLOW_UNPUSHED=1 waives it, never in GitHub Actions).

The evidence is kept on the model version as `deploy.<env>.*` tags (image, endpoint, smoke,
smoke_at, state, run_url); `state` is live | canary | rolled-back | retired, and the version whose
state is `live` is the one serving. A `canary` state left by a run that never finished is found by
the next run, which rolls back to the live version first.
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

from . import facts, traffic
from .deploy import (
    DEFAULT_IMAGE_DIR,
    TEST_SPLIT,
    DeployError,
    Served,
    SmokeError,
    build_request,
    find_version,
    first_line,
    image_tag,
    logged_model,
    registry_of,
    smoke,
)
from .project import Project
from .promote import ALIASES, read_desired
from .registry import connect
from .traffic import Revision

CLOUDS = ("aws", "gcp", "azure")
RELEASE_FILE = "release.auto.tfvars.json"
PUSHED_FILE = "pushed.json"
TAG = "deploy"
EVIDENCE = ("image", "endpoint", "smoke", "smoke_at", "state", "run_url")
LIVE, CANARY, ROLLED_BACK, RETIRED = "live", "canary", "rolled-back", "retired"
APPLY_ENV, URL_ENV, ALLOW_ENV = "SERVING_APPLY_COMMAND", "SERVING_URL_COMMAND", "SERVING_ALLOW_UNPUSHED"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def tag(env: str, key: str) -> str:
    return f"{TAG}.{env}.{key}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- where: environment, cloud, names --------------------------------------------------------------


def environment(raw: str) -> str:
    if raw not in ALIASES:
        raise DeployError(f"unknown environment '{raw}': use {' or '.join(sorted(ALIASES))} (deploy/models.yaml)")
    return raw


def cloud_of(cfg: Project, given: str | None) -> str:
    """--cloud, else the one terraform/<cloud>/serving of the project (a render keeps only its cloud's)."""
    if given:
        if given not in CLOUDS:
            raise DeployError(f"unknown cloud '{given}': use {', '.join(CLOUDS)}")
        return given
    found = [cloud for cloud in CLOUDS if cfg.path(f"terraform/{cloud}/serving").is_dir()]
    if len(found) != 1:
        what = "no terraform/<cloud>/serving" if not found else f"several clouds ({', '.join(found)})"
        raise DeployError(f"{what} in {cfg.root}: give --cloud {'|'.join(CLOUDS)}")
    return found[0]


def answers(cfg: Project, cloud: str) -> dict[str, str]:
    """The plain string values of terraform/<cloud>/serving/answers.tf (project, region)."""
    path = cfg.path(f"terraform/{cloud}/serving/answers.tf")
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"{}]*)"\s*$', text, flags=re.MULTILINE))


def service_name(cfg: Project, cloud: str, env: str) -> str:
    """terraform/<cloud>/serving's `local.name`: endpoint, Cloud Run service or Container App."""
    project = answers(cfg, cloud).get("project") or cfg.root.name
    limit = {"aws": len(project), "gcp": 30, "azure": 21}[cloud]  # the serving roots cut the same way
    return f"{project[:limit].rstrip('-')}-{env}"


def endpoint_name(cfg: Project, cloud: str, env: str, revision: Revision) -> str:
    """What serves the revision: the endpoint (AWS), the Cloud Run revision, the Container App revision."""
    name = service_name(cfg, cloud, env)
    return {"aws": name, "gcp": f"{name}-{revision.image_tag}", "azure": f"{name}--{revision.image_tag}"}[cloud]


def release_path(cfg: Project, cloud: str) -> Path:
    return cfg.path(f"terraform/{cloud}/serving/{RELEASE_FILE}")


# --- the deploy state of an environment, from the registry ------------------------------------------


@dataclass
class State:
    """The deploy.<env>.* tags of every version of the model."""

    env: str
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # version -> {key: value}

    def with_state(self, value: str) -> list[str]:
        return sorted((v for v, t in self.tags.items() if t.get("state") == value), key=int)

    def live(self) -> str | None:
        found = self.with_state(LIVE)
        return found[-1] if found else None

    def prior(self, other_than: str) -> str | None:
        """The version smoke-tested last before, other than `other_than`: what a rollback returns to."""
        passed = [
            (t.get("smoke_at", ""), int(v))
            for v, t in self.tags.items()
            if v != other_than and t.get("smoke") == "passed" and t.get("state") in (RETIRED, LIVE)
        ]
        return str(max(passed)[1]) if passed else None


def read_state(client: Any, cfg: Project, env: str) -> State:
    prefix = f"{TAG}.{env}."
    state = State(env)
    for found in client.search_model_versions(f"name = '{cfg.model_name}'"):
        tags = {k.removeprefix(prefix): str(v) for k, v in dict(found.tags or {}).items() if k.startswith(prefix)}
        if tags:
            state.tags[str(found.version)] = tags
    return state


@dataclass
class Context:
    cfg: Project
    client: Any
    env: str
    cloud: str
    percent: int
    state: State
    desired: str | None
    revisions: dict[str, Revision] = field(default_factory=dict)
    served: dict[str, Served] = field(default_factory=dict)

    def revision(self, version: str | None) -> Revision | None:
        if version is None:
            return None
        if version not in self.revisions:
            found = find_version(self.client, self.cfg, version)
            self.served[version] = found
            self.revisions[version] = Revision(found.version, image_tag(found))
        return self.revisions[version]

    def previous_of(self, version: str | None) -> str | None:
        """The version `version` shares traffic with: the live one, or (it is live) the one before it."""
        live = self.state.live()
        if version is None or live is None:
            return None
        return live if live != version else self.state.prior(version)

    def release(self, version: str | None, step: str, previous: str | None = None) -> dict[str, Any] | None:
        previous = previous if previous is not None else self.previous_of(version)
        if step == "canary" and version is not None and self.state.live() == version:
            step = "full"  # it already serves: no canary to run
        return traffic.release(
            self.env, self.cfg.model_name, self.revision(version), self.revision(previous), step, self.percent
        )

    def write(self, release: dict[str, Any] | None) -> Path:
        return write_to(release_path(self.cfg, self.cloud), release)

    def set_tags(self, version: str, values: dict[str, str]) -> None:
        for key, value in values.items():
            self.client.set_model_version_tag(self.cfg.model_name, version, tag(self.env, key), value)
        self.state.tags.setdefault(version, {}).update(values)

    def restore_tags(self, version: str, before: dict[str, str]) -> None:
        """The version's deploy.<env>.* tags as they were (an apply that failed records nothing)."""
        for key in EVIDENCE:
            if key in before:
                self.client.set_model_version_tag(self.cfg.model_name, version, tag(self.env, key), before[key])
            elif key in self.state.tags.get(version, {}):
                self.client.delete_model_version_tag(self.cfg.model_name, version, tag(self.env, key))
        self.state.tags[version] = dict(before)


def context(cfg: Project, env: str, cloud: str | None) -> Context:
    env = environment(env)
    cloud = cloud_of(cfg, cloud)
    section = cfg.params.get("deploy")
    percent = traffic.canary_percent(section.get("canary_percent") if isinstance(section, dict) else None)
    desired = read_desired(cfg).versions[env]
    client = connect(cfg)
    return Context(cfg, client, env, cloud, percent, read_state(client, cfg, env), desired)


def describe(release: dict[str, Any] | None) -> str:
    if release is None:
        return "nothing serves"
    shares = ", ".join(f"v{t['version']} {t['percent']}%" for t in release["traffic"])
    return f"v{release['version']} step {release['step']} ({shares})"


# --- config ---------------------------------------------------------------------------------------


def cmd_config(cfg: Project, env: str, step: str, cloud: str | None, out: str | None) -> Path:
    step = traffic.step_name(step)
    ctx = context(cfg, env, cloud)
    release = ctx.release(ctx.desired, step)
    path = (
        ctx.write(release)
        if out is None
        else write_to(cfg.path(out) if not Path(out).is_absolute() else Path(out), release)
    )
    shown = path.relative_to(cfg.root) if path.is_relative_to(cfg.root) else path
    print(f"serving-config: {shown}: {ctx.env} {describe(release)}")
    return path


def write_to(path: Path, release: dict[str, Any] | None) -> Path:
    """release.auto.tfvars.json (keys sorted, 2-space indent), replaced in one move: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps({"release": release}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


# --- commands run for each step ---------------------------------------------------------------------


def command_env(ctx: Context, step: str, revision: Revision | None) -> dict[str, str]:
    """What the apply and URL commands are told (the infra side's make targets may use it)."""
    env = dict(os.environ)
    env.update(
        SERVING_ENV=ctx.env,
        SERVING_STEP=step,
        SERVING_CONFIG=str(release_path(ctx.cfg, ctx.cloud)),
        SERVING_VERSION=revision.version if revision else "",
        SERVING_REVISION=revision.image_tag if revision else "",  # canary: the URL of this revision alone
    )
    return env


def apply(ctx: Context, step: str, revision: Revision | None) -> tuple[int, str]:
    """Run the apply command; (exit code, the command). Its own output goes to the console as is."""
    command = os.environ.get(APPLY_ENV) or f"make serving-apply SERVING_ENV={ctx.env}"
    done = subprocess.run(command, shell=True, cwd=ctx.cfg.root, env=command_env(ctx, step, revision), check=False)
    return done.returncode, command


def smoke_url(ctx: Context, step: str, revision: Revision) -> str:
    if os.environ.get("SMOKE_URL"):
        return os.environ["SMOKE_URL"]
    command = os.environ.get(URL_ENV) or f"make -s serving-url SERVING_ENV={ctx.env}"
    done = subprocess.run(
        command, shell=True, cwd=ctx.cfg.root, env=command_env(ctx, step, revision),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        why = first_line(done.stderr) if done.stderr.strip() else "printed no URL"
        raise SmokeError("url", f"the URL command `{command}` failed (exit {done.returncode}): {why}")
    return lines[-1]


def pushed_image(cfg: Project, revision: Revision, allow: bool) -> str:
    """The image reference with its digest, from the push step's pushed.json; refuses a missing push."""
    folder = os.environ.get("IMAGE_DIR") or DEFAULT_IMAGE_DIR
    path = cfg.path(folder) / PUSHED_FILE
    shown = f"{folder}/{PUSHED_FILE}"
    problem = ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data, problem = None, f"{shown} is missing"
    except ValueError:
        data, problem = None, f"{shown} is not JSON"
    if data is not None:
        image = data.get("image") if isinstance(data, dict) else None
        digest = data.get("digest") if isinstance(data, dict) else None
        if not isinstance(image, str) or not isinstance(digest, str) or not DIGEST.match(digest):
            problem = f'{shown} lacks "image" and a "digest" sha256:<64 hex>'
        elif image.rsplit("/", 1)[-1].rsplit(":", 1)[-1] != revision.image_tag:
            problem = f"{shown} holds {image}, not the tag {revision.image_tag}"
        else:
            return f"{image}@{digest}"
    in_ci = os.environ.get("GITHUB_ACTIONS") == "true" and not os.environ.get("ACT")
    if allow and not in_ci:
        repository = os.environ.get("IMAGE_REPOSITORY", "").strip().rstrip("/") or "<registry>"
        print(f"deploy: {problem}: going on without a pushed image ({ALLOW_ENV}=1 / --allow-unpushed-image)")
        return f"{repository}/model:{revision.image_tag} (not pushed)"
    waiver = "" if in_ci else f", or locally {ALLOW_ENV}=1"
    raise DeployError(
        f"the image for v{revision.version} was not pushed ({problem}): run `make serving-image-push` first"
        f"{waiver}; nothing applied"
    )


# --- rollout -----------------------------------------------------------------------------------------


def check_smokable(ctx: Context, version: str) -> None:
    """Refuse, before any apply, a version smoke could not build a request for."""
    served = ctx.served[version]
    with registry_of(ctx.cfg):
        signature, example = logged_model(served)
    build_request(ctx.cfg, served, signature, example, TEST_SPLIT)


def evidence(ctx: Context, revision: Revision, image: str, url: str | None) -> dict[str, str]:
    endpoint = endpoint_name(ctx.cfg, ctx.cloud, ctx.env, revision)
    if ctx.cloud == "aws" and url:
        from . import serving_aws

        target = serving_aws.endpoint_of(url)
        try:
            found = serving_aws.describe(serving_aws.sagemaker(target[1]), target[0]) if target else None
        except serving_aws.AwsServingError as exc:  # smoke passed: the evidence says what could not be read
            print(f"deploy: {exc}: the endpoint evidence is its name only")
            found = None
        if found:
            endpoint = (
                f"{found['endpoint']} (config {found['config']}, variant {found['variant']}, model {found['model']})"
            )
            image = image if "@" in image else found["image"] or image
    return {"image": image, "endpoint": endpoint, "run_url": facts.run_url() or "local"}


def retire_everything(ctx: Context) -> None:
    """Desired null: nothing should serve in the environment."""
    serving = ctx.state.with_state(LIVE) + ctx.state.with_state(CANARY)
    if not serving:
        print(f"deploy: nothing serves {ctx.env} and deploy/models.yaml wants nothing there: nothing to do")
        return
    ctx.write(None)
    code, command = apply(ctx, "full", None)
    if code != 0:
        raise DeployError(f"`{command}` failed (exit {code}) removing {ctx.env}'s service: registry untouched")
    for version in serving:
        ctx.set_tags(version, {"state": RETIRED})
    print(f"deploy: {ctx.env} serves nothing now (retired {', '.join('v' + v for v in serving)})")


def finish_interrupted(ctx: Context, live: str | None) -> list[str]:
    """A `canary` state with no completion: roll back to the live version, or (none) start over."""
    left = [v for v in ctx.state.with_state(CANARY) if v != live]
    if not left:
        return []
    version = left[-1]
    if live is None:
        print(f"deploy: v{version} was left mid-rollout in {ctx.env} and nothing served before it: starting over")
        return left
    release = ctx.release(version, "rollback", live)
    ctx.write(release)
    code, command = apply(ctx, "rollback", ctx.revision(version))
    if code != 0:
        raise DeployError(
            f"v{version} was left at canary in {ctx.env} by an interrupted rollout and rolling it back failed "
            f"(`{command}` exit {code}): run `make rollback SERVING_ENV={ctx.env}`"
        )
    for other in left:
        ctx.set_tags(other, {"state": ROLLED_BACK})
    raise DeployError(
        f"v{version} was left at canary in {ctx.env} by an interrupted rollout ({tag(ctx.env, 'state')}=canary): "
        f"rolled back, v{live} serves {ctx.env}; run `make deploy SERVING_ENV={ctx.env}` again to roll "
        f"v{ctx.desired} out from the start"
    )


def cmd_rollout(cfg: Project, env: str, cloud: str | None, allow_unpushed: bool) -> None:
    ctx = context(cfg, env, cloud)
    if ctx.desired is None:
        retire_everything(ctx)
        return
    new = ctx.revision(ctx.desired)
    assert new is not None
    check_smokable(ctx, new.version)
    if ctx.env == "production":
        staging = ctx.client.get_model_version(cfg.model_name, new.version).tags.get(tag("staging", "smoke"))
        if staging != "passed":
            raise DeployError(
                f"production refuses v{new.version}: its staging smoke test is {staging or 'missing'} "
                f"({tag('staging', 'smoke')}), not passed: deploy it to staging first (make deploy "
                "SERVING_ENV=staging); nothing applied"
            )
    live = ctx.state.live()
    mine = ctx.state.tags.get(new.version, {})
    if live == new.version and not ctx.state.with_state(CANARY):
        print(
            f"deploy: v{new.version} already serves {ctx.env} (smoke {mine.get('smoke', 'unknown')} at "
            f"{mine.get('smoke_at', '?')}): nothing to do"
        )
        return
    image = pushed_image(cfg, new, allow_unpushed)
    abandoned = finish_interrupted(ctx, live)
    previous = ctx.revision(live)
    before = dict(ctx.state.tags.get(new.version, {}))
    last_good = ctx.release(live, "full") if live else None
    ctx.set_tags(new.version, {"state": CANARY})  # before any apply: a run cut short is found by the next
    url, passed = None, False
    for step in traffic.steps(new, previous):
        release = ctx.release(new.version, step)
        ctx.write(release)
        code, command = apply(ctx, step, new)
        if code != 0:
            ctx.write(last_good)
            back, _ = apply(ctx, "restore", previous)
            restored = "restored and re-applied" if back == 0 else f"restored; re-applying it failed too (exit {back})"
            if passed:  # its smoke-tested canary share stays: the state stays canary, the next run rolls it back
                serving = f"v{new.version} keeps its smoke-tested canary share ({tag(ctx.env, 'state')}=canary)"
            else:
                ctx.restore_tags(new.version, before)
                serving = (f"v{live} serves {ctx.env}" if live else f"nothing served {ctx.env} before") + (
                    "; registry untouched"
                )
            raise DeployError(
                f"`{command}` failed (exit {code}) at step {step} of v{new.version}: the config of the last good "
                f"step ({describe(last_good)}) {restored}; {serving}"
            )
        try:
            url = smoke_url(ctx, step, new)
            print(f"deploy: {ctx.env} step {step}: {describe(release)}; smoke against {url}", flush=True)
            smoke(cfg, url, new.version, served=ctx.served[new.version])
        except DeployError as exc:
            roll_back_failed(ctx, new, live, step, exc, image, url)
        last_good, passed = release, True
    ctx.set_tags(new.version, {**evidence(ctx, new, image, url), "smoke": "passed", "smoke_at": now(), "state": LIVE})
    for version in [v for v in ctx.state.with_state(LIVE) if v != new.version]:
        ctx.set_tags(version, {"state": RETIRED})
    for version in abandoned:
        if version != new.version:
            ctx.set_tags(version, {"state": ROLLED_BACK})
    path = " then ".join(traffic.steps(new, previous)) or "full"
    print(f"deploy: v{new.version} serves {ctx.env} ({path}; smoke passed; image {image})")


def roll_back_failed(
    ctx: Context, new: Revision, live: str | None, step: str, exc: DeployError, image: str, url: str | None
) -> None:
    """A failed smoke test: the rollback step, applied, the evidence, and the one line (raises)."""
    check = exc.check if isinstance(exc, SmokeError) else "smoke"
    ctx.write(ctx.release(new.version, "rollback", live) if live else None)
    code, command = apply(ctx, "rollback", new)
    ctx.set_tags(
        new.version,
        {**evidence_safe(ctx, new, image), "smoke": "failed", "smoke_at": now(), "state": ROLLED_BACK},
    )
    serving = (
        f"v{live} serves {ctx.env}" if live else f"nothing serves {ctx.env} (v{new.version} was its first version)"
    )
    applied = "rolled back" if code == 0 else f"the rollback apply failed too (`{command}` exit {code}: make rollback)"
    raise DeployError(
        f"v{new.version} failed the smoke check '{check}' at step {step} ({first_line(str(exc))}): {applied}, {serving}"
    )


def evidence_safe(ctx: Context, new: Revision, image: str) -> dict[str, str]:
    """The failure's evidence without asking the cloud again (it may be what failed)."""
    return {
        "image": image,
        "endpoint": endpoint_name(ctx.cfg, ctx.cloud, ctx.env, new),
        "run_url": facts.run_url() or "local",
    }


# --- break-glass rollback ------------------------------------------------------------------------------


def cmd_rollback(cfg: Project, env: str, cloud: str | None) -> None:
    ctx = context(cfg, env, cloud)
    live = ctx.state.live()
    if live is None:
        raise DeployError(
            f"nothing serves {ctx.env} (no version has {tag(ctx.env, 'state')}=live): nothing to roll back"
        )
    prior = ctx.state.prior(live)
    if prior is None:
        raise DeployError(
            f"v{live} is the first version that served {ctx.env}: there is no earlier smoke-tested version to roll "
            f"back to (set {ctx.env} to null in deploy/models.yaml to stop serving)"
        )
    current, previous = ctx.revision(live), ctx.revision(prior)
    assert current is not None and previous is not None
    release = ctx.release(live, "rollback", prior)
    path = release_path(cfg, ctx.cloud)
    kept = path.read_text(encoding="utf-8") if path.is_file() else None
    ctx.write(release)  # the next plan/apply agrees with what serves
    try:
        how = break_glass(ctx, release, current, previous, live)
    except Exception:
        if kept is None:  # nothing moved: the configuration file is as it was
            path.unlink(missing_ok=True)
        else:
            path.write_text(kept, encoding="utf-8")
        raise
    ctx.set_tags(live, {"state": ROLLED_BACK})
    ctx.set_tags(prior, {"state": LIVE})
    print(
        f"rollback: v{prior} serves {ctx.env} again instead of v{live} ({how}); set {ctx.env} to {prior} in "
        "deploy/models.yaml by PR so the next deploy agrees"
    )


def break_glass(ctx: Context, release: Any, current: Revision, previous: Revision, live: str) -> str:
    """Move the traffic back: update_endpoint on AWS, the rollback step applied elsewhere."""
    cfg = ctx.cfg
    if ctx.cloud == "aws":
        from . import serving_aws

        region = answers(cfg, "aws").get("region") or None
        name = service_name(cfg, "aws", ctx.env)
        done = serving_aws.rollback(serving_aws.sagemaker(region), name, previous.image_tag, ctx.percent)
        how = f"update_endpoint {done['endpoint']} -> {done['config']} (canary {ctx.percent}%, alarm auto-rollback)"
    else:
        code, command = apply(ctx, "rollback", current)
        if code != 0:
            raise DeployError(f"`{command}` failed (exit {code}) applying the rollback: v{live} still serves {ctx.env}")
        how = describe(release)
    return how


# --- entry points (deploy.main dispatches here) ---------------------------------------------------------


def add_parsers(sub: Any) -> None:
    config = sub.add_parser("config", help="write terraform/<cloud>/serving/release.auto.tfvars.json for one step")
    config.add_argument("--env", required=True, help="staging or production")
    config.add_argument("--step", required=True, help="canary, full or rollback")
    config.add_argument("--cloud", default=None, help="aws, gcp or azure (default: the project's)")
    config.add_argument("--out", default=None, help=f"another file than terraform/<cloud>/serving/{RELEASE_FILE}")
    rollout = sub.add_parser("rollout", help="apply the desired version step by step, smoke-testing each step")
    rollout.add_argument("--env", required=True, help="staging or production")
    rollout.add_argument("--cloud", default=None)
    rollout.add_argument(
        "--allow-unpushed-image", action="store_true", help=f"locally/act: no pushed.json needed (or {ALLOW_ENV}=1)"
    )
    rollback = sub.add_parser("rollback", help="break glass: the previous smoke-tested version serves again")
    rollback.add_argument("--env", required=True, help="staging or production")
    rollback.add_argument("--cloud", default=None)


def action(cfg_loader: Any, args: argparse.Namespace) -> Any:
    allow = bool(getattr(args, "allow_unpushed_image", False)) or os.environ.get(ALLOW_ENV, "") in ("1", "true")
    return {
        "config": lambda: cmd_config(cfg_loader(), args.env, args.step, args.cloud, args.out),
        "rollout": lambda: cmd_rollout(cfg_loader(), args.env, args.cloud, allow),
        "rollback": lambda: cmd_rollback(cfg_loader(), args.env, args.cloud),
    }[args.command]
