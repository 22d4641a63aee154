"""Where hubtool keeps its own files on this machine (no imports beyond the standard library's os and
pathlib: the runtime worker is started from here before anything heavy is loaded)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """hubtool's cache: $HUBTOOL_HOME, else $XDG_CACHE_HOME/hubtool, else ~/.cache/hubtool."""
    if os.environ.get("HUBTOOL_HOME"):
        return Path(os.environ["HUBTOOL_HOME"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "hubtool"
    return Path.home() / ".cache" / "hubtool"
