"""What a model is made of, as one fingerprint that follows content through any kind of merge.

The inputs of a model are those of the train stage of `dvc.yaml` and of every stage upstream of it
(what DVC itself would rerun): each stage's command, the values of the params it declares, and each
dependency that no stage produces, hashed by content. A file in git counts by its git blob hash,
data tracked by a `.dvc` file by the md5 that file records (the data need not be present), a folder
by the files in it. Commits, branches and merge methods do not enter: a squash or a rebase of the
branch that trained a model leaves main with the same fingerprint.

Training records it (`lineage.fingerprint`, and per input `lineage.inputs`); the promotion gate
compares it with the fingerprint of the commit being promoted from (see docs/promotion.md).
Stages written with `foreach`/`matrix` count by their definition; their outputs are not followed.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .project import PARAMS_FILE, ConfigError, Project

PIPELINE = "dvc.yaml"
TRAIN_STAGE = "train"
FINGERPRINT_TAG = "lineage.fingerprint"
INPUTS_TAG = "lineage.inputs"
INPUTS_TAG_LIMIT = 4000  # model version tag values are VARCHAR(5000) on server stores
SHORT = 16
_INTERPOLATION = re.compile(r"\$\{\s*([\w.-]+)\s*\}")


def blob_hash(data: bytes) -> str:
    """Git's object id of a file's bytes: the same on disk and in any commit."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class Tree:
    """The project's files, as they are on disk."""

    label = "the working tree"

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, relative: str) -> bytes | None:
        path = self.root / relative
        return path.read_bytes() if path.is_file() else None

    def blob(self, relative: str) -> str | None:
        data = self.read(relative)
        return None if data is None else blob_hash(data)

    def files(self, folder: str) -> list[str]:
        base = self.root / folder
        if not base.is_dir():
            return []
        try:  # what git would commit: no caches, nothing ignored
            done = subprocess.run(
                ["git", "ls-files", "-co", "--exclude-standard", "--", folder],
                cwd=self.root, capture_output=True, text=True, check=True,
            )  # fmt: skip
            return sorted(done.stdout.splitlines())
        except (OSError, subprocess.CalledProcessError):
            return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())


class Commit(Tree):
    """The project's files as one commit holds them (uncommitted changes do not count)."""

    def __init__(self, root: Path, ref: str = "HEAD") -> None:
        super().__init__(root)
        self.ref = ref
        prefix = self._git("rev-parse", "--show-prefix").decode().strip()
        listing = self._git("ls-tree", "-r", "--full-tree", ref).decode()
        self.blobs: dict[str, str] = {}
        for line in listing.splitlines():
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob" and path.startswith(prefix):
                self.blobs[path[len(prefix) :]] = parts[2]
        sha = self._git("rev-parse", "--short=12", ref).decode().strip()
        self.label = f"commit {sha}"

    def _git(self, *args: str) -> bytes:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=True)
        return done.stdout

    def read(self, relative: str) -> bytes | None:
        if relative not in self.blobs:
            return None
        return self._git("cat-file", "blob", self.blobs[relative])

    def blob(self, relative: str) -> str | None:
        return self.blobs.get(relative)

    def files(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return sorted(path for path in self.blobs if path.startswith(prefix))


def committed(root: Path, ref: str = "HEAD") -> Tree:
    """`ref` of the repository holding `root`, or the working tree outside a git repository."""
    try:
        return Commit(root, ref)
    except (OSError, subprocess.CalledProcessError):
        return Tree(root)


def _yaml(tree: Tree, relative: str) -> Any:
    data = tree.read(relative)
    if data is None:
        return None
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError:
        raise ConfigError(f"{relative} in {tree.label} is not valid YAML: fix its syntax") from None


def _lookup(params: dict[str, Any], dotted: str) -> Any:
    value: Any = params
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _paths(entries: Any) -> list[str]:
    """Paths of a stage's `deps`/`outs`/`metrics`/`plots` list (strings or one-key mappings)."""
    found: list[str] = []
    for entry in entries or []:
        if isinstance(entry, str):
            found.append(entry)
        elif isinstance(entry, dict):
            found.extend(str(key) for key in entry)
    return found


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def model_inputs(tree: Tree, stage: str = TRAIN_STAGE) -> dict[str, str]:
    """Every input of `stage` and the stages upstream of it, name -> content hash."""
    pipeline = _yaml(tree, PIPELINE)
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("stages"), dict):
        raise ConfigError(f"{PIPELINE} in {tree.label} has no stages: restore it from the template")
    params = _yaml(tree, PARAMS_FILE) or {}

    def resolve(text: str) -> str:
        return _INTERPOLATION.sub(lambda m: str(_lookup(params, m.group(1))), text)

    stages: dict[str, dict[str, Any]] = pipeline["stages"]
    if stage not in stages:
        raise ConfigError(f"{PIPELINE} in {tree.label} has no '{stage}' stage: the model's inputs are unknown")
    producer: dict[str, str] = {}
    for name, spec in stages.items():
        if isinstance(spec, dict) and not {"foreach", "matrix"} & set(spec):
            for key in ("outs", "metrics", "plots"):
                for out in _paths(spec.get(key)):
                    producer[resolve(out).rstrip("/")] = name

    def produced_by(path: str) -> str | None:
        for out, name in producer.items():
            if path == out or path.startswith(out + "/") or out.startswith(path + "/"):
                return name
        return None

    inputs: dict[str, str] = {}
    seen: set[str] = set()
    todo = [stage]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        spec = stages.get(name)
        if not isinstance(spec, dict) or {"foreach", "matrix"} & set(spec):
            inputs[f"stage {name}"] = _digest(spec)
            continue
        inputs[f"cmd {name}"] = _digest(resolve(str(spec.get("cmd", ""))))
        for declared in spec.get("params") or []:
            if isinstance(declared, str):
                inputs[f"param {declared}"] = _digest(_lookup(params, declared))
            elif isinstance(declared, dict):
                for file, keys in declared.items():
                    other = _yaml(tree, str(file)) or {}
                    for key in keys or [None]:
                        value = other if key is None else _lookup(other, str(key))
                        inputs[f"param {file}:{key or '*'}"] = _digest(value)
        for dep in _paths(spec.get("deps")):
            path = resolve(dep).rstrip("/")
            upstream = produced_by(path)
            if upstream is not None:
                todo.append(upstream)
            else:
                inputs[path] = _source_hash(tree, path)
    return dict(sorted(inputs.items()))


def _source_hash(tree: Tree, path: str) -> str:
    tracked = _yaml(tree, f"{path}.dvc")
    if isinstance(tracked, dict):
        outs = tracked.get("outs") or [{}]
        first = outs[0] if isinstance(outs[0], dict) else {}
        return f"dvc:{first.get('md5') or first.get('etag') or _digest(tracked)}"
    blob = tree.blob(path)
    if blob is not None:
        return blob
    files = tree.files(path)
    if files:
        return _digest({file: tree.blob(file) for file in files})
    return "missing"


def fingerprint(inputs: dict[str, str]) -> str:
    return _digest(inputs)


def training_tags(cfg: Project) -> dict[str, str]:
    """The fingerprint of the model being trained (working tree) and its inputs, as run tags.

    Without a readable pipeline there is none: training goes on, and the gate will refuse the
    version with a line that says why."""
    try:
        inputs = model_inputs(Tree(cfg.root))
    except ConfigError as exc:
        print(f"warning: {exc}; this version will not be promotable", file=sys.stderr)
        return {}
    tags = {FINGERPRINT_TAG: fingerprint(inputs)}
    short = json.dumps({name: value[:SHORT] for name, value in inputs.items()}, separators=(",", ":"))
    if len(short) <= INPUTS_TAG_LIMIT:
        tags[INPUTS_TAG] = short
    return tags


def differences(recorded: str | None, inputs: dict[str, str]) -> list[str]:
    """Names of the inputs that differ between a recorded `lineage.inputs` tag and `inputs`."""
    try:
        before = json.loads(recorded or "")
    except json.JSONDecodeError:
        return []
    if not isinstance(before, dict):
        return []
    now = {name: value[:SHORT] for name, value in inputs.items()}
    return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))
