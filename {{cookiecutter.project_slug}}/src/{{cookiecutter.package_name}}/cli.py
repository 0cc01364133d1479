"""Shared entry-point behaviour: a known failure prints one line and exits 1, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from .settings import ConfigError


class StageError(Exception):
    """The stage cannot go on; the message names the problem and the fix."""


def run(main: Callable[[], None], name: str) -> None:
    try:
        main()
    except (StageError, ConfigError, FileNotFoundError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
