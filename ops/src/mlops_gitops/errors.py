"""The one-line error rule shared by every command: a known failure prints one line, exit 1."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable


class CommandError(Exception):
    """The command cannot go on; the message names the problem and the fix."""


def quiet_mlflow() -> None:
    """MLflow's own warnings (e.g. request-header plugins) would bury the one line a command prints."""
    logging.getLogger("mlflow").setLevel(logging.ERROR)


def _unexpected(exc: Exception) -> bool:
    """Errors of the tools underneath (MLflow, the network, files) are reported in one line too;
    anything else is a bug and keeps its traceback."""
    if isinstance(exc, OSError | KeyError | ValueError | TypeError):
        return False
    try:
        from mlflow.exceptions import MlflowException
    except ImportError:
        return True
    return not isinstance(exc, MlflowException)


def run(main: Callable[[], object], name: str) -> int:
    """Call `main()`; on a known failure print `name: message` on stderr and return 1."""
    try:
        main()
    except CommandError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if _unexpected(exc):
            raise
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        print(f"{name}: {exc.__class__.__name__}: {first[:300]}", file=sys.stderr)
        return 1
    return 0


def main_of(main: Callable[[], object], name: str) -> None:
    """`run()` for a `__main__` block: exits with its code."""
    code = run(main, name)
    if code:
        raise SystemExit(code)
