"""v0 graph -> MSL2 graph: operator mapping and the refusals, all decided before anything is written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

from . import schema_msl2 as m2
from . import schema_v0 as v0
from .flatread import Scalar
from .model import Attr, LegacyModel, LegacyNode
from .refusals import Refusal, grouped

FLOAT32, INT32, INT64, BOOL = 43, 34, 35, 30
ACCEPTED_DTYPES = {FLOAT32, INT32, INT64, BOOL}


class NewTensor(NamedTuple):
    """An int32 constant the translation adds (attributes that became inputs in MSL2)."""

    values: list[int]
    shape: list[int]


class NewNode(NamedTuple):
    name: str
    op: str  # MSL2 table name
    attrs: dict[str, Attr]
    inputs: list[int]
    outputs: list[int]


def _at(node: LegacyNode) -> str:
    return f"node {node.name!r}"


class Translation:
    """The MSL2 graph's nodes and added constants, or why it cannot be written."""

    __slots__ = ("nodes", "extra", "refusals")

    def __init__(self) -> None:
        self.nodes: list[NewNode] = []
        self.extra: list[NewTensor] = []  # appended after the original tensors
        self.refusals: list[Refusal] = []


class Analysis(NamedTuple):
    format: str
    version: str
    histogram: dict[str, int]
    refusals: list[Refusal]

    @property
    def translatable(self) -> bool:
        return not self.refusals

    @property
    def grouped_refusals(self) -> list[str]:
        return grouped(self.refusals)


def _int(attrs: dict[str, Attr], name: str, default: int = 0) -> int:
    """An integer attribute (the field spec's kind says it is one); `default` when absent."""
    value = attrs.get(name, default)
    return int(value) if isinstance(value, (int, float)) else default


def _ints(attrs: dict[str, Attr], name: str) -> list[int]:
    """An integer-vector attribute; [] when absent."""
    value = attrs.get(name)
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else []


def _pad_mode(node: LegacyNode, out: Translation) -> int:
    mode = _int(node.attrs, "padMode")
    mapped = {v0.PAD_NOTSET: m2.PAD, v0.PAD_CAFFE: m2.PAD, v0.PAD_SAME_UPPER: m2.SAME, v0.PAD_VALID: m2.VALID}
    if mode not in mapped:
        why = "SAME_LOWER padding (MSL2 has no such mode)" if mode == v0.PAD_SAME_LOWER else f"pad mode {mode}"
        out.refusals.append(Refusal(f"{node.op}: {why}", _at(node)))
        return m2.PAD
    return mapped[mode]


def _activation(node: LegacyNode, out: Translation, value: int) -> int:
    if not 0 <= value <= 15:  # 1.0's 16 is UNKNOW, MSL2's is HARD_TANH: only 0-15 mean the same
        out.refusals.append(Refusal(f"{node.op}: activation type {value} has no MSL2 equivalent", _at(node)))
    return value


class _Mapper:
    def __init__(self, model: LegacyModel) -> None:
        self.model = model
        self.out = Translation()

    def const(self, values: Sequence[Scalar], shape: tuple[int, ...] | None = None) -> int:
        flat = [int(v) for v in values]
        if any(not -2**31 <= v < 2**31 for v in flat):
            self.out.refusals.append(Refusal(f"a constant {flat[:4]}... does not fit int32"))
        self.out.extra.append(NewTensor(flat, list(shape) if shape is not None else [len(flat)]))
        return len(self.model.tensors) + len(self.out.extra) - 1

    def refuse(self, node: LegacyNode, why: str) -> None:
        self.out.refusals.append(Refusal(f"{node.op}: {why}", _at(node)))

    def weight(self, node: LegacyNode, index: int = 1) -> list[int] | None:
        if len(node.inputs) <= index:
            self.refuse(node, "no weight input")
            return None
        tensor = self.model.tensors[node.inputs[index]]
        if len(tensor.dims) != 4:
            self.refuse(node, f"weight of shape {tensor.dims}, not 4-D")
            return None
        if tensor.format == v0.FORMAT_KCHW or tensor.dims[1:3] != [node.attrs["kernelH"], node.attrs["kernelW"]]:
            self.refuse(node, f"weight layout is not KHWC (format {tensor.format}, dims {tensor.dims}): a training "
                              "export")
            return None
        return tensor.dims

    def add(self, node: LegacyNode, op: str, attrs: dict[str, Attr], inputs: list[int] | None = None) -> None:
        self.out.nodes.append(NewNode(node.name, op, attrs, inputs if inputs is not None else list(node.inputs),
                                      list(node.outputs)))

    # --- operators ---------------------------------------------------------------------------
    def conv(self, node: LegacyNode) -> None:
        a = node.attrs
        pad_mode = _pad_mode(node, self.out)  # before the weight check: every reason gets listed
        dims = self.weight(node)
        if dims is None:
            return
        group = _int(a, "group") or 1
        depthwise = node.op != "Conv2D"
        if depthwise and _int(a, "channelMultiplier") not in (0, 1):
            self.refuse(node, f"depthwise channel multiplier {a['channelMultiplier']} (only 1 is supported)")
            return
        channels = dims[0] if depthwise else None
        pad_list = [_int(a, "padUp"), _int(a, "padDown"), _int(a, "padLeft"), _int(a, "padRight")]
        attrs: dict[str, Attr] = {
            "format": m2.FORMAT_NHWC, "kernel_size": [_int(a, "kernelH"), _int(a, "kernelW")],
            "stride": [_int(a, "strideH"), _int(a, "strideW")],
            "dilation": [_int(a, "dilateH") or 1, _int(a, "dilateW") or 1],
            "pad_mode": pad_mode, "pad_list": pad_list, "group": channels or group,
            "in_channel": channels or dims[3] * group,  # 1.0 wrote channelIn = 0
            "out_channel": channels or _int(a, "channelOut") or dims[0],
            "activation_type": _activation(node, self.out, _int(a, "activationType"))}
        if node.op == "DeDepthwiseConv2D":
            attrs["pad"] = list(pad_list)
            attrs["output_paddings"] = [0, 0]
            self.add(node, "Conv2dTransposeFusion", attrs)
        else:
            self.add(node, "Conv2DFusion", attrs)

    def pooling(self, node: LegacyNode) -> None:
        a = node.attrs
        pads = [_int(a, "padUp"), _int(a, "padDown"), _int(a, "padLeft"), _int(a, "padRight")]
        mean = a["poolingMode"] == v0.POOL_MEAN
        if mean and a["avgMode"] == 1 and not a["global"] and (any(pads) or a["padMode"] == v0.PAD_SAME_UPPER):
            self.refuse(node, "padded average pooling with 1.0's divisor that counts the padding "
                              "(2.0 divides by the valid count: corner outputs would differ)")
            return
        attrs: dict[str, Attr] = {
                 "kernel_size": [_int(a, "windowH"), _int(a, "windowW")], "strides": [_int(a, "strideH"),
                                                                                     _int(a, "strideW")],
                 "pad": pads, "pad_mode": _pad_mode(node, self.out), "round_mode": a["roundMode"],
                 "format": m2.FORMAT_NHWC, "global": a["global"],
                 "activation_type": _activation(node, self.out, _int(a, "activationType"))}
        self.add(node, "AvgPoolFusion" if mean else "MaxPoolFusion", attrs)

    def activation(self, node: LegacyNode) -> None:
        a = node.attrs
        kind = _activation(node, self.out, _int(a, "type"))
        low, high = {1: (0.0, m2.FLT_MAX), 3: (0.0, 6.0)}.get(kind, (a["min_val"], a["max_val"]))
        self.add(node, "Activation", {"activation_type": kind, "alpha": a["alpha"], "min_val": low, "max_val": high})

    def eltwise(self, node: LegacyNode) -> None:
        op = {"Add": "AddFusion", "Sub": "SubFusion", "Mul": "MulFusion", "Div": "DivFusion"}[node.op]
        self.add(node, op, {"activation_type": _activation(node, self.out, _int(node.attrs, "activationType"))})

    def simple(self, node: LegacyNode) -> None:
        a = node.attrs
        act = a.get("activationType", 0)
        builders: dict[str, Callable[[], tuple[str, dict[str, Attr]]]] = {
            "Maximum": lambda: ("Maximum", {}),
            "BiasAdd": lambda: ("BiasAdd", {"format": m2.FORMAT_NHWC}),
            "FusedBatchNorm": lambda: ("FusedBatchNorm", {"epsilon": a["epsilon"], "momentum": a["momentum"],
                                                          "mode": 0}),
            "BatchNorm": lambda: ("BatchNorm", {"epsilon": a["epsilon"]}),
            "Scale": lambda: ("ScaleFusion", {"axis": a["axis"], "activation_type": act}),
            "FullConnection": lambda: ("FullConnection", {"has_bias": a["hasBias"], "use_axis": a["useAxis"],
                                                          "axis": a["axis"], "activation_type": act}),
            "MatMul": lambda: ("MatMulFusion", {"transpose_a": a["transposeA"], "transpose_b": a["transposeB"]}),
            "Flatten": lambda: ("Flatten", {"axis": 1}),
            "Squeeze": lambda: ("Squeeze", {"axis": list(_ints(a, "axis"))}),
            "Concat": lambda: ("Concat", {"axis": a["axis"]}),
            "SoftMax": lambda: ("Softmax", {"axis": [_int(a, "axis")]}),
        }
        op, attrs = builders[node.op]()
        if "activation_type" in attrs:
            _activation(node, self.out, _int(attrs, "activation_type"))
        self.add(node, op, attrs)

    def with_const(self, node: LegacyNode) -> None:
        a = node.attrs
        if node.op == "Reshape":
            if len(node.inputs) >= 2:
                self.add(node, "Reshape", {})
            elif a.get("shape") is None:
                self.refuse(node, "Reshape without a shape")
            else:
                self.add(node, "Reshape", {}, [node.inputs[0], self.const(_ints(a, "shape"))])
        elif node.op in ("Nchw2Nhwc", "Nhwc2Nchw"):
            perm = [0, 2, 3, 1] if node.op == "Nchw2Nhwc" else [0, 3, 1, 2]
            self.add(node, "Transpose", {}, [node.inputs[0], self.const(perm)])
        elif node.op == "Pad":
            flat = _ints(a, "paddings")
            if not flat or len(flat) % 2:
                self.refuse(node, f"paddings {flat} are not pairs")
                return
            self.add(node, "PadFusion", {"padding_mode": a["paddingMode"], "constant_value": a["constantValue"]},
                     [node.inputs[0], self.const(flat, (len(flat) // 2, 2))])
        elif node.op in ("Reduce", "Mean"):
            axes = _ints(a, "axes" if node.op == "Reduce" else "axis")
            mode = _int(a, "mode") if node.op == "Reduce" else 0
            if not 0 <= mode <= 6:
                self.refuse(node, f"reduce mode {mode} has no MSL2 equivalent")
                return
            attrs: dict[str, Attr] = {"keep_dims": bool(a.get("keepDims")), "mode": mode,
                     "reduce_to_end": bool(a.get("reduceToEnd", False)), "coeff": a.get("coeff", 1.0)}
            self.add(node, "ReduceFusion", attrs, [node.inputs[0], self.const(axes)])

    def resize(self, node: LegacyNode) -> None:
        a = node.attrs
        if a["method"] not in (0, 1):
            self.refuse(node, f"resize method {a['method']} (only bilinear and nearest are supported)")
            return
        self.add(node, "Resize", {"format": m2.FORMAT_NHWC, "method": a["method"], "new_height": a["newHeight"],
                                  "new_width": a["newWidth"],
                                  "coordinate_transform_mode": m2.COORD_ALIGN_CORNERS if a["alignCorners"]
                                  else m2.COORD_ASYMMETRIC})


_HANDLERS = {"Conv2D": "conv", "DepthwiseConv2D": "conv", "DeDepthwiseConv2D": "conv", "Pooling": "pooling",
             "Activation": "activation", "Add": "eltwise", "Sub": "eltwise", "Mul": "eltwise", "Div": "eltwise",
             "Reshape": "with_const", "Nchw2Nhwc": "with_const", "Nhwc2Nchw": "with_const", "Pad": "with_const",
             "Reduce": "with_const", "Mean": "with_const", "Resize": "resize"}
#: inputs an operator needs at least (a corrupt file may claim fewer)
MIN_INPUTS = {"Conv2D": 2, "DepthwiseConv2D": 2, "DeDepthwiseConv2D": 2, "Add": 2, "Sub": 2, "Mul": 2, "Div": 2,
              "Maximum": 2, "BiasAdd": 2, "FusedBatchNorm": 5, "BatchNorm": 3, "Scale": 2, "FullConnection": 2,
              "MatMul": 2}
SUPPORTED = set(_HANDLERS) | {"Maximum", "BiasAdd", "FusedBatchNorm", "BatchNorm", "Scale", "FullConnection",
                              "MatMul", "Flatten", "Squeeze", "Concat", "SoftMax"}


def translate(model: LegacyModel) -> Translation:
    """Map every node, collecting every reason to refuse (nothing is written here)."""
    mapper = _Mapper(model)
    out = mapper.out
    if not model.nodes:
        out.refusals.append(Refusal("the graph has no operators"))
    for i, tensor in enumerate(model.tensors):
        if tensor.quant_inited:
            out.refusals.append(Refusal("a quantized tensor (quantized models are not supported)", f"tensor {i}"))
        elif tensor.data_type not in ACCEPTED_DTYPES:
            out.refusals.append(Refusal(f"data type {tensor.data_type} (quantized or unsupported)", f"tensor {i}"))
    for node in model.nodes:
        if node.quant_type != 0:
            out.refusals.append(Refusal(f"{node.op} is quantized (quantType {node.quant_type})", _at(node)))
        if node.op in v0.TRAINING:
            out.refusals.append(Refusal(f"{node.op} is a training operator (a training export)", _at(node)))
        elif node.op not in SUPPORTED:
            out.refusals.append(Refusal(f"operator {node.op} is not supported by the translator", _at(node)))
        elif len(node.inputs) < MIN_INPUTS.get(node.op, 1) or not node.outputs:
            out.refusals.append(Refusal(f"{node.op} with {len(node.inputs)} inputs and {len(node.outputs)} "
                                        "outputs: the graph is corrupt", _at(node)))
        else:
            getattr(mapper, _HANDLERS.get(node.op, "simple"))(node)
    return out


def analyze(model: LegacyModel) -> Analysis:
    histogram = dict(sorted(Counter(node.op for node in model.nodes).items()))
    return Analysis(model.format, model.version, histogram, translate(model).refusals)
