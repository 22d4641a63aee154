"""MindSpore Lite worker: runs INSIDE the CPython 3.7 runtime env (stdlib + numpy + mindspore_lite).

Protocol (requests on stdin, responses on a private duplicate of the original
stdout): each message is a 4-byte big-endian header length, a UTF-8 JSON
header, then the raw little-endian bytes of the tensors the header lists
(`"tensors": [{"name", "dtype", "shape", "nbytes"}]`, in order).

Before mindspore_lite is imported, fd 1 is moved away (native code prints to
stdout and would corrupt the protocol), native logs go to the per-worker log
(fd 2, chosen by the client), GLOG_v keeps them to errors, and RLIMIT_AS and
RLIMIT_CORE bound what a hostile model file can do to the machine.

Failures are answered as data: the Python exception and the native [ERROR]
lines logged while the request ran (the exception alone is always
"Common error code").
"""
# Python 3.7 syntax only: a test compiles this file with the 3.7 interpreter.

import json
import os
import resource
import struct
import sys
import time
import traceback

PROTOCOL = 1
DTYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "FLOAT64": "float64", "INT8": "int8", "INT16": "int16",
          "INT32": "int32", "INT64": "int64", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32",
          "UINT64": "uint64", "BOOL": "bool"}


def _setup():
    """Everything that must happen before mindspore_lite is imported; returns the response stream."""
    out_fd = os.dup(1)
    os.dup2(2, 1)  # whatever native code prints to stdout lands in the log
    limit = int(os.environ.get("HUBTOOL_WORKER_RLIMIT_AS", str(2 * 1024 ** 3)))
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ.setdefault("GLOG_v", "3")  # errors only
    os.environ.setdefault("GLOG_logtostderr", "1")
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
        # native byte order matters: set_data_from_numpy() given an explicit '<f4' dtype logs
        # "Expect data type 43, but got 0" and computes on garbage instead of failing
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


class Worker:
    def __init__(self, log_path):
        self.log_path = log_path
        self.model = None
        self.inputs = None
        self.mslite = None

    def native_errors(self, since):
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(since)
                text = fh.read(1 << 20).decode("utf-8", "replace")
        except OSError:
            return []
        return [line.strip() for line in text.splitlines() if "[ERROR]" in line or "ERROR" in line[:16]][-20:]

    def log_offset(self):
        try:
            sys.stderr.flush()
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def op_hello(self, header, arrays):
        import mindspore_lite
        import numpy

        return {"protocol": PROTOCOL, "python": sys.version.split()[0], "numpy": numpy.__version__,
                "mindspore_lite": mindspore_lite.__version__, "pid": os.getpid()}, []

    def op_load(self, header, arrays):
        import mindspore_lite as mslite

        self.mslite = mslite
        path = header["path"]
        if not os.path.isfile(path):
            raise OSError("no such model file: %s" % path)
        context = mslite.Context()
        context.target = ["cpu"]
        context.cpu.thread_num = int(header.get("threads", 1))
        model = mslite.Model()
        model_type = getattr(mslite.ModelType, header.get("model_type", "MINDIR_LITE"))
        model.build_from_file(path, model_type, context)
        self.model = model
        self.inputs = model.get_inputs()
        return {"inputs": self._describe(self.inputs)}, []

    def _describe(self, tensors):
        return [{"name": t.name, "shape": list(t.shape), "dtype": DTYPES.get(str(t.dtype).split(".")[-1], "?")}
                for t in tensors]

    def op_inputs(self, header, arrays):
        self._need_model()
        return {"inputs": self._describe(self.inputs)}, []

    def _need_model(self):
        if self.model is None:
            raise RuntimeError("no model is loaded")

    def op_predict(self, header, arrays):
        self._need_model()
        if len(arrays) != len(self.inputs):
            raise ValueError("the model has %d inputs, %d were given" % (len(self.inputs), len(arrays)))
        keep = []  # set_data_from_numpy may keep a pointer to the buffer: it must outlive predict
        for tensor, array in zip(self.inputs, arrays):
            want_shape = list(tensor.shape)
            want_dtype = DTYPES.get(str(tensor.dtype).split(".")[-1])
            # the runtime itself compares byte counts only: NCHW data in an NHWC model "works"
            if list(array.shape) != want_shape:
                raise ValueError("input %r has shape %s, the model wants %s (check the layout: NHWC vs NCHW)"
                                 % (tensor.name, list(array.shape), want_shape))
            if array.dtype.name != want_dtype or not array.dtype.isnative:
                raise ValueError("input %r has dtype %s, the model wants %s" % (tensor.name, array.dtype, want_dtype))
            owned = array.copy()
            keep.append(owned)
            tensor.set_data_from_numpy(owned)
        start = time.time()
        outputs = self.model.predict(self.inputs)
        seconds = time.time() - start
        # get_data_to_numpy() is a view the next predict overwrites: copy it now
        result = [(t.name, t.get_data_to_numpy().copy().reshape(list(t.shape))) for t in outputs]
        del keep
        return {"seconds": seconds}, result


def serve(requests, responses, log_path):
    worker = Worker(log_path)
    while True:
        header, arrays = read_message(requests)
        if header is None or header.get("op") == "shutdown":
            write_message(responses, {"ok": True, "id": header and header.get("id")})
            return
        start = worker.log_offset()
        handler = getattr(worker, "op_" + str(header.get("op")), None)
        try:
            if handler is None:
                raise ValueError("unknown operation %r" % header.get("op"))
            result, out = handler(header, arrays)
            write_message(responses, dict(result, ok=True, id=header.get("id")), out)
        except MemoryError as exc:
            write_message(responses, {"ok": False, "id": header.get("id"), "error": {
                "type": "MemoryError", "message": "out of memory under the worker's address-space limit: %s" % exc,
                "native": worker.native_errors(start)}})
        except Exception as exc:  # every failure goes back as data; the worker stays up
            write_message(responses, {"ok": False, "id": header.get("id"), "error": {
                "type": type(exc).__name__, "message": str(exc), "native": worker.native_errors(start),
                "traceback": traceback.format_exc(limit=3)}})


def _preload():
    """Import the runtime before the first request, so that a worker started ahead of time is ready when
    it is needed.  A failure is left for the hello request to meet again and report as data."""
    try:
        import mindspore_lite  # noqa: F401
        import numpy  # noqa: F401
    except Exception:
        pass


def main():
    responses = _setup()
    _preload()
    log_path = os.environ.get("HUBTOOL_WORKER_LOG", "")
    serve(sys.stdin.buffer, responses, log_path)


if __name__ == "__main__":
    main()
