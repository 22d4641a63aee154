"""MindSpore Lite worker: runs INSIDE the CPython 3.7 runtime env (stdlib + numpy + mindspore_lite).

The protocol and the process set-up are runtimes/wire.py's (loaded by path); GLOG_v keeps native
logs to errors.  A load failure's Python exception is always "Common error code": the native
[ERROR] lines logged while the request ran are what say why.
"""
# Python 3.7 syntax only: a test compiles this file with the 3.7 interpreter.

import importlib.util
import os
import sys
import time

DTYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "FLOAT64": "float64", "INT8": "int8", "INT16": "int16",
          "INT32": "int32", "INT64": "int64", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32",
          "UINT64": "uint64", "BOOL": "bool"}


def load_wire():
    """runtimes/wire.py, by its path (this script's folder is dropped from sys.path: see wire.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    spec = importlib.util.spec_from_file_location("hubtool_wire", os.path.join(os.path.dirname(here), "wire.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Worker:
    def __init__(self):
        self.model = None
        self.inputs = None
        self.mslite = None

    def op_hello(self, header, arrays):
        import mindspore_lite
        import numpy

        return {"protocol": WIRE.PROTOCOL, "python": sys.version.split()[0], "numpy": numpy.__version__,
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


def _preload():
    """Import the runtime before the first request, so that a worker started ahead of time is ready when
    it is needed.  A failure is left for the hello request to meet again and report as data."""
    try:
        import mindspore_lite  # noqa: F401
        import numpy  # noqa: F401
    except Exception:
        pass


def main():
    responses = WIRE.setup()
    _preload()
    log_path = os.environ.get("HUBTOOL_WORKER_LOG", "")
    WIRE.serve(Worker(), sys.stdin.buffer, responses, log_path)


WIRE = load_wire()

if __name__ == "__main__":
    main()
