"""Entry point: `python -m tfcheck PATH...` (with tools/ on PYTHONPATH) or `python tools/tfcheck PATH...`."""

import os
import sys

if not __package__:
    # Run as `python tools/tfcheck`: make the package importable by its name.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tfcheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
