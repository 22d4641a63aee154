"""The `hubtool` command line: the only place that prints, draws progress or reads the terminal.

Each command parses its options, builds the library's objects, calls the
library, and renders what it returns (about 20 lines each).  `app.handled` is
the one place where a HubtoolError becomes a message and exit code 2.
Nothing imports this package; it imports every part.  Heavy modules are
imported inside the commands that need them, so that `hubtool check` (the
pre-commit hook) starts fast.
"""

from __future__ import annotations

# isort: off
# importing a command module registers its commands; this order is the order of `hubtool --help`
from . import check, assets, inspect, store, golden, publish, runtime  # noqa: F401
# isort: on
from .app import app, main

__all__ = ["app", "main"]
