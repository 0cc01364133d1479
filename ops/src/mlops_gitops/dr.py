"""`mlops-gitops dr backup|restore|drill|list`: disaster recovery of the model registry.

    mlops-gitops dr backup  [--to URL] [--model NAME]...  # make backup   (BACKUP_URL)
    mlops-gitops dr restore --from URL [--into URI]       # make restore FROM=<backup>
    mlops-gitops dr drill   [--backup URL] [--replica REMOTE] [--keep]   # make dr-drill
    mlops-gitops dr list    [--from URL]                  # the snapshots of a backup, newest last

A backup is plain files under one URL (a folder, s3://, gs:// or azure://, through fsspec):

    blobs/<sha[:2]>/<sha256>               model files, stored once by content (incremental)
    snapshots/<id>/registry.json           models (tags, aliases, description), every version
                                           (tags, description, its files), the runs they came
                                           from (params, metric histories, tags)
    snapshots/<id>/manifest.json           sha256 and size of registry.json and of every blob;
                                           written last: a snapshot without it does not exist

Restore verifies every checksum before it writes anything, refuses a registry that holds anything
but this backup, and is idempotent (a second run finds everything there and does nothing). MLflow
numbers versions itself: restore creates them in order (a deleted version becomes a placeholder,
deleted afterwards), verifies each number, and records any difference in the model's tag
`dr.version_map`. Run ids are new: each restored run carries `dr.source_run_id`.

The drill never touches the live tracking store or the project's DVC cache: it restores into a
SQLite store and a DVC workspace in a temporary folder, whose only reachable remote is the replica.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import lineage
from .errors import CommandError, quiet_mlflow, run
from .project import Project, load
from .registry import CHAMPION, connect, preflight

FORMAT = 1
SNAPSHOTS, BLOBS = "snapshots", "blobs"
MANIFEST, REGISTRY = "manifest.json", "registry.json"
# Tags a restore adds: where each run and version came from, and which snapshot made it.
TAG_SNAPSHOT = "dr.snapshot"
TAG_SOURCE_RUN = "dr.source_run_id"
TAG_SOURCE_VERSION = "dr.source_version"
TAG_REGISTERED = "dr.registered_at"
TAG_COMPLETE = "dr.complete"
TAG_PLACEHOLDER = "dr.placeholder"
TAG_VERSION_MAP = "dr.version_map"
DR_TAGS = (TAG_SNAPSHOT, TAG_SOURCE_RUN, TAG_SOURCE_VERSION, TAG_REGISTERED, TAG_COMPLETE, TAG_VERSION_MAP)
RUNBOOK = "docs/runbooks/disaster-recovery.md"
DEFAULT_TEST_DATA = "data/features/test.csv"
DEFAULT_REPLICA = "local-dr"


class DrError(CommandError):
    """A backup, restore or drill cannot go on; the message names the problem and the fix."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dumps(data: Any) -> bytes:
    """Deterministic JSON: equal content, equal bytes, equal checksum (what makes backups incremental)."""
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def age(seconds: float) -> str:
    seconds = max(seconds, 0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# ---------------------------------------------------------------------------------------------
# Where backups live: a folder or a bucket, through fsspec.


class Store:
    """A backup location: plain files under `root`, in a local folder or a bucket (fsspec)."""

    def __init__(self, url: str) -> None:
        text = url.strip()
        if not text:
            raise DrError("no backup location: set BACKUP_URL (a folder, s3://, gs:// or azure:// URL)")
        self.url = text
        scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", text)
        if scheme is None or scheme.group(1) == "file":
            self.local = Path(text.removeprefix("file://")).expanduser().resolve()
            self.fs, self.root = None, str(self.local)
            return
        self.local = None
        if scheme.group(1) not in ("s3", "gs", "gcs", "azure", "az", "abfs", "memory"):
            raise DrError(f"'{text}' is not a backup location: use a folder, s3://, gs:// or azure:// URL")
        import fsspec

        # DVC's azure://container/path is adlfs' az://container/path (credentials from the environment).
        target = re.sub(r"^azure://", "az://", text)
        try:
            self.fs, self.root = fsspec.core.url_to_fs(target)
        except ImportError as exc:
            raise DrError(f"no client for {text} ({exc}): install the project's DVC plugin for that cloud") from None
        self.root = self.root.rstrip("/")

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def exists(self, relative: str) -> bool:
        if self.local is not None:
            return (self.local / relative).exists()
        return bool(self.fs.exists(self.path(relative)))

    def read(self, relative: str) -> bytes:
        if self.local is not None:
            return (self.local / relative).read_bytes()
        with self.fs.open(self.path(relative), "rb") as handle:
            return bytes(handle.read())

    def get(self, relative: str, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        if self.local is not None:
            shutil.copyfile(self.local / relative, destination)
        else:
            self.fs.get_file(self.path(relative), str(destination))

    def put(self, source: Path | bytes, relative: str) -> None:
        """Write one file whole: a local file appears under its name only once complete."""
        if self.local is not None:
            target = self.local / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            if isinstance(source, bytes):
                partial.write_bytes(source)
            else:
                shutil.copyfile(source, partial)
            partial.replace(target)
            return
        if isinstance(source, bytes):
            with self.fs.open(self.path(relative), "wb") as handle:
                handle.write(source)
        else:
            self.fs.put_file(str(source), self.path(relative))  # an object store commits whole objects

    def snapshots(self) -> list[str]:
        """Complete snapshots (those with a manifest), oldest first."""
        if self.local is not None:
            folder = self.local / SNAPSHOTS
            names = [p.name for p in folder.iterdir() if (p / MANIFEST).is_file()] if folder.is_dir() else []
        else:
            try:
                entries = self.fs.ls(self.path(SNAPSHOTS), detail=False)
            except FileNotFoundError:
                entries = []
            names = [str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries]
            names = [n for n in names if self.exists(f"{SNAPSHOTS}/{n}/{MANIFEST}")]
        return sorted(names)


def blob_path(sha: str) -> str:
    return f"{BLOBS}/{sha[:2]}/{sha}"


def snapshot_time(snapshot_id: str) -> datetime:
    return datetime.strptime(snapshot_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def new_snapshot_id(store: Store) -> str:
    base = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    taken = set(store.snapshots())
    candidate, n = base, 1
    while candidate in taken or store.exists(f"{SNAPSHOTS}/{candidate}/{REGISTRY}"):
        candidate, n = f"{base}-{n}", n + 1
    return candidate


# ---------------------------------------------------------------------------------------------
# Backup


def version_files(client: Any, name: str, version: str, into: Path) -> dict[str, Path]:
    """The model files of one version, downloaded: {relative path: local file}."""
    import mlflow.artifacts

    uri = client.get_model_version_download_uri(name, version)
    target = into / f"{name}-{version}"
    target.mkdir(parents=True)
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target)))
    except Exception as exc:  # the source was deleted, or never had files (a registration without a model)
        if "RESOURCE_DOES_NOT_EXIST" in str(exc) or isinstance(exc, OSError):
            return {}
        raise
    if local.is_file():
        return {local.name: local}
    return {str(p.relative_to(local)): p for p in sorted(local.rglob("*")) if p.is_file()}


def source_of(client: Any, found: Any, run_uri: str | None) -> dict[str, Any]:
    """How a version's files are addressed: an MLflow 3 logged model, or a path in its run."""
    source = str(found.source or "")
    model_id = getattr(found, "model_id", None)
    if model_id and source.startswith("models:/"):
        logged = client.get_logged_model(model_id)
        return {
            "kind": "logged_model",
            "name": logged.name,
            "tags": {k: v for k, v in dict(logged.tags or {}).items() if not k.startswith("mlflow.")},
            "params": dict(logged.params or {}),
        }
    path = "model"
    if run_uri and source.startswith(f"{run_uri}/"):
        path = source.removeprefix(f"{run_uri}/")
    elif source.startswith("runs:/"):
        path = source.split("/", 3)[-1] if source.count("/") >= 3 else "model"
    return {"kind": "run", "path": path}


def collect(client: Any, models: list[str], scratch: Path, previous: dict[str, Any] | None) -> tuple[dict, dict]:
    """(registry document, {sha256: local file}) for `models`: what promotion and lineage read.

    A version already in the previous snapshot with the same source keeps its file list without
    a download (a version's files do not change); its blobs are checked to exist in the store."""
    from mlflow.exceptions import MlflowException

    from .registry import not_found

    known: dict[tuple[str, str, str], dict[str, str]] = {}
    for model in (previous or {}).get("models", []):
        for v in model["versions"]:
            known[(model["name"], v["version"], v["source_uri"])] = v["files"]
    document: dict[str, Any] = {"format": FORMAT, "models": [], "runs": {}}
    blobs: dict[str, Path] = {}
    experiments: dict[str, str] = {}
    for name in models:
        try:
            registered = client.get_registered_model(name)
        except MlflowException as exc:
            if not_found(exc):
                raise DrError(
                    f"model '{name}' is not in the registry: nothing to back up "
                    "(train first, or check params.yaml model.name)"
                ) from None
            raise
        found = client.search_model_versions(f"name = '{name}'", max_results=10000)
        versions = []
        for item in sorted(found, key=lambda v: int(v.version)):
            run_uri = None
            if item.run_id and item.run_id not in document["runs"]:
                document["runs"][item.run_id] = run_record(client, item.run_id, experiments)
            if item.run_id:
                run_uri = document["runs"][item.run_id]["artifact_uri"]
            source = str(item.source or "")
            cached = known.get((name, str(item.version), source))
            if cached is not None:
                files = cached
            else:
                files = {}
                for relative, local in version_files(client, name, str(item.version), scratch).items():
                    sha = sha256_file(local)
                    files[relative] = sha
                    blobs[sha] = local
            versions.append(
                {
                    "version": str(item.version),
                    "run_id": item.run_id or "",
                    "source_uri": source,
                    "source": source_of(client, item, run_uri),
                    "description": item.description or "",
                    "tags": dict(item.tags or {}),
                    "status": str(item.status or ""),
                    "created_ms": int(item.creation_timestamp or 0),
                    "files": files,
                }
            )
        document["models"].append(
            {
                "name": name,
                "description": registered.description or "",
                "tags": dict(registered.tags or {}),
                "aliases": {str(k): str(v) for k, v in dict(registered.aliases or {}).items()},
                "versions": versions,
            }
        )
    for record in document["runs"].values():
        record.pop("artifact_uri", None)  # only for source_of: the restored run gets its own
    return document, blobs


def run_record(client: Any, run_id: str, experiments: dict[str, str]) -> dict[str, Any]:
    found = client.get_run(run_id)
    info, data = found.info, found.data
    if info.experiment_id not in experiments:
        experiments[info.experiment_id] = client.get_experiment(info.experiment_id).name
    metrics = []
    for key in sorted(data.metrics):
        for point in client.get_metric_history(run_id, key):
            metrics.append([point.key, point.value, int(point.timestamp or 0), int(point.step or 0)])
    return {
        "experiment": experiments[info.experiment_id],
        "run_name": info.run_name or "",
        "status": str(info.status),
        "start_time": int(info.start_time or 0),
        "end_time": int(info.end_time or 0) or None,
        "params": dict(data.params),
        "metrics": metrics,
        "tags": dict(data.tags),
        "artifact_uri": info.artifact_uri,
    }


def backup(cfg: Project, url: str, models: list[str] | None = None) -> dict[str, Any]:
    """Write a new snapshot to `url` unless nothing changed; returns what happened."""
    store = Store(url)
    client = connect(cfg)
    names = models or [cfg.model_name]
    existing = store.snapshots()
    previous_id = existing[-1] if existing else None
    previous_doc, previous_sha, previous_blobs = None, None, {}
    if previous_id:
        manifest = json.loads(store.read(f"{SNAPSHOTS}/{previous_id}/{MANIFEST}"))
        previous_sha, previous_blobs = manifest["files"][REGISTRY]["sha256"], dict(manifest["blobs"])
        raw = store.read(f"{SNAPSHOTS}/{previous_id}/{REGISTRY}")
        if sha256_bytes(raw) == previous_sha:
            previous_doc = json.loads(raw)  # a damaged previous snapshot is not trusted as a cache
    with tempfile.TemporaryDirectory(prefix="dr-backup-") as tmp:
        document, downloaded = collect(client, names, Path(tmp), previous_doc)
        sizes: dict[str, int] = {}
        for model in document["models"]:
            for version in model["versions"]:
                for sha in version["files"].values():
                    if sha in downloaded:
                        sizes[sha] = downloaded[sha].stat().st_size
                    else:
                        sizes[sha] = int(previous_blobs.get(sha, -1))
        registry_bytes = dumps(document)
        missing = [sha for sha in sorted(sizes) if not store.exists(blob_path(sha))]
        versions = sum(len(m["versions"]) for m in document["models"])
        summary = {
            "models": len(document["models"]),
            "versions": versions,
            "runs": len(document["runs"]),
            "files": len(sizes),
        }
        if previous_id and sha256_bytes(registry_bytes) == previous_sha and not missing:
            print(
                f"backup: nothing new since snapshot {previous_id} ({summary['versions']} versions, "
                f"{summary['files']} files): nothing copied to {store.url}"
            )
            return {**summary, "snapshot": previous_id, "copied": 0, "new": False}
        absent = [sha for sha in missing if sha not in downloaded]
        if absent:  # listed by the previous snapshot, gone from the store and not downloaded now
            for model in document["models"]:
                for version in model["versions"]:
                    if set(version["files"].values()) & set(absent):
                        for _relative, local in version_files(
                            client, model["name"], version["version"], Path(tmp) / "again"
                        ).items():
                            downloaded[sha256_file(local)] = local
            if any(sha not in downloaded for sha in absent):
                raise DrError(
                    f"{len(absent)} model files of the last snapshot are missing from {store.url} and from the registry"
                )
        copied = 0
        for sha in missing:
            store.put(downloaded[sha], blob_path(sha))
            copied += sizes[sha]
        snapshot = new_snapshot_id(store)
        manifest = {
            "format": FORMAT,
            "snapshot": snapshot,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "models": names,
            "files": {REGISTRY: {"sha256": sha256_bytes(registry_bytes), "size": len(registry_bytes)}},
            "blobs": {sha: sizes[sha] for sha in sorted(sizes)},
        }
        store.put(registry_bytes, f"{SNAPSHOTS}/{snapshot}/{REGISTRY}")
        store.put(dumps(manifest), f"{SNAPSHOTS}/{snapshot}/{MANIFEST}")  # last: the snapshot now exists
    print(
        f"backup: snapshot {snapshot} in {store.url}: {summary['models']} model(s), {versions} versions, "
        f"{summary['runs']} runs; {len(missing)} files copied ({human(copied)}), "
        f"{len(sizes) - len(missing)} already there"
    )
    return {**summary, "snapshot": snapshot, "copied": len(missing), "new": True}


# ---------------------------------------------------------------------------------------------
# Restore


@dataclass
class Snapshot:
    """A verified snapshot, copied to a local folder."""

    id: str
    url: str
    created: datetime
    document: dict[str, Any]
    folder: Path

    def blob(self, sha: str) -> Path:
        return self.folder / blob_path(sha)


def locate(url: str) -> tuple[Store, str]:
    """(store, snapshot id) from a backup URL (its newest snapshot) or one snapshot's URL."""
    text = url.strip().rstrip("/")
    match = re.search(rf"^(.*)/{SNAPSHOTS}/([^/]+)$", text)
    if match:
        store = Store(match.group(1))
        if not store.exists(f"{SNAPSHOTS}/{match.group(2)}/{MANIFEST}"):
            raise DrError(
                f"{url} is not a complete snapshot (no {MANIFEST}): "
                f"`mlops-gitops dr list --from {match.group(1)}` lists them"
            )
        return store, match.group(2)
    store = Store(text)
    found = store.snapshots()
    if not found:
        raise DrError(
            f"{url} holds no backup (no {SNAPSHOTS}/<id>/{MANIFEST}): give the BACKUP_URL that `make backup` "
            f"wrote to, or one of its {SNAPSHOTS}/<id>"
        )
    return store, found[-1]


def fetch_verified(url: str, folder: Path) -> Snapshot:
    """Copy a snapshot and its blobs to `folder`, checking every checksum; raises before any write elsewhere."""
    store, snapshot_id = locate(url)
    prefix = f"{SNAPSHOTS}/{snapshot_id}"
    where = f"{store.url}/{prefix}"
    hint = f"restore an older snapshot (`mlops-gitops dr list --from {store.url}`); nothing was written"
    try:
        manifest = json.loads(store.read(f"{prefix}/{MANIFEST}"))
        expected = manifest["files"][REGISTRY]
        blobs = {str(k): int(v) for k, v in manifest["blobs"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DrError(f"the manifest of {where} is unreadable: {hint}") from None
    if manifest.get("format") != FORMAT:
        raise DrError(
            f"{where} is backup format {manifest.get('format')}, this package reads {FORMAT}: use its version"
        )
    raw = store.read(f"{prefix}/{REGISTRY}")
    if sha256_bytes(raw) != expected["sha256"]:
        raise DrError(f"bad checksum: {prefix}/{REGISTRY} does not match its manifest in {store.url}: {hint}")
    document = json.loads(raw)
    listed = {sha for m in document["models"] for v in m["versions"] for sha in v["files"].values()}
    if listed - set(blobs):
        raise DrError(
            f"the manifest of {where} lacks {len(listed - set(blobs))} model files that {REGISTRY} lists: {hint}"
        )
    for sha in sorted(listed):
        target = folder / blob_path(sha)
        if not store.exists(blob_path(sha)):
            raise DrError(f"{blob_path(sha)} is missing from {store.url}: {hint}")
        store.get(blob_path(sha), target)
        if sha256_file(target) != sha:
            raise DrError(f"bad checksum: {blob_path(sha)} in {store.url} is not the file its manifest lists: {hint}")
    try:
        created = datetime.fromisoformat(manifest["created"])
    except (KeyError, ValueError):
        created = snapshot_time(snapshot_id)
    return Snapshot(snapshot_id, f"{store.url}/{prefix}", created, document, folder)


def target_client(uri: str) -> Any:
    """A client of the store to restore into; a SQLite file is created if absent."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    else:
        preflight(uri)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def survey(client: Any, snapshot: Snapshot) -> dict[str, Any]:
    """What the target already holds; refuses (one line, nothing changed) anything but this snapshot."""
    from mlflow.entities import ViewType

    foreign: list[str] = []
    ours = {m["name"] for m in snapshot.document["models"]}
    models = {}
    for found in client.search_registered_models(max_results=1000):
        if found.name in ours and dict(found.tags or {}).get(TAG_SNAPSHOT) == snapshot.id:
            models[found.name] = found
        else:
            foreign.append(f"registered model '{found.name}'")
    runs: dict[str, Any] = {}
    experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=1000)
    ids = [e.experiment_id for e in experiments]
    stray = 0
    for start in range(0, len(ids), 100):
        for found in client.search_runs(ids[start : start + 100], max_results=50000):
            tags = found.data.tags
            if tags.get(TAG_SNAPSHOT) == snapshot.id and tags.get(TAG_SOURCE_RUN) in snapshot.document["runs"]:
                runs[tags[TAG_SOURCE_RUN]] = found
            else:
                stray += 1
    if stray:
        foreign.append(f"{stray} run(s) not restored from this snapshot")
    if foreign:
        raise DrError(
            f"the registry at {client.tracking_uri} is not empty ({', '.join(foreign[:3])}): restore only into an "
            "empty tracking store (a new SQLite file, or a fresh server); nothing was changed"
        )
    return {"models": models, "runs": runs}


def restore_run(
    client: Any, snapshot: Snapshot, source_id: str, record: dict[str, Any], artifact_location: str | None
) -> str:
    from mlflow.entities import Metric, Param

    experiment = client.get_experiment_by_name(record["experiment"])
    if experiment is None:
        experiment_id = client.create_experiment(record["experiment"], artifact_location=artifact_location)
    else:
        experiment_id = experiment.experiment_id
    tags = {**record["tags"], TAG_SOURCE_RUN: source_id, TAG_SNAPSHOT: snapshot.id}
    created = client.create_run(
        experiment_id, start_time=record["start_time"] or None, tags=tags, run_name=record["run_name"] or None
    )
    run_id = created.info.run_id
    params = [Param(k, str(v)) for k, v in sorted(record["params"].items())]
    metrics = [Metric(k, float(v), int(t), int(s)) for k, v, t, s in record["metrics"]]
    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start : start + 100])
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])
    client.set_terminated(run_id, status=record["status"] or "FINISHED", end_time=record["end_time"])
    client.set_tag(run_id, TAG_COMPLETE, "true")  # last: a run without it was interrupted
    return str(run_id)


def staged_files(snapshot: Snapshot, files: dict[str, str], into: Path) -> Path:
    """The version's files under their own names, in a fresh folder (for an artifact upload)."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    for relative, sha in files.items():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(snapshot.blob(sha), target)
    return into


def create_version(
    client: Any, snapshot: Snapshot, name: str, record: dict[str, Any], run_id: str | None, experiment_id: str
) -> str:
    """Upload one version's files and register it; returns the number MLflow gave it."""
    source = record["source"]
    staged = staged_files(snapshot, record["files"], snapshot.folder / "staging" / f"{name}-{record['version']}")
    tags = {
        **record["tags"],
        TAG_SOURCE_VERSION: record["version"],
        TAG_SNAPSHOT: snapshot.id,
        TAG_REGISTERED: datetime.fromtimestamp(record["created_ms"] / 1000, UTC).isoformat(timespec="seconds"),
    }
    model_id = None
    if source["kind"] == "logged_model":
        logged = client.create_logged_model(
            experiment_id, name=source["name"], source_run_id=run_id, tags=source["tags"] or None,
            params=source["params"] or None,
        )  # fmt: skip
        if record["files"]:
            client.log_model_artifacts(logged.model_id, str(staged))
        client.finalize_logged_model(logged.model_id, "READY")
        model_id, uri = logged.model_id, f"models:/{logged.model_id}"
    else:
        if record["files"] and run_id:
            client.log_artifacts(run_id, str(staged), source["path"])
        base = client.get_run(run_id).info.artifact_uri if run_id else str(staged)
        uri = f"{base}/{source['path']}"
    created = client.create_model_version(
        name, uri, run_id=run_id, tags=tags, description=record["description"] or None, model_id=model_id
    )
    return str(created.version)


def restore(url: str, tracking_uri: str, artifact_location: str | None, *, quiet: bool = False) -> dict[str, Any]:
    """Rebuild the snapshot's models, versions, runs and aliases into an empty store at `tracking_uri`."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dr-restore-") as tmp:
        snapshot = fetch_verified(url, Path(tmp))
        client = target_client(tracking_uri)
        there = survey(client, snapshot)  # refuses a foreign registry before any write
        runs: dict[str, str] = {}
        created = 0
        for source_id, record in snapshot.document["runs"].items():
            found = there["runs"].get(source_id)
            if found is not None and found.data.tags.get(TAG_COMPLETE) == "true":
                runs[source_id] = found.info.run_id
                continue
            if found is not None:  # interrupted: start it again
                client.delete_run(found.info.run_id)
            runs[source_id] = restore_run(client, snapshot, source_id, record, artifact_location)
            created += 1
        differences: dict[str, dict[str, str]] = {}
        new_versions = 0
        for model in snapshot.document["models"]:
            name = model["name"]
            if name not in there["models"]:
                client.create_registered_model(
                    name, tags={**model["tags"], TAG_SNAPSHOT: snapshot.id}, description=model["description"] or None
                )
            existing = {str(v.version): v for v in client.search_model_versions(f"name = '{name}'", max_results=10000)}
            numbers: dict[str, str] = {
                v.tags[TAG_SOURCE_VERSION]: str(v.version) for v in existing.values() if TAG_SOURCE_VERSION in v.tags
            }
            placeholders = [n for n, v in existing.items() if v.tags.get(TAG_PLACEHOLDER) == "true"]
            for record in model["versions"]:
                if record["version"] in numbers:
                    continue
                run_id = runs.get(record["run_id"]) if record["run_id"] else None
                experiment_id = (
                    client.get_run(run_id).info.experiment_id
                    if run_id
                    else client.get_experiment_by_name("Default").experiment_id
                )
                # MLflow gives the next number: a gap (a deleted version) is filled by a placeholder.
                highest = max((int(n) for n in [*existing, *numbers.values(), *placeholders]), default=0)
                while highest + 1 < int(record["version"]):
                    placeholder = client.create_model_version(
                        name, f"{snapshot.url}#placeholder", tags={TAG_PLACEHOLDER: "true", TAG_SNAPSHOT: snapshot.id}
                    )
                    placeholders.append(str(placeholder.version))
                    highest = int(placeholder.version)
                numbers[record["version"]] = create_version(client, snapshot, name, record, run_id, experiment_id)
                new_versions += 1
            for number in placeholders:
                client.delete_model_version(name, number)
            for alias, version in sorted(model["aliases"].items()):
                client.set_registered_model_alias(name, alias, numbers[version])
            moved = {old: new for old, new in numbers.items() if old != new}
            if moved:
                differences[name] = moved
                client.set_registered_model_tag(name, TAG_VERSION_MAP, json.dumps(moved, sort_keys=True))
            verify(client, model, numbers)
    seconds = time.monotonic() - started
    versions = sum(len(m["versions"]) for m in snapshot.document["models"])
    report = {
        "snapshot": snapshot.id,
        "created": snapshot.created,
        "runs": runs,
        "differences": differences,
        "seconds": seconds,
        "versions": versions,
        "changed": created + new_versions,
    }
    if not quiet:
        print(restore_line(report, tracking_uri, snapshot.document))
    return report


def restore_line(report: dict[str, Any], uri: str, document: dict[str, Any]) -> str:
    if not report["changed"]:
        return f"restore: {uri} already holds snapshot {report['snapshot']}: nothing to do"
    aliases = ", ".join(f"{m['name']}@{a}" for m in document["models"] for a in sorted(m["aliases"])) or "none"
    numbers = (
        "version numbers differ, recorded in tag dr.version_map: "
        + "; ".join(f"{m}: " + ", ".join(f"v{o}->v{n}" for o, n in d.items()) for m, d in report["differences"].items())
        if report["differences"]
        else "version numbers preserved"
    )
    return (
        f"restore: snapshot {report['snapshot']} into {uri} in {report['seconds']:.1f} s: "
        f"{len(document['models'])} model(s), {report['versions']} versions ({numbers}), "
        f"{len(report['runs'])} runs, aliases {aliases}"
    )


def verify(client: Any, model: dict[str, Any], numbers: dict[str, str]) -> None:
    """Read back what was restored: aliases, version tags and descriptions."""
    name = model["name"]
    aliases = {str(k): str(v) for k, v in dict(client.get_registered_model(name).aliases or {}).items()}
    wanted = {alias: numbers[version] for alias, version in model["aliases"].items()}
    if aliases != wanted:
        raise DrError(
            f"restored '{name}' has aliases {aliases}, the backup {wanted}: restore into a new empty store again"
        )
    for record in model["versions"]:
        found = client.get_model_version(name, numbers[record["version"]])
        tags = {k: v for k, v in dict(found.tags or {}).items() if k not in DR_TAGS}
        if tags != record["tags"] or (found.description or "") != record["description"]:
            raise DrError(f"restored '{name}' v{found.version} differs from the backup in its tags or description")


# ---------------------------------------------------------------------------------------------
# The drill


@contextmanager
def tracking(uri: str) -> Iterator[None]:
    """MLFLOW_TRACKING_URI (what Project.tracking_uri and MLflow read) set to `uri` for a while."""
    import mlflow

    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)  # exports MLFLOW_TRACKING_URI; None unsets it
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]
        mlflow.set_registry_uri(previous)  # type: ignore[arg-type]


def predict(uri: str, reference: str, data: Path) -> Any:
    """Predictions of `reference` (models:/name@alias) from the registry at `uri` on the CSV `data`."""
    import mlflow
    import numpy as np
    import pandas as pd

    with tracking(uri):
        model = mlflow.pyfunc.load_model(reference)
    frame = pd.read_csv(data)
    schema = model.metadata.get_input_schema()
    if schema is not None and schema.has_input_names():
        frame = frame[[str(n) for n in schema.input_names()]]
    out = model.predict(frame)
    return np.asarray(out.to_numpy() if hasattr(out, "to_numpy") else out)


def row_bytes(row: Any) -> bytes:
    """One prediction as bytes, with its type: equal bytes are a bit-identical prediction."""
    import numpy as np

    value = np.asarray(row)
    body = repr(value.tolist()).encode() if value.dtype == object else value.tobytes()
    return value.dtype.str.encode() + b":" + body


def identical_rows(before: Any, after: Any) -> int:
    if before.shape != after.shape or before.dtype != after.dtype:
        return 0
    return sum(1 for a, b in zip(before, after, strict=True) if row_bytes(a) == row_bytes(b))


def scratch_workspace(root: Path, folder: Path, replica: str) -> Any:
    """A DVC workspace in `folder` with the project's pipeline and .dvc files, a fresh cache, and one
    reachable remote: the replica. Every other remote points at a folder that does not exist."""
    from dvc.config import Config

    from .storage import SKIPPED, read_remote

    remote = read_remote(root, replica)
    project_remotes = Config(dvc_dir=str(root / ".dvc")).get("remote", {})
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q", "--no-scm"], cwd=folder, check=True)
    for name in ("dvc.yaml", "dvc.lock", "params.yaml", ".dvcignore"):
        if (root / name).is_file():
            shutil.copyfile(root / name, folder / name)
    for dvc_file in sorted(root.rglob("*.dvc")):
        relative = dvc_file.relative_to(root)
        if dvc_file.is_file() and not SKIPPED & set(relative.parts[:-1]):
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dvc_file, folder / relative)
    config = Config(dvc_dir=str(folder / ".dvc"))
    with config.edit("repo") as conf:
        conf["core"]["remote"] = replica
        conf["core"]["analytics"] = False
        for name in project_remotes:
            if name != replica:
                conf["remote"][name] = {"url": str(folder / "unreachable-primary" / name)}
        conf["remote"][replica] = {"url": remote.url, **remote.options}
    return remote


def tracked_files(folder: Path) -> dict[str, str]:
    """{relative path: md5} of every file a cached DVC output of `folder` holds."""
    from dvc.repo import Repo

    files: dict[str, str] = {}
    with Repo(str(folder)) as repo:
        for out in repo.index.outs:
            if not out.use_cache:
                continue
            path = Path(out.fs_path)
            for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
                if item.is_file() or not item.exists():
                    files[str(item.relative_to(folder))] = lineage.file_md5(item) if item.exists() else ""
    return files


def pull_replica(root: Path, folder: Path, replica: str) -> tuple[Any, dict[str, str]]:
    """`dvc pull` from the replica alone into the scratch workspace; {file: md5} pulled."""
    from .storage import endpoint, probe

    remote = scratch_workspace(root, folder, replica)
    where = endpoint(remote)
    if where:
        probe(where)
    done = subprocess.run(
        [sys.executable, "-m", "dvc", "pull", "--remote", replica],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    log = folder / "dvc-pull.log"
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    files = tracked_files(folder)
    missing = sorted(f for f, md5 in files.items() if not md5)
    if done.returncode != 0 or missing:
        what = f"{len(missing)} tracked files ({', '.join(missing[:3])})" if missing else "some data"
        raise DrError(
            f"dvc pull from the replica remote '{replica}' ({remote.url}) did not restore {what}: the replica is "
            f"behind or unreachable (outputs never pushed? on a laptop `make push DVC_REMOTE=local`, then copy "
            f".dvc-storage to it; in the cloud `make push`, then check replication: {RUNBOOK})"
        )
    return remote, files


def compare_data(root: Path, folder: Path, files: dict[str, str]) -> list[str]:
    """Files pulled from the replica that differ from the workspace (or, where the workspace lacks
    them, from the md5 DVC recorded)."""
    from dvc.repo import Repo

    recorded: dict[str, str] = {}
    with Repo(str(folder)) as repo:
        for out in repo.index.outs:
            if out.use_cache and out.hash_info and out.hash_info.value and not out.hash_info.isdir:
                recorded[str(Path(out.fs_path).relative_to(folder))] = str(out.hash_info.value)
    differ = []
    for relative, md5 in files.items():
        mine = root / relative
        if mine.is_file():
            if sha256_file(mine) != sha256_file(folder / relative):
                differ.append(relative)
        elif relative in recorded and recorded[relative] != md5:
            differ.append(relative)
    return sorted(differ)


def comparable(chain: dict[str, Any], run_map: dict[str, str]) -> dict[str, Any]:
    """A lineage chain without what a restore cannot keep: the run id (mapped) and registration time."""
    same = json.loads(json.dumps(chain))
    same["run"]["id"] = run_map.get(same["run"]["id"], same["run"]["id"])
    same.pop("registered", None)
    return same


def drill(cfg: Project, backup_url: str, replica: str, test_data: str, keep: bool = False) -> dict[str, Any]:
    """Back up, restore into scratch, pull from the replica, compare; prints the figures; raises on a difference."""
    from mlflow.exceptions import MlflowException

    model = cfg.model_name
    reference = f"models:/{model}@{CHAMPION}"
    client = connect(cfg)
    try:
        champion = str(client.get_model_version_by_alias(model, CHAMPION).version)
    except MlflowException:
        raise DrError(
            f"'{model}' has no {CHAMPION} yet: promote a version first (docs/promotion.md), then drill"
        ) from None
    data = cfg.path(test_data)
    if not data.is_file():
        raise DrError(f"{test_data} is missing: run `make pipeline` first (the drill predicts on the test split)")
    print(f"dr-drill: 1/4 before: {model} v{champion} is {CHAMPION}; predicting on {test_data}")
    live_uri = cfg.tracking_uri
    before = predict(live_uri, reference, data)
    chain_before = lineage.chain(cfg, f"{model}@{CHAMPION}")

    print(f"dr-drill: 2/4 backup to {backup_url}")
    backup(cfg, backup_url)

    scratch = Path(tempfile.mkdtemp(prefix="dr-drill-"))
    store_uri = f"sqlite:///{scratch / 'mlflow.db'}"
    try:
        print(
            f"dr-drill: 3/4 wipe: empty tracking store {store_uri}, empty DVC cache in {scratch / 'workspace'}, "
            f"every remote but '{replica}' unreachable"
        )
        started = time.monotonic()
        restored = restore(backup_url, store_uri, (scratch / "mlartifacts").as_uri())
        registry_seconds = time.monotonic() - started
        (scratch / "workspace").mkdir()
        remote, files = pull_replica(cfg.root, scratch / "workspace", replica)
        rto = time.monotonic() - started
        rpo = (datetime.now(UTC) - restored["created"]).total_seconds()
        print(
            f"dr-drill: 4/4 compare: {reference} from the restored registry, "
            f"data from replica '{replica}' ({remote.url})"
        )
        pulled = scratch / "workspace" / test_data
        after = predict(store_uri, reference, pulled if pulled.is_file() else data)
        same = identical_rows(before, after)
        with tracking(store_uri):
            chain_after = lineage.chain(cfg, f"{model}@{CHAMPION}")
        reverse = {new: old for old, new in restored["runs"].items()}
        lineage_same = comparable(chain_after, reverse) == comparable(chain_before, {})
        differ = compare_data(cfg.root, scratch / "workspace", files)
        size = sum((scratch / "workspace" / f).stat().st_size for f in files)
        rows = len(before)
        print(f"  RTO: {rto:.1f} s (registry {registry_seconds:.1f} s, data {rto - registry_seconds:.1f} s)")
        print(f"  RPO: {age(rpo)} (age of the newest backup, snapshot {restored['snapshot']})")
        print(f"  predictions identical: {same}/{rows}")
        print(
            f"  lineage identical: {'yes' if lineage_same else 'NO'} ({model} v{chain_after['version']}, run "
            f"{chain_before['run']['id']} restored as {chain_after['run']['id']})"
        )
        print(
            f"  data identical: {len(files) - len(differ)}/{len(files)} tracked files ({human(size)}) from '{replica}'"
        )
        if same != rows or before.size == 0:
            raise DrError(
                f"predictions differ after restore: {rows - same}/{rows} rows; "
                f"the backup does not hold the champion as served ({RUNBOOK})"
            )
        if not lineage_same:
            changed = sorted(
                k
                for k in chain_before
                if comparable(chain_before, {}).get(k) != comparable(chain_after, reverse).get(k)
            )
            raise DrError(f"lineage of {model}@{CHAMPION} differs after restore ({', '.join(changed)}): see {RUNBOOK}")
        if differ:
            raise DrError(
                f"{len(differ)} files pulled from replica '{replica}' differ from the workspace "
                f"({', '.join(differ[:3])}): "
                f"the replica is corrupt or behind; see {RUNBOOK}"
            )
        print(f"dr-drill: passed: recovered in {rto:.1f} s with nothing lost since the last backup ({age(rpo)} old)")
        return {"rto": rto, "rpo": rpo, "identical": same, "rows": rows, "files": len(files)}
    finally:
        if keep:
            print(f"dr-drill: kept the scratch store and workspace in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def list_snapshots(url: str) -> None:
    store = Store(url)
    found = store.snapshots()
    if not found:
        raise DrError(f"{url} holds no backup yet: run `make backup` (BACKUP_URL={url})")
    now = datetime.now(UTC)
    for snapshot in found:
        manifest = json.loads(store.read(f"{SNAPSHOTS}/{snapshot}/{MANIFEST}"))
        print(
            f"{store.url}/{SNAPSHOTS}/{snapshot}  {age((now - snapshot_time(snapshot)).total_seconds())} old, "
            f"{len(manifest['blobs'])} files"
        )


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="mlops-gitops dr", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    one = sub.add_parser("backup", help="copy the registry to BACKUP_URL, incrementally")
    one.add_argument("--to", default=os.environ.get("BACKUP_URL", ""), help="backup location (default: $BACKUP_URL)")
    one.add_argument("--model", action="append", help="registered model (default: params.yaml model.name)")
    two = sub.add_parser("restore", help="rebuild the registry from a backup into an empty store")
    two.add_argument(
        "--from", dest="source", default=os.environ.get("FROM", ""), help="backup URL or its snapshots/<id>"
    )
    two.add_argument("--into", default="", help="tracking URI (default: MLFLOW_TRACKING_URI, else mlflow.db here)")
    three = sub.add_parser("drill", help="prove recovery end to end in a scratch folder")
    three.add_argument(
        "--backup", default=os.environ.get("BACKUP_URL", ""), help="backup location (default: $BACKUP_URL)"
    )
    three.add_argument(
        "--replica", default=os.environ.get("DR_REMOTE") or DEFAULT_REPLICA, help="DVC remote of the replica"
    )
    three.add_argument("--test-data", default=DEFAULT_TEST_DATA, help="CSV the predictions are compared on")
    three.add_argument("--keep", action="store_true", help="keep the scratch store and workspace")
    four = sub.add_parser("list", help="the snapshots of a backup")
    four.add_argument("--from", dest="source", default=os.environ.get("BACKUP_URL", ""))
    args = top.parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow  # noqa: F401  (it configures its loggers on import: quiet them afterwards)

    quiet_mlflow()

    def restore_command() -> None:
        if not args.source.strip():
            raise DrError(
                "FROM is missing: make restore FROM=<backup URL, or its snapshots/<id>> (`make backup` prints it)"
            )
        cfg = load()
        into = args.into or cfg.tracking_uri
        artifacts = cfg.artifact_location if not args.into else os.environ.get("MLFLOW_ARTIFACT_LOCATION")
        if into.startswith("sqlite:///") and not os.environ.get("MLFLOW_ARTIFACT_LOCATION"):
            artifacts = (Path(into.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
        restore(args.source, into, artifacts)

    def backup_command() -> None:
        if not args.to.strip():
            raise DrError("BACKUP_URL is empty: make backup BACKUP_URL=<folder, s3://, gs:// or azure:// URL>")
        backup(load(), args.to, args.model)

    def drill_command() -> None:
        if not args.backup.strip():
            raise DrError("BACKUP_URL is empty: make dr-drill BACKUP_URL=<folder, s3://, gs:// or azure:// URL>")
        drill(load(), args.backup, args.replica, args.test_data, args.keep)

    actions = {
        "backup": backup_command,
        "restore": restore_command,
        "drill": drill_command,
        "list": lambda: list_snapshots(args.source),
    }
    return run(actions[args.command], f"dr {args.command}")


if __name__ == "__main__":
    sys.exit(main())
