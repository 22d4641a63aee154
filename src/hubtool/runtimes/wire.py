"""The worker side of the runtime protocol: runs INSIDE the runtime envs (CPython 3.7 and 3.11; stdlib + numpy).

Every worker script (mslite/worker.py, mindspore/worker.py) loads this file by its path, not by
import: a worker's sys.path must not hold hubtool's source folders, whose module names (env,
session, onnx...) would shadow the packages a model's code imports.

Protocol (requests on stdin, responses on a private duplicate of the original
stdout): each message is a 4-byte big-endian header length, a UTF-8 JSON
header, then the raw little-endian bytes of the tensors the header lists
(`"tensors": [{"name", "dtype", "shape", "nbytes"}]`, in order).

Before any runtime is imported, fd 1 is moved away (native code prints to
stdout and would corrupt the protocol), native logs go to the per-worker log
(fd 2, chosen by the client), and RLIMIT_AS and RLIMIT_CORE bound what a
hostile model file can do to the machine.

Failures are answered as data: the Python exception and the native error
lines logged while the request ran.
"""
# Python 3.7 syntax only: a test compiles this file with the 3.7 interpreter.

import json
import os
import resource
import struct
import sys
import traceback

PROTOCOL = 1


def die_with_parent():
    """SIGKILL this worker when hubtool dies, however it dies (SIGKILL included): no busy worker runs on
    with nobody to read it.  Linux clears the setting on some credential changes (a sandbox entering a
    user namespace calls this again), and it fires when the *thread* that started the worker ends, so
    hubtool starts every worker from one thread that lives as long as it does (spawn.py)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        return  # not Linux: the parent's end of the pipe closing still ends an idle worker
    parent = os.environ.get("HUBTOOL_PARENT_PID", "")
    if parent.isdigit() and os.getppid() != int(parent):
        os._exit(1)  # hubtool died before the setting was in place


def setup():
    """Everything that must happen before a runtime is imported; returns the response stream."""
    die_with_parent()
    out_fd = os.dup(1)
    os.dup2(2, 1)  # whatever native code prints to stdout lands in the log
    limit = int(os.environ.get("HUBTOOL_WORKER_RLIMIT_AS", str(2 * 1024 ** 3)))
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ.setdefault("GLOG_v", "3")  # errors only
    os.environ.setdefault("GLOG_logtostderr", "1")
    scratch = os.environ.get("HUBTOOL_WORKER_SCRATCH")
    if scratch and os.path.isdir(scratch):
        os.chdir(scratch)  # files a runtime writes beside "the current folder" land in the worker's scratch
    return os.fdopen(out_fd, "wb", buffering=0)


def _read_exact(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_message(stream):
    raw = _read_exact(stream, 4)
    if raw is None:
        return None, []
    (length,) = struct.unpack(">I", raw)
    header = json.loads(_read_exact(stream, length).decode("utf-8"))
    import numpy as np

    arrays = []
    for spec in header.get("tensors", []):
        data = _read_exact(stream, int(spec["nbytes"])) if spec["nbytes"] else b""
        wire = np.dtype(spec["dtype"]).newbyteorder("<")
        # native byte order matters: MindSpore Lite's set_data_from_numpy() given an explicit '<f4' dtype
        # logs "Expect data type 43, but got 0" and computes on garbage instead of failing
        arrays.append(np.frombuffer(data, dtype=wire).astype(np.dtype(spec["dtype"])).reshape(spec["shape"]))
    return header, arrays


def write_message(stream, header, arrays=()):
    specs = []
    payload = []
    for name, array in arrays:
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        specs.append({"name": name, "dtype": str(array.dtype), "shape": list(array.shape),
                      "nbytes": int(little.nbytes)})
        payload.append(little.tobytes())
    header = dict(header, tensors=specs)
    body = json.dumps(header).encode("utf-8")
    stream.write(struct.pack(">I", len(body)) + body + b"".join(payload))


def native_errors(log_path, since):
    """The error lines native code logged since offset `since` of the worker's log."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(since)
            text = fh.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if "[ERROR]" in line or "ERROR" in line[:16]][-20:]


def log_offset(log_path):
    try:
        sys.stderr.flush()
        return os.path.getsize(log_path)
    except OSError:
        return 0


def _error(exc, native):
    error = {"type": type(exc).__name__, "message": str(exc), "native": native}
    if isinstance(exc, MemoryError):
        error["message"] = "out of memory under the worker's address-space limit: %s" % exc
    else:
        error["traceback"] = traceback.format_exc(limit=3)
    details = getattr(exc, "details", None)  # structured facts a worker attaches (e.g. mismatched parameters)
    if isinstance(details, dict):
        error["details"] = details
    return error


def serve(worker, requests, responses, log_path):
    """Answer requests with the worker's `op_<name>(header, arrays)` methods until EOF (the client is gone)."""
    while True:
        header, arrays = read_message(requests)
        if header is None:  # hubtool closed the pipe (it kills a worker it is done with: process.close)
            return
        start = log_offset(log_path)
        handler = getattr(worker, "op_" + str(header.get("op")), None)
        try:
            if handler is None:
                raise ValueError("unknown operation %r" % header.get("op"))
            result, out = handler(header, arrays)
            write_message(responses, dict(result, ok=True, id=header.get("id")), out)
        except BaseException as exc:  # every failure goes back as data, a model's code calling exit() too
            write_message(responses, {"ok": False, "id": header.get("id"),
                                      "error": _error(exc, native_errors(log_path, start))})
