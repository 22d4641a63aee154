"""An independent numpy executor of MindSpore Lite 1.0 semantics (test oracle for the translator).

It runs a parsed v0 model exactly as 1.0 defined its operators (tensors in their
stored layouts, 1.0's padding rules and pooling divisors), knowing nothing of
MSL2.  It is itself checked against the real 1.0 models' reference outputs
before it judges translated synthetic graphs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hubtool.legacy.model import LegacyModel, LegacyNode


def _act(x: np.ndarray, kind: int, alpha: float = 0.2) -> np.ndarray:
    if kind == 0:
        return x
    if kind == 1:
        return np.maximum(x, 0)
    if kind == 2:
        return 1 / (1 + np.exp(-x))
    if kind == 3:
        return np.clip(x, 0, 6)
    if kind == 5:
        return np.where(x > 0, x, x * alpha)
    if kind == 10:
        return np.tanh(x)
    if kind == 12:
        return x * np.clip(x + 3, 0, 6) / 6
    raise NotImplementedError(f"activation {kind}")


def _same_pads(size: int, k: int, stride: int, dil: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dil + 1 - size, 0)
    return total // 2, total - total // 2


def _pads(a: dict[str, Any], h: int, w: int, kh: int, kw: int) -> tuple[int, int, int, int]:
    sh, sw = a["strideH"], a["strideW"]
    dh, dw = a.get("dilateH", 1) or 1, a.get("dilateW", 1) or 1
    if a["padMode"] == 1:  # SAME_UPPER, TF-style
        return (*_same_pads(h, kh, sh, dh), *_same_pads(w, kw, sw, dw))
    if a["padMode"] == 2:  # VALID
        return 0, 0, 0, 0
    return a["padUp"], a["padDown"], a["padLeft"], a["padRight"]


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> tuple[np.ndarray, int, int]:
    """All kernel-offset views of padded NHWC `x`: shape [kh*kw, N, OH, OW, C]."""
    oh = (x.shape[1] - ((kh - 1) * dh + 1)) // sh + 1
    ow = (x.shape[2] - ((kw - 1) * dw + 1)) // sw + 1
    views = [x[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw, :]
             for i in range(kh) for j in range(kw)]
    return np.stack(views), oh, ow


def conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, a: dict[str, Any], depthwise: bool) -> np.ndarray:
    kh, kw = weight.shape[1], weight.shape[2]
    pu, pd, pl, pr = _pads(a, x.shape[1], x.shape[2], kh, kw)
    xp = np.pad(x, ((0, 0), (pu, pd), (pl, pr), (0, 0)))
    views, oh, ow = _windows(xp, kh, kw, a["strideH"], a["strideW"], a.get("dilateH") or 1, a.get("dilateW") or 1)
    if depthwise:  # weight [C, kh, kw, 1]
        out = np.einsum("knhwc,ck->nhwc", views, weight.reshape(weight.shape[0], kh * kw))
    else:
        group = a.get("group") or 1
        cin = weight.shape[3]
        outs = []
        per = weight.shape[0] // group
        for g in range(group):
            wg = weight[g * per:(g + 1) * per].reshape(per, kh * kw, cin)
            outs.append(np.einsum("knhwc,okc->nhwo", views[..., g * cin:(g + 1) * cin], wg))
        out = np.concatenate(outs, axis=-1)
    if bias is not None:
        out = out + bias
    return _act(out.astype(np.float32), a["activationType"])


def deconv_depthwise(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, a: dict[str, Any]) -> np.ndarray:
    kh, kw = weight.shape[1], weight.shape[2]
    sh, sw = a["strideH"], a["strideW"]
    dh, dw = a.get("dilateH") or 1, a.get("dilateW") or 1
    n, h, w, c = x.shape
    full = np.zeros((n, (h - 1) * sh + (kh - 1) * dh + 1, (w - 1) * sw + (kw - 1) * dw + 1, c), np.float32)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (h - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (w - 1) + 1, sw)
            full[:, rows, cols, :] += x * weight[:, i, j, 0]
    pu, pd, pl, pr = a["padUp"], a["padDown"], a["padLeft"], a["padRight"]
    out = full[:, pu:full.shape[1] - pd, pl:full.shape[2] - pr, :]
    if bias is not None:
        out = out + bias
    return _act(out, a["activationType"])


def pooling(x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    mean = a["poolingMode"] == 1
    if a["global"]:
        return (x.mean(axis=(1, 2), keepdims=True) if mean else x.max(axis=(1, 2), keepdims=True)).astype(np.float32)
    kh, kw = a["windowH"], a["windowW"]
    pu, pd, pl, pr = _pads({**a, "dilateH": 1, "dilateW": 1}, x.shape[1], x.shape[2], kh, kw)
    fill = 0.0 if mean else -np.inf
    xp = np.pad(x, ((0, 0), (pu, pd), (pl, pr), (0, 0)), constant_values=fill)
    views, _, _ = _windows(xp, kh, kw, a["strideH"], a["strideW"], 1, 1)
    if not mean:
        out = views.max(axis=0)
    elif a["avgMode"] == 1:  # 1.0: divide by the whole window, padding included
        out = views.sum(axis=0) / (kh * kw)
    else:
        ones = np.pad(np.ones_like(x[..., :1]), ((0, 0), (pu, pd), (pl, pr), (0, 0)))
        counts, _, _ = _windows(ones, kh, kw, a["strideH"], a["strideW"], 1, 1)
        out = views.sum(axis=0) / counts.sum(axis=0)
    return _act(out.astype(np.float32), a["activationType"])


def resize(x: np.ndarray, a: dict[str, Any]) -> np.ndarray:
    oh, ow = int(a["newHeight"]), int(a["newWidth"])
    n, h, w, c = x.shape

    def coords(out: int, size: int) -> np.ndarray:
        if a["alignCorners"] and out > 1:
            return np.arange(out) * (size - 1) / (out - 1)
        return np.arange(out) * size / out

    ys, xs = coords(oh, h), coords(ow, w)
    if a["method"] == 1:  # nearest
        yi = np.minimum(np.floor(ys).astype(int), h - 1)
        xi = np.minimum(np.floor(xs).astype(int), w - 1)
        return x[:, yi][:, :, xi]
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
    top = x[:, y0][:, :, x0] * (1 - fx) + x[:, y0][:, :, x1] * fx
    bottom = x[:, y1][:, :, x0] * (1 - fx) + x[:, y1][:, :, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def _reduce(x: np.ndarray, axes: list[int], keep: bool, mode: int) -> np.ndarray:
    ax = tuple(axes) if axes else None
    ops = {0: np.mean, 1: np.max, 2: np.min, 3: np.prod, 4: np.sum}
    if mode == 5:
        return np.sum(x * x, axis=ax, keepdims=keep)
    if mode == 6:
        return np.sum(np.abs(x), axis=ax, keepdims=keep)
    return ops[mode](x, axis=ax, keepdims=keep)


def run(model: LegacyModel, inputs: list[np.ndarray]) -> dict[int, np.ndarray]:
    values: dict[int, np.ndarray] = {}
    for i, t in enumerate(model.tensors):
        if len(t.data):
            dtype = "<f4" if t.data_type == 43 else "<i4" if t.data_type == 34 else "<i8"
            values[i] = np.frombuffer(bytes(t.data), dtype=dtype).reshape(t.dims) if t.dims else \
                np.frombuffer(bytes(t.data), dtype=dtype)
    for index, array in zip(model.inputs, inputs, strict=True):
        values[index] = array.astype(np.float32)
    for node in model.nodes:
        values[node.outputs[0]] = _node(node, [values[i] for i in node.inputs])
    return values


def _node(node: LegacyNode, xs: list[np.ndarray]) -> np.ndarray:
    a, op = node.attrs, node.op
    x = xs[0]
    if op in ("Conv2D", "DepthwiseConv2D"):
        return conv(x, xs[1], xs[2] if len(xs) > 2 else None, a, op == "DepthwiseConv2D")
    if op == "DeDepthwiseConv2D":
        return deconv_depthwise(x, xs[1], xs[2] if len(xs) > 2 else None, a)
    if op == "Pooling":
        return pooling(x, a)
    if op == "Activation":
        return _act(x, a["type"], a["alpha"])
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Maximum": np.maximum}
    if op in binary:
        return _act(binary[op](x, xs[1]).astype(np.float32), a.get("activationType", 0))
    if op == "BiasAdd":
        return x + xs[1]
    if op == "Nhwc2Nchw":
        return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))
    if op == "Nchw2Nhwc":
        return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))
    if op == "Reshape":
        shape = xs[1].tolist() if len(xs) > 1 else a["shape"]
        return x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(shape)])
    if op == "Concat":
        return np.concatenate(xs, axis=a["axis"])
    if op == "SoftMax":
        e = np.exp(x - x.max(axis=a["axis"], keepdims=True))
        return e / e.sum(axis=a["axis"], keepdims=True)
    if op == "FullConnection":
        flat = x.reshape(x.shape[0], -1)
        out = flat @ xs[1].T + (xs[2] if a["hasBias"] and len(xs) > 2 else 0)
        return _act(out.astype(np.float32), a["activationType"])
    if op == "MatMul":
        left = np.swapaxes(x, -1, -2) if a["transposeA"] else x
        right = np.swapaxes(xs[1], -1, -2) if a["transposeB"] else xs[1]
        return left @ right
    if op == "Flatten":
        return x.reshape(x.shape[0], -1)
    if op == "Squeeze":
        return np.squeeze(x, axis=tuple(a["axis"]) if a["axis"] else None)
    if op == "Pad":
        p = a["paddings"]
        widths = [(p[2 * i], p[2 * i + 1]) for i in range(len(p) // 2)]
        mode = {0: "constant", 1: "reflect", 2: "symmetric"}[a["paddingMode"]]
        kwargs = {"constant_values": a["constantValue"]} if mode == "constant" else {}
        return np.pad(x, widths, mode=mode, **kwargs)
    if op == "Reduce":
        return _reduce(x, a["axes"] or [], bool(a["keepDims"]), a["mode"]) * (a["coeff"] if a["mode"] == 4 else 1)
    if op == "Mean":
        return _reduce(x, a["axis"] or [], bool(a["keepDims"]), 0)
    if op == "Resize":
        return resize(x, a)
    if op == "BatchNorm":
        return (x - xs[1]) / np.sqrt(xs[2] + a["epsilon"])
    if op == "FusedBatchNorm":
        return xs[1] * (x - xs[3]) / np.sqrt(xs[4] + a["epsilon"]) + xs[2]
    if op == "Scale":
        out = x * xs[1] + (xs[2] if len(xs) > 2 else 0)
        return _act(out.astype(np.float32), a["activationType"])
    raise NotImplementedError(op)
