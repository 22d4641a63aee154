"""Runtimes that can run a model asset, keyed by the card's `file-format`.

`mslite` and `mindir` run in MindSpore Lite (a CPython 3.7 worker process);
`ckpt`, `air` and `geir` cannot run alone and are verified by hash and
inspection only.
"""

from __future__ import annotations

#: file-format -> runtime name
RUNTIME_FOR_FORMAT = {"mslite": "mindspore-lite", "mindir": "mindspore-lite", "onnx": "onnxruntime"}
#: formats that no runtime runs by themselves
NOT_RUNNABLE = frozenset({"ckpt", "air", "geir"})
