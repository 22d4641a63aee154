"""MindSpore Lite 1.0 / 1.1 (.ms "v0" schema) -> MSL2 translator (pure Python: flatbuffers + numpy).

Runtime 2.0.0 loads only MSL2 files; runtimes 1.2-1.6 read v0 files through a
load-time shim that was removed in 1.7, and no tool ever rewrote them.  The
graph, node and tensor tables kept their slot layout, so tensor data copies
unchanged; each operator's primitive is re-encoded, and attributes that became
inputs in MSL2 are added as int32 constant tensors.  Facts: ../shared/LEGACY-MS.md.

`upgrade` is the entry point (analyse, translate a file); `store_translation`
puts translations into a directory store.  May import: `hubtool.assets` (the
store), `hubtool.cards` and the floor; never runtimes, golden, publish or cli.
"""

from __future__ import annotations

TRANSLATOR_VERSION = "1"
