"""MindSpore Lite 2.0.0: the managed CPython 3.7 env (`env`), the worker client (`client`), the Runtime (`session`).

`worker.py` is not imported by hubtool: it runs inside the 3.7 env (Python 3.7 syntax only).
"""
