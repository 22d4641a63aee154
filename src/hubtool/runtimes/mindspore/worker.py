"""MindSpore worker: runs INSIDE the MindSpore env (CPython 3.11, numpy, mindspore 2.x, mindcv).

The protocol and the process set-up are runtimes/wire.py's; then, before MindSpore is imported
(its import starts threads), the sandbox (sandbox.py): no network, a read-only filesystem, no
capabilities.  One worker loads one model:

- `mindir`: mindspore.load + nn.GraphCell.
- `ckpt`: the network is built from its source (mindcv's model registry, or a function in a
  repository folder: the hub's own `mindspore_hub_conf.create_network(name)` convention or any
  `module:function`), the checkpoint read with load_checkpoint, its parameters compared with the
  network's by name and shape (a mismatch is reported as data before anything runs), then loaded
  strictly and the network put in inference mode.
"""

import importlib
import importlib.util
import os
import sys
import time


def _load_sibling(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _siblings():
    """wire.py and sandbox.py by path; this script's folder leaves sys.path (see wire.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    return (_load_sibling("hubtool_wire", os.path.join(os.path.dirname(here), "wire.py")),
            _load_sibling("hubtool_sandbox", os.path.join(here, "sandbox.py")))


WIRE, SANDBOX = _siblings()


class NetworkMismatch(Exception):
    """The checkpoint's parameters do not fit the network (names, shapes)."""

    def __init__(self, message, details):
        super().__init__(message)
        self.details = details


class NetworkSourceError(Exception):
    pass


def _build_network(spec):
    kind = spec.get("kind")
    args, kwargs = list(spec.get("args") or []), dict(spec.get("kwargs") or {})
    if kind == "mindcv":
        import mindcv

        if spec["model"] not in mindcv.list_models():
            raise NetworkSourceError("mindcv %s has no model %r" % (mindcv.__version__, spec["model"]))
        kwargs.setdefault("pretrained", False)  # never download: the checkpoint is the card's asset
        return mindcv.create_model(spec["model"], *args, **kwargs)
    if kind == "module":
        folder = spec["folder"]
        if not os.path.isdir(folder):
            raise NetworkSourceError("the network's repository folder %s does not exist" % folder)
        sys.path.insert(0, folder)
        try:
            module = importlib.import_module(spec["module"])
        except ImportError as exc:
            raise NetworkSourceError("cannot import %s from %s: %s" % (spec["module"], folder, exc)) from exc
        function = getattr(module, spec["function"], None)
        if not callable(function):
            raise NetworkSourceError("%s has no function %s" % (spec["module"], spec["function"]))
        return function(*args, **kwargs)
    raise NetworkSourceError("unknown network source %r" % kind)


def _compare(network_params, checkpoint):
    """The parameters the network has and the checkpoint lacks or holds in another shape."""
    missing = [name for name in network_params if name not in checkpoint]
    shapes = [{"name": name, "network": list(p.shape), "checkpoint": list(checkpoint[name].shape)}
              for name, p in network_params.items()
              if name in checkpoint and tuple(p.shape) != tuple(checkpoint[name].shape)]
    extra = [name for name in checkpoint if name not in network_params]
    return {"network": len(network_params), "checkpoint": len(checkpoint), "missing": missing[:20],
            "missing_count": len(missing), "shapes": shapes[:20], "shape_count": len(shapes),
            "extra": extra[:20], "extra_count": len(extra)}


def _named(path, file_format):
    """The model under a name MindSpore accepts: its loaders refuse a file without the format's suffix,
    and a store names blobs by their hash.  A link in the scratch folder (the worker's cwd)."""
    link = os.path.abspath("model.%s" % file_format)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(path, link)
    return link


class Worker:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.cell = None
        self.inputs = []

    def op_hello(self, header, arrays):
        import importlib.metadata as metadata

        import mindspore
        import numpy

        try:
            mindcv = metadata.version("mindcv")
        except metadata.PackageNotFoundError:
            mindcv = None
        return {"protocol": WIRE.PROTOCOL, "python": sys.version.split()[0], "numpy": numpy.__version__,
                "mindspore": mindspore.__version__, "mindcv": mindcv, "pid": os.getpid(),
                "sandbox": self.sandbox}, []

    def op_load(self, header, arrays):
        import mindspore as ms

        path = header["path"]
        if not os.path.isfile(path):
            raise OSError("no such model file: %s" % path)
        ms.set_context(mode=ms.GRAPH_MODE)
        path = _named(path, header["format"])
        self.inputs = header["inputs"]  # the parent read them from the MindIR, or from the card for a checkpoint
        if header["format"] == "mindir":
            self.cell = ms.nn.GraphCell(ms.load(path))
            return {"inputs": self.inputs}, []
        network = _build_network(header["network"])
        checkpoint = ms.load_checkpoint(path)
        fit = _compare(network.parameters_dict(), checkpoint)
        if fit["missing_count"] or fit["shape_count"]:
            raise NetworkMismatch("the checkpoint does not fit the network", fit)
        ms.load_param_into_net(network, checkpoint, strict_load=True)
        network.set_train(False)
        self.cell = network
        return {"inputs": self.inputs, "parameters": fit}, []

    def op_inputs(self, header, arrays):
        return {"inputs": self.inputs}, []

    def op_predict(self, header, arrays):
        import mindspore as ms

        if self.cell is None:
            raise RuntimeError("no model is loaded")
        if len(arrays) != len(self.inputs):
            raise ValueError("the model has %d inputs, %d were given" % (len(self.inputs), len(arrays)))
        for spec, array in zip(self.inputs, arrays):
            if list(array.shape) != list(spec["shape"]):
                raise ValueError("input %r has shape %s, the model wants %s (check the layout: NHWC vs NCHW)"
                                 % (spec["name"], list(array.shape), spec["shape"]))
        start = time.time()
        out = self.cell(*[ms.Tensor(array) for array in arrays])
        outputs = out if isinstance(out, (tuple, list)) else [out]
        result = [("output%d" % i, t.asnumpy().copy()) for i, t in enumerate(outputs)]
        return {"seconds": time.time() - start}, result


def _enter_sandbox():
    scratch = os.environ.get("HUBTOOL_WORKER_SCRATCH", "")
    try:
        found = SANDBOX.enter(scratch)
    except (SANDBOX.SandboxError, OSError) as exc:
        return {"active": False, "why": str(exc)}
    os.chdir(scratch)  # the tmpfs now mounted there, not the folder under it
    return found


def _preload():
    """Import the framework before the first request (a spare is ready when adopted); a failure is
    left for the hello request to meet again and report as data."""
    try:
        import mindspore  # noqa: F401
    except Exception:
        pass


def main():
    responses = WIRE.setup()
    sandbox = _enter_sandbox()
    WIRE.die_with_parent()  # entering the user namespace may have cleared it
    _preload()
    log_path = os.environ.get("HUBTOOL_WORKER_LOG", "")
    WIRE.serve(Worker(sandbox), sys.stdin.buffer, responses, log_path)
    sys.stderr.flush()
    os._exit(0)  # MindSpore's interpreter teardown is slow and logs tracebacks from Cell.__del__


if __name__ == "__main__":
    main()
