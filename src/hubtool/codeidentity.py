"""hubtool's own files as installed, as one digest: what a cache of hubtool's own results is keyed on.

An edited checkout is another program, whatever its version says: a remembered publish run
(publish/unchanged.py) and a settings file kept as read (settingsmemo.py) are only trusted by the
same files.  Their statuses (size, mtime, ctime) stand for their bytes, as the cards' do: ~1 ms for
hubtool's ~160 files, once per process.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from . import __version__


@lru_cache(maxsize=1)
def code_identity() -> str:
    """A digest of hubtool's version and its files' paths and statuses (`__pycache__` left out)."""
    root = str(Path(__file__).resolve().parent)
    digest = hashlib.sha256(__version__.encode())
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = os.path.join(folder, name)
            rel = path[len(root) + 1:]  # os.walk's paths start with root: relpath's work was half of this
            try:
                st = os.lstat(path)
                found.append(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n")
            except OSError:  # gone while listed: the next run sees another program, which is right
                found.append(f"{rel}\0?\n")
    for line in sorted(found):
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
