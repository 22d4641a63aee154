"""Runtimes: every model runs behind the `Runtime`/`Session` protocol (`protocol`), chosen by `registry`.

`mslite/` is MindSpore Lite 2.0.0 in a managed CPython 3.7 env, one worker
process per asset (`mslite/worker.py` runs *inside* that env); `onnx` is ONNX
Runtime in-process (an optional extra).  May import: `hubtool.assets`, `hubtool.cards`
and the floor; never legacy, golden, publish or cli.
"""
