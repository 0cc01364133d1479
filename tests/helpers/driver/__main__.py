"""Runs in the generated project's environment: one JSON request per line on stdin, answered by
one JSON line on stdout:

- {"argv": [...], "env": {...}} -> {"code", "out", "err"}: `mlops_gitops.promote.main(argv)`, the
  project's `make promote`, in this process (with `env` added for that call only);
- {"register": {...}} -> {"version"}: `mlops_gitops.testing.register_candidate` with those options,
  for the model that the project's params.yaml names now."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

from mlflow import MlflowClient

from mlops_gitops import promote
from mlops_gitops.project import load
from mlops_gitops.testing import register_candidate

project = Path(sys.argv[1]).resolve()
os.chdir(project)
answers = sys.stdout
sys.stdout = sys.stderr  # nothing but answers on the protocol stream

for line in sys.stdin:
    request = json.loads(line)
    if "register" in request:
        client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
        version = register_candidate(client, load(project), **request["register"])
        answers.write(json.dumps({"version": version}) + "\n")
        answers.flush()
        continue
    saved = dict(os.environ)
    os.environ.update(request.get("env") or {})
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = promote.main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    os.environ.clear()
    os.environ.update(saved)
    answers.write(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}) + "\n")
    answers.flush()
