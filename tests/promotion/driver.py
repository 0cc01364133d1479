"""Runs in the generated project's environment: one JSON request per line on stdin,
{"argv": [...], "env": {...}}, each answered with {"code", "out", "err"} on stdout after calling
`mlops_gitops.promote.main(argv)`, the project's `make promote`, in this process (with `env` added
for that call only)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

from mlops_gitops import promote

project = Path(sys.argv[1]).resolve()
os.chdir(project)
answers = sys.stdout
sys.stdout = sys.stderr  # nothing but answers on the protocol stream

for line in sys.stdin:
    request = json.loads(line)
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
