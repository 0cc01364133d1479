"""`mlops-gitops train run|container|image`: the train stage here, or as a managed training job.

    mlops-gitops train run -- python -m <package>.train        # the train stage's cmd in dvc.yaml
    mlops-gitops train container -- python -m <package>.train  # what the training image runs
    mlops-gitops train image                                   # make training-image: build/push commands

params.yaml `train.backend` says where the stage's command runs. `local` runs it as it is (same
exit code). `sagemaker`, `vertex` and `azureml` check every setting first (one line and exit 1,
nothing submitted), upload the stage's inputs to `<TRAINING_STORAGE_URL>/<job>/input/`, create
the MLflow run the job resumes (MLFLOW_RUN_ID, tags `training.backend`, `training.job`,
`training.console_url`), submit a job whose container runs `train container -- <the same
command>` in the image built from the project's lock, wait, and download the stage's outputs into
place only when the job succeeded. A failed, stopped or timed-out job, and Ctrl-C, end in one line
naming the job and its console link, with the job stopped and no output written.

One small module per cloud (aws.py, gcp.py, azure.py) implements `Backend`; each imports its
cloud's SDK (the project's `training` extra) only when used.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .. import facts, inputs
from ..errors import CommandError, quiet_mlflow, run
from ..project import PARAMS_FILE, Project, load

# params.yaml train.backend -> the module of its launcher (None: this machine).
BACKENDS: dict[str, str | None] = {
    "local": None,
    "sagemaker": "mlops_gitops.training.aws",
    "vertex": "mlops_gitops.training.gcp",
    "azureml": "mlops_gitops.training.azure",
}
STAGE = inputs.TRAIN_STAGE
# What the project's Terraform hands the launcher (docs/training.md; in CI, repository variables).
ROLE, REPOSITORY, STORAGE, IMAGE = (
    "TRAINING_ROLE",
    "TRAINING_IMAGE_REPOSITORY",
    "TRAINING_STORAGE_URL",
    "TRAINING_IMAGE",
)
DOCKERFILE = "docker/training.Dockerfile"
LOCK = "uv.lock"
# Provisioning and pulling the image come on top of the cloud's own runtime limit.
QUEUE_MARGIN_SECONDS = 15 * 60
# Passed on to the job when set: tracking credentials and what lineage records about CI and git.
PASSED_ON = (
    "MLFLOW_TRACKING_TOKEN", "MLFLOW_ARTIFACT_LOCATION", "PR_NUMBER", "GITHUB_REPOSITORY", "GITHUB_RUN_ID",
    "GITHUB_SERVER_URL", "GITHUB_HEAD_REF",
)  # fmt: skip
_LEAF = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


class TrainingError(CommandError):
    """Training cannot start or did not succeed; the message names the job, the problem and the fix."""


# --- params.yaml ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """params.yaml `train`: where and how the train stage runs."""

    backend: str = "local"
    instance_type: str | None = None
    spot: bool = False
    max_runtime_minutes: int = 60
    max_wait_minutes: int = 120
    checkpoint_prefix: str | None = None

    @property
    def deadline_seconds(self) -> int:
        """How long the launcher watches a job before stopping it itself."""
        return (self.max_wait_minutes if self.spot else self.max_runtime_minutes) * 60 + QUEUE_MARGIN_SECONDS


def _minutes(train: dict[str, Any], key: str, default: int) -> int:
    value = train.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrainingError(f"{PARAMS_FILE}: train.{key} is {value!r}: give a whole number of minutes, at least 1")
    return value


def read_settings(params: dict[str, Any]) -> Settings:
    """params.yaml `train` checked: one line naming the key and the fix on the first problem."""
    train = params.get("train") or {}
    if not isinstance(train, dict):
        raise TrainingError(f"{PARAMS_FILE}: section 'train' must be a mapping; restore it from the template")
    backend = str(train.get("backend") or "local")
    if backend not in BACKENDS:
        raise TrainingError(f"{PARAMS_FILE}: train.backend '{backend}' is unknown: use one of {', '.join(BACKENDS)}")
    spot = train.get("spot", False)
    if not isinstance(spot, bool):
        raise TrainingError(f"{PARAMS_FILE}: train.spot is {spot!r}: use true or false")
    instance = train.get("instance_type")
    if instance is not None and (not isinstance(instance, str) or not instance.strip()):
        raise TrainingError(f"{PARAMS_FILE}: train.instance_type is {instance!r}: give the instance type, or null")
    runtime = _minutes(train, "max_runtime_minutes", 60)
    wait = _minutes(train, "max_wait_minutes", 120)
    checkpoint = train.get("checkpoint_prefix")
    if checkpoint is not None and (not isinstance(checkpoint, str) or not _LEAF.fullmatch(checkpoint)):
        raise TrainingError(
            f"{PARAMS_FILE}: train.checkpoint_prefix {checkpoint!r} is not a folder name: "
            "use letters, digits, '.', '_', '-' and '/' (e.g. the model's name)"
        )
    if spot and not checkpoint:
        raise TrainingError(
            f"{PARAMS_FILE}: train.spot is true but train.checkpoint_prefix is empty: a spot job must "
            "checkpoint to survive preemption; name its folder under TRAINING_STORAGE_URL/checkpoints/ "
            "(e.g. checkpoint_prefix: <model name>)"
        )
    if spot and wait < runtime:
        raise TrainingError(
            f"{PARAMS_FILE}: train.max_wait_minutes ({wait}) is below train.max_runtime_minutes ({runtime}): "
            "a spot job's wait includes its runtime; set max_wait_minutes >= max_runtime_minutes"
        )
    return Settings(backend, instance, spot, runtime, wait, checkpoint)


# --- the stage, the job --------------------------------------------------------------------------


def stage_io(cfg: Project, stage: str = STAGE) -> tuple[list[str], list[str]]:
    """The stage's deps and outs (outs, metrics, plots) from dvc.yaml, `${...}` resolved from params."""
    path = cfg.path(inputs.PIPELINE)
    try:
        pipeline = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TrainingError(f"{inputs.PIPELINE} cannot be read ({exc.__class__.__name__}): restore it") from None
    spec = (pipeline or {}).get("stages", {}).get(stage) if isinstance(pipeline, dict) else None
    if not isinstance(spec, dict):
        raise TrainingError(f"{inputs.PIPELINE} has no '{stage}' stage: the job's inputs and outputs are unknown")

    def resolve(text: str) -> str:
        return inputs._INTERPOLATION.sub(lambda m: str(inputs._lookup(cfg.params, m.group(1))), text).rstrip("/")

    deps = [resolve(p) for p in inputs._paths(spec.get("deps"))]
    outs = [resolve(p) for key in ("outs", "metrics", "plots") for p in inputs._paths(spec.get(key))]
    if not outs:
        raise TrainingError(f"{inputs.PIPELINE}: stage '{stage}' has no outs: a job would bring nothing back")
    return deps, outs


def _files(cfg: Project, relative: str) -> list[str]:
    """A file, or the files of a folder (as git would commit them), relative to the project."""
    if cfg.path(relative).is_file():
        return [relative]
    return inputs.Tree(cfg.root).files(relative)


def job_inputs(cfg: Project, deps: list[str]) -> list[str]:
    """What the job needs to run the command exactly as here: dvc.yaml, params.yaml, the code under
    src/, the stage's deps, and what the model inputs fingerprint reads (each upstream source, or the
    `.dvc` file of tracked data), so that the run's lineage tags are the ones a local run records."""
    wanted = {inputs.PIPELINE, PARAMS_FILE, *_files(cfg, "src")}
    missing = [dep for dep in deps if not cfg.path(dep).exists()]
    if missing:
        raise TrainingError(f"the stage's input {missing[0]} is missing: run the stages before train (dvc repro)")
    for dep in deps:
        wanted.update(_files(cfg, dep))
    for name in inputs.model_inputs(inputs.Tree(cfg.root)):
        if name.startswith(("cmd ", "stage ")):
            continue
        if name.startswith("param "):
            file = name.removeprefix("param ").rsplit(":", 1)
            if len(file) == 2 and cfg.path(file[0]).is_file():
                wanted.add(file[0])
        elif cfg.path(f"{name}.dvc").is_file():
            wanted.add(f"{name}.dvc")
        else:
            wanted.update(_files(cfg, name))
    return sorted(wanted)


def project_slug(cfg: Project) -> str:
    """The project's name (pyproject.toml, else its folder), as job names may spell it."""
    name = cfg.root.name
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
        name = str(tomllib.loads(cfg.path("pyproject.toml").read_text(encoding="utf-8"))["project"]["name"])
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "project"


def job_name(cfg: Project, now: datetime | None = None) -> str:
    """`<slug, 40 chars max>-train-<UTC yyyymmddHHMMSS>`: the prefix the CI identity may act on."""
    return f"{project_slug(cfg)}-train-{(now or datetime.now(UTC)):%Y%m%d%H%M%S}"


def image_tag(cfg: Project) -> str:
    """The training image's tag: the hash of the lock it is built from (`make training-image`)."""
    lock = cfg.path(LOCK)
    if not lock.is_file():
        raise TrainingError(f"{LOCK} is missing: run `uv lock` (the training image is built from it), or set {IMAGE}")
    return "lock-" + hashlib.sha256(lock.read_bytes()).hexdigest()[:12]


@dataclass
class Job:
    """One training job, as every backend submits it."""

    name: str
    image: str
    role: str
    command: list[str]  # the container's command: `mlops-gitops train container -- <stage command>`
    env: dict[str, str]
    input_url: str
    output_url: str
    checkpoint_url: str | None
    settings: Settings
    instance_type: str
    console_url: str = ""
    handle: Any = None  # what the backend needs to find the job again (e.g. Vertex's resource name)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    state: str  # completed | failed | stopped | running
    reason: str = ""


class Backend:
    """One cloud's launcher. Subclasses set the class attributes and implement request/submit/
    status/stop; storage goes through fsspec unless a subclass knows better."""

    name = ""
    scheme = ""
    default_instance = ""
    poll_seconds = 30.0

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def check(self) -> None:
        """The cloud's answers (region, project, workspace) are in the environment and its SDK is
        installed; one line naming what is missing otherwise."""

    def job_env(self) -> dict[str, str]:
        """What the job's container needs to reach this cloud's storage (e.g. its region)."""
        return {}

    def image(self, repository: str, tag: str) -> str:
        return f"{repository}:{tag}"

    def checkpoint_env(self, job: Job) -> dict[str, str]:
        """Where the job's code finds its checkpoints (TRAINING_CHECKPOINT_DIR), and what syncs them."""
        return {"TRAINING_CHECKPOINT_DIR": "/tmp/checkpoints", "TRAINING_CHECKPOINT_URL": job.checkpoint_url or ""}

    def request(self, job: Job) -> Any:  # pragma: no cover - each backend has its own
        raise NotImplementedError

    def submit(self, job: Job) -> None:  # pragma: no cover
        raise NotImplementedError

    def status(self, job: Job) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    def stop(self, job: Job) -> None:  # pragma: no cover
        raise NotImplementedError

    def wait(self, job: Job, timeout: float) -> Outcome:
        """Poll until the job ends; `running` once `timeout` seconds have passed."""
        end = time.monotonic() + timeout
        while True:
            outcome = self.status(job)
            if outcome.state != "running" or time.monotonic() >= end:
                return outcome
            time.sleep(min(self.poll_seconds, max(end - time.monotonic(), 0.1)))

    # Storage: fsspec (s3fs, gcsfs, adlfs come with the project's DVC remote plugin).
    def put(self, local: Path, url: str) -> None:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        fs.put_file(str(local), path)

    def get_tree(self, url: str, dest: Path) -> list[str]:
        """Download every file under `url` into `dest`; returns their relative paths."""
        import fsspec

        fs, root = fsspec.core.url_to_fs(url)
        root = root.rstrip("/")
        found = []
        for path in fs.find(root):
            relative = path[len(root) :].lstrip("/")
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(path, str(dest / relative))
            found.append(relative)
        return found


def backend_for(name: str, env: Mapping[str, str] | None = None) -> Backend:
    module = BACKENDS.get(name)
    if module is None:
        raise TrainingError(f"train.backend '{name}' is not a managed backend")
    backend: Backend = importlib.import_module(module).Backend(os.environ if env is None else env)
    return backend


def _need(env: Mapping[str, str], key: str, what: str) -> str:
    value = env.get(key, "").strip()
    if not value:
        raise TrainingError(
            f"{key} is not set: {what} (a repository variable from the project's Terraform outputs, docs/training.md)"
        )
    return value


def prepare(cfg: Project, settings: Settings, command: list[str], env: Mapping[str, str]) -> tuple[Backend, Job]:
    """Everything checked and the job described, before anything is uploaded or submitted."""
    backend = backend_for(settings.backend, env)
    backend.check()
    role = _need(env, ROLE, "the identity the job runs as")
    storage = _need(env, STORAGE, f"the {backend.scheme}… folder the job reads and writes").rstrip("/")
    if not storage.startswith(backend.scheme):
        raise TrainingError(f"{STORAGE} '{storage}' is not a {backend.scheme} URL: {backend.name} jobs use it")
    image = env.get(IMAGE, "").strip()
    if not image:
        repository = _need(env, REPOSITORY, "the registry the training image is pushed to (make training-image)")
        image = backend.image(repository, image_tag(cfg))
    tracking = env.get("MLFLOW_TRACKING_URI", "").strip()
    if not tracking:
        raise TrainingError(
            "MLFLOW_TRACKING_URI is not set: a managed job logs to the tracking server, not to this machine's "
            "mlflow.db; set it (CI does)"
        )
    _, outs = stage_io(cfg)
    name = job_name(cfg)
    job = Job(
        name=name,
        image=image,
        role=role,
        command=["mlops-gitops", "train", "container", "--", *command],
        env={},
        input_url=f"{storage}/{name}/input",
        output_url=f"{storage}/{name}/output",
        checkpoint_url=f"{storage}/checkpoints/{settings.checkpoint_prefix}" if settings.spot else None,
        settings=settings,
        instance_type=settings.instance_type or backend.default_instance,
        labels={"project": project_slug(cfg)},
    )
    branch = facts.git_info(cfg.root)["git.branch"]
    job.env = {
        "TRAINING_BACKEND": settings.backend,
        "TRAINING_INPUT_URL": job.input_url,
        "TRAINING_OUTPUT_URL": job.output_url,
        "TRAINING_OUTS": json.dumps(outs),
        "MLFLOW_TRACKING_URI": tracking,
        "MLFLOW_RUN_ID": "0" * 32,  # the run is created just before submitting
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "GIT_COMMIT": facts.head(cfg.root) or "unknown",
        # the job has no .git: lineage reads the branch from here, as in a PR workflow
        **({"GITHUB_HEAD_REF": branch} if branch != "unknown" else {}),
        **{key: env[key] for key in PASSED_ON if env.get(key)},
        **backend.job_env(),
    }
    if job.checkpoint_url:
        job.env.update({k: v for k, v in backend.checkpoint_env(job).items() if v})
    backend.request(job)  # builds the SDK's request: a malformed one fails here, before any upload
    return backend, job


# --- MLflow: the one run of this training ----------------------------------------------------------


def start_run(cfg: Project, job: Job) -> Any:
    """The run the job resumes (MLFLOW_RUN_ID), in the project's experiment; returns the client."""
    from mlflow import MlflowClient

    from ..registry import preflight

    uri = job.env["MLFLOW_TRACKING_URI"]
    if uri.startswith(("http://", "https://")):
        preflight(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    found = client.get_experiment_by_name(cfg.experiment)
    experiment = found.experiment_id if found else client.create_experiment(cfg.experiment, cfg.artifact_location)
    tags = {"training.backend": job.settings.backend, "training.job": job.name}
    created = client.create_run(experiment, tags=tags, run_name=job.name)
    job.env["MLFLOW_RUN_ID"] = created.info.run_id
    return client


def after_success(client: Any, cfg: Project, run_id: str) -> None:
    """The job saw no .git: record this workspace's git.dirty on the run and its model versions."""
    dirty = facts.git_info(cfg.root)["git.dirty"]
    client.set_tag(run_id, "git.dirty", dirty)
    for version in client.search_model_versions(f"run_id='{run_id}'"):
        client.set_model_version_tag(version.name, version.version, "git.dirty", dirty)


# --- run: the stage's command ----------------------------------------------------------------------


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """CI cancels with SIGTERM: treat it as Ctrl-C so the job is stopped too."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def fetch_outputs(backend: Backend, job: Job, cfg: Project, outs: list[str]) -> None:
    """The job's outputs into a scratch folder first, then each moved into place: all or nothing."""
    scratch = Path(tempfile.mkdtemp(prefix=".training-", dir=cfg.root))
    try:
        backend.get_tree(job.output_url, scratch)
        missing = [out for out in outs if not (scratch / out).exists()]
        if missing:
            raise TrainingError(f"job {job.name} succeeded but wrote no {missing[0]}: see its logs ({job.console_url})")
        for out in outs:
            _remove(cfg.path(out))
            cfg.path(out).parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / out, cfg.path(out))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _stop(backend: Backend, job: Job) -> str:
    try:
        backend.stop(job)
    except Exception as exc:  # the SDKs raise many kinds; the line must still be printed
        return f"; stopping it failed ({exc.__class__.__name__}): stop it in the console"
    return "; the job was stopped"


def _first_line(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"


def run_managed(cfg: Project, settings: Settings, command: list[str], env: Mapping[str, str]) -> None:
    backend, job = prepare(cfg, settings, command, env)
    deps, outs = stage_io(cfg)
    where = f"{settings.backend} job {job.name}"
    try:
        for relative in job_inputs(cfg, deps):
            backend.put(cfg.path(relative), f"{job.input_url}/{relative}")
    except TrainingError:
        raise
    except Exception as exc:  # the cloud SDKs raise their own kinds: one line all the same
        raise TrainingError(
            f"uploading the inputs of {where} to {job.input_url} failed ({_first_line(exc)}): "
            f"check {STORAGE} and this identity's write access to it"
        ) from None
    quiet_mlflow()
    client = start_run(cfg, job)
    run_id = job.env["MLFLOW_RUN_ID"]
    try:
        with interrupt_on_sigterm():
            try:
                backend.submit(job)
            except Exception as exc:
                client.set_terminated(run_id, "FAILED")
                raise TrainingError(f"submitting {where} failed ({_first_line(exc)})") from None
            client.set_tag(run_id, "training.console_url", job.console_url)
            spot = ", spot" if settings.spot else ""
            print(f"train: {where} submitted ({job.instance_type}{spot}): {job.console_url}", flush=True)
            try:
                outcome = backend.wait(job, settings.deadline_seconds)
            except Exception as exc:
                client.set_terminated(run_id, "FAILED")
                raise TrainingError(
                    f"watching {where} failed ({_first_line(exc)}){_stop(backend, job)}: {job.console_url}"
                ) from None
    except KeyboardInterrupt:
        client.set_terminated(run_id, "KILLED")
        raise TrainingError(f"{where} interrupted{_stop(backend, job)}: {job.console_url}") from None
    if outcome.state == "running":
        client.set_terminated(run_id, "FAILED")
        limit = f"{settings.deadline_seconds // 60} minutes"
        raise TrainingError(f"{where} still running after {limit}{_stop(backend, job)}: {job.console_url}")
    if outcome.state != "completed":
        client.set_terminated(run_id, "FAILED")
        reason = f" ({outcome.reason})" if outcome.reason else ""
        raise TrainingError(f"{where} {outcome.state}{reason}: {job.console_url}")
    try:
        fetch_outputs(backend, job, cfg, outs)
    except TrainingError:
        raise
    except Exception as exc:
        raise TrainingError(
            f"downloading the outputs of {where} from {job.output_url} failed ({_first_line(exc)}): "
            "nothing was changed here; run the stage again"
        ) from None
    after_success(client, cfg, run_id)
    print(f"train: {where} completed; outputs in place: {', '.join(outs)}")


def _load() -> tuple[Project, Settings]:
    cfg = load()
    return cfg, read_settings(cfg.params)


def run_command(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print(
            "train: give the stage's command after --: mlops-gitops train run -- python -m <pkg>.train", file=sys.stderr
        )
        return 1
    found: list[tuple[Project, Settings]] = []
    code = run(lambda: found.append(_load()), "train")
    if code:
        return code
    cfg, chosen = found[0]
    if chosen.backend == "local":
        try:
            return subprocess.run(command).returncode
        except OSError as exc:  # not found, not executable: as a shell would say it
            print(f"train: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
            return 127
    return run(lambda: run_managed(cfg, chosen, command, os.environ), "train")


# --- container: what the training image runs -------------------------------------------------------


def container(command: list[str], env: Mapping[str, str], workdir: Path) -> int:
    """Pull the inputs into `workdir`, run `command` there as the stage runs it, push the outputs.
    Nothing is pushed when the command fails; checkpoints are synced when a URL is given."""
    backend = backend_for(_need(env, "TRAINING_BACKEND", "the job's backend"), env)
    input_url, output_url = _need(env, "TRAINING_INPUT_URL", "inputs"), _need(env, "TRAINING_OUTPUT_URL", "outputs")
    outs = json.loads(_need(env, "TRAINING_OUTS", "the stage's outs"))
    workdir.mkdir(parents=True, exist_ok=True)
    if not backend.get_tree(input_url, workdir):
        raise TrainingError(f"no inputs under {input_url}: the launcher uploads them before submitting")
    checkpoints = Path(env.get("TRAINING_CHECKPOINT_DIR") or workdir / ".checkpoints")
    sync = env.get("TRAINING_CHECKPOINT_URL", "")
    if sync:
        backend.get_tree(sync, checkpoints)
    # As the project's Makefile runs stages: src/ on the path, the project folder as the root.
    child = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir / "src"), env.get("PYTHONPATH", "")]))}
    child.update(TRAINING_CHECKPOINT_DIR=str(checkpoints), PROJECT_ROOT=str(workdir))
    process = subprocess.Popen(command, cwd=workdir, env=child)
    # Preemption sends SIGTERM: pass it on, then save the checkpoints below.
    before = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signal.SIGTERM))
    try:
        code = process.wait()
    finally:
        signal.signal(signal.SIGTERM, before)
        if sync and checkpoints.is_dir():
            for path in sorted(p for p in checkpoints.rglob("*") if p.is_file()):
                backend.put(path, f"{sync}/{path.relative_to(checkpoints).as_posix()}")
    if code:
        raise TrainingError(f"`{shlex.join(command)}` exited with {code}: no outputs were uploaded")
    for out in outs:
        files = [out] if (workdir / out).is_file() else inputs.Tree(workdir).files(out)
        if not files:
            raise TrainingError(f"`{shlex.join(command)}` wrote no {out}: no outputs were uploaded")
        for relative in files:
            backend.put(workdir / relative, f"{output_url}/{relative}")
    return 0


# --- image: the build and push commands -------------------------------------------------------------


def image_commands(cfg: Project, env: Mapping[str, str]) -> list[str]:
    settings = read_settings(cfg.params)
    if settings.backend == "local":
        raise TrainingError(
            f"{PARAMS_FILE}: train.backend is local: no training image is needed; choose a backend first"
        )
    backend = backend_for(settings.backend, env)
    repository = env.get(REPOSITORY, "").strip() or "<registry>/<repository>"
    image = env.get(IMAGE, "").strip() or backend.image(repository, image_tag(cfg))
    return [f"docker build -f {DOCKERFILE} -t {image} .", f"docker push {image}"]


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    action, rest = argv[0], argv[1:]
    if action == "run":
        return run_command(rest)
    if action == "container":
        command = rest[1:] if rest[:1] == ["--"] else rest
        if not command:
            print("train container: give the command after --", file=sys.stderr)
            return 1
        codes: list[int] = []
        done = run(lambda: codes.append(container(command, os.environ, Path.cwd())), "train container")
        return done or (codes[0] if codes else 1)
    if action == "image":

        def show() -> None:
            cfg = load()
            lines = image_commands(cfg, os.environ)
            print("\n".join(["# The training image (docs/training.md): build from the lock, then push", *lines]))

        return run(show, "train image")
    print(f"mlops-gitops train: unknown action '{action}'; use run, container or image", file=sys.stderr)
    return 2
