"""The typer application with every command registered (imported only when a command line needs typer)."""

from __future__ import annotations

# isort: off
# importing a command module registers its commands; this order is the order of `hubtool --help`
from . import check, assets, inspect, store, golden, publish, runtime  # noqa: F401
# isort: on
from .app import app

__all__ = ["app"]
