"""Runs in the generated project's environment: one JSON request per line on stdin,
{"argv": [...], "env": {...}}, each answered with {"code", "out", "err"} on stdout after calling
the project's `promote.main(argv)` in this process (with `env` added for that call only)."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
from pathlib import Path

project = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(project / "src"))
os.chdir(project)
package = next(project.glob("src/*/promote.py")).parent.name
promote = importlib.import_module(f"{package}.promote")
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
