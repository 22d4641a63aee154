"""The 1.0/1.1 -> MSL2 translator: real oracles, synthetic graphs against an independent executor, refusals, fuzz."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from legacy_executor import run as execute
from legacy_graphs import CONV, resnet50_plain
from legacy_writer import FLOAT32, INT8, KCHW, KHWC, Graph, write_v0

from helpers import SHARED, run_cli, runtime_env
from hubtool.assets.inspect import inspect_file
from hubtool.errors import HubtoolError, LegacyFormatError, TranslationRefused
from hubtool.legacy.model import read_model
from hubtool.legacy.upgrade import analyze_file, upgrade_bytes, upgrade_ms
from hubtool.runtimes.mslite.client import MsliteWorker

ORACLES = SHARED / "legacy-ms"
needs_oracles = pytest.mark.skipif(not ORACLES.is_dir(), reason="../shared/legacy-ms is not beside this checkout")
RNG = np.random.default_rng(1234)


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


@pytest.fixture(scope="module")
def worker() -> Iterator[MsliteWorker]:
    with MsliteWorker(runtime_env(), timeout=120) as w:
        yield w


def run_translated(worker: MsliteWorker, tmp: Path, v0_bytes: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    path = tmp / "translated.ms"
    path.write_bytes(bytes(upgrade_bytes(v0_bytes)))
    worker.load(path)
    return worker.predict(inputs)


# --- the real 1.0 models -------------------------------------------------------------------------


@needs_oracles
def test_executor_reproduces_the_real_oracles() -> None:
    model = read_model((ORACLES / "mobilefacenet0924.ms").read_bytes())
    x = np.fromfile(ORACLES / "facenet_input.f32", dtype="<f4").reshape(1, 112, 112, 3)
    out = execute(model, [x])[354].reshape(-1)
    assert np.abs(out - np.fromfile(ORACLES / "facenet_output.f32", dtype="<f4")).max() < 1e-4
    model = read_model((ORACLES / "retinaface1.ms").read_bytes())
    x = np.fromfile(ORACLES / "test1.hwc_normalized_f32", dtype="<f4").reshape(1, 640, 380, 3)
    values = execute(model, [x])
    refs = {n: np.fromfile(ORACLES / f"test1_{n}.f32", dtype="<f4") for n in ("loc", "conf", "landms")}
    matched = {n for o in model.outputs for n, r in refs.items()
               if values[o].size == r.size and np.abs(values[o].reshape(-1) - r).max() < 1e-4}
    assert matched == {"loc", "conf", "landms"}


@needs_oracles
def test_translated_oracles_match_their_reference_outputs(worker: MsliteWorker, tmp_path: Path) -> None:
    x = np.fromfile(ORACLES / "facenet_input.f32", dtype="<f4").reshape(1, 112, 112, 3)
    [out] = run_translated(worker, tmp_path, (ORACLES / "mobilefacenet0924.ms").read_bytes(), [x])
    assert np.abs(out.reshape(-1) - np.fromfile(ORACLES / "facenet_output.f32", dtype="<f4")).max() < 1e-4
    x = np.fromfile(ORACLES / "test1.hwc_normalized_f32", dtype="<f4").reshape(1, 640, 380, 3)
    outs = run_translated(worker, tmp_path, (ORACLES / "retinaface1.ms").read_bytes(), [x])
    for name in ("loc", "conf", "landms"):
        ref = np.fromfile(ORACLES / f"test1_{name}.f32", dtype="<f4")
        [got] = [o for o in outs if o.size == ref.size]
        assert np.abs(got.reshape(-1) - ref).max() < 1e-4, name


@needs_oracles
def test_mobile_segment_loads_runs_and_agrees_with_the_executor(worker: MsliteWorker, tmp_path: Path) -> None:
    data = (ORACLES / "mobile_segment.ms").read_bytes()
    x = RNG.random((1, 257, 257, 3), dtype=np.float32)
    [out] = run_translated(worker, tmp_path, data, [x])
    assert out.shape == (1, 257, 257, 21) and np.isfinite(out).all()
    model = read_model(data)
    expected = execute(model, [x])[model.outputs[0]]
    assert np.abs(out - expected).max() < 1e-3


@needs_oracles
def test_translation_is_deterministic() -> None:
    data = (ORACLES / "retinaface1.ms").read_bytes()
    assert bytes(upgrade_bytes(data)) == bytes(upgrade_bytes(data))


# --- synthetic graphs covering every supported operator ----------------------------------------



def conv_graph(**over: object) -> Callable[[], tuple[Graph, list[np.ndarray]]]:
    def build() -> tuple[Graph, list[np.ndarray]]:
        attrs = {**CONV, **over}
        k, cout = int(attrs.pop("k", 3)), int(attrs.pop("cout", 6))
        g = Graph()
        x = g.tensor([1, 9, 9, 4])
        g.inputs = [x]
        per = 4 // int(attrs["group"])
        w = g.tensor([cout, k, k, per], rand(cout, k, k, per, scale=0.3), fmt=KHWC)
        b = g.tensor([cout], rand(cout))
        g.outputs = [g.node("Conv2D", [x, w, b], [1, 0, 0, cout], channelOut=cout, kernelW=k, kernelH=k, **attrs)]
        return g, [rand(1, 9, 9, 4)]
    return build


def depthwise_graph(op: str, **over: object) -> Callable[[], tuple[Graph, list[np.ndarray]]]:
    def build() -> tuple[Graph, list[np.ndarray]]:
        attrs = {k: v for k, v in CONV.items() if k not in ("group", "channelIn")}
        attrs.update(over)
        g = Graph()
        x = g.tensor([1, 8, 8, 5])
        g.inputs = [x]
        w = g.tensor([5, 3, 3, 1], rand(5, 3, 3, 1), fmt=KHWC)
        b = g.tensor([5], rand(5))
        g.outputs = [g.node(op, [x, w, b], [1, 0, 0, 5], channelIn=5, channelMultiplier=1, kernelW=3, kernelH=3,
                            **attrs)]
        return g, [rand(1, 8, 8, 5)]
    return build


def unary(op: str, in_shape: list[int], **attrs: object) -> Callable[[], tuple[Graph, list[np.ndarray]]]:
    def build() -> tuple[Graph, list[np.ndarray]]:
        g = Graph()
        x = g.tensor(in_shape)
        g.inputs = [x]
        g.outputs = [g.node(op, [x], [0], **attrs)]
        return g, [rand(*in_shape)]
    return build


def with_consts(op: str, in_shape: list[int], consts: list[np.ndarray],
                **attrs: object) -> Callable[[], tuple[Graph, list[np.ndarray]]]:
    def build() -> tuple[Graph, list[np.ndarray]]:
        g = Graph()
        x = g.tensor(in_shape)
        g.inputs = [x]
        ids = [g.tensor(list(c.shape), c) for c in consts]
        g.outputs = [g.node(op, [x, *ids], [0], **attrs)]
        return g, [rand(*in_shape)]
    return build


def pool(**attrs: object) -> Callable[[], tuple[Graph, list[np.ndarray]]]:
    base = dict(format=1, poolingMode=0, windowW=3, windowH=3, strideW=2, strideH=2, padMode=2, padUp=0,
                padDown=0, padLeft=0, padRight=0, roundMode=0, activationType=0, avgMode=0)
    return unary("Pooling", [1, 9, 9, 4], **{**base, **attrs})


def transposes() -> tuple[Graph, list[np.ndarray]]:
    g = Graph()
    x = g.tensor([1, 6, 5, 3])
    g.inputs = [x]
    nchw = g.node("Nhwc2Nchw", [x], [1, 3, 6, 5])
    scaled = g.node("Mul", [nchw, g.tensor([1, 3, 1, 1], rand(1, 3, 1, 1), fmt=KCHW)], [1, 3, 6, 5], activationType=0)
    shifted = g.node("Add", [scaled, g.tensor([1, 3, 1, 1], rand(1, 3, 1, 1), fmt=KCHW)], [1, 3, 6, 5],
                     activationType=1)
    g.outputs = [g.node("Nchw2Nhwc", [shifted], [1, 6, 5, 3])]
    return g, [rand(1, 6, 5, 3)]


def binary(op: str) -> Callable[[], tuple[Graph, list[np.ndarray]]]:
    def build() -> tuple[Graph, list[np.ndarray]]:
        g = Graph()
        x = g.tensor([1, 4, 4, 3])
        g.inputs = [x]
        other = np.abs(rand(1, 4, 4, 3)) + 0.5 if op == "Div" else rand(1, 4, 4, 3)
        attrs = {} if op == "Maximum" else {"activationType": 0}
        g.outputs = [g.node(op, [x, g.tensor([1, 4, 4, 3], other)], [1, 4, 4, 3], **attrs)]
        return g, [rand(1, 4, 4, 3)]
    return build


def fc() -> tuple[Graph, list[np.ndarray]]:
    g = Graph()
    x = g.tensor([1, 12])
    g.inputs = [x]
    w, b = g.tensor([7, 12], rand(7, 12)), g.tensor([7], rand(7))
    hidden = g.node("FullConnection", [x, w, b], [1, 7], hasBias=True, axis=1, useAxis=False, activationType=1)
    g.outputs = [g.node("SoftMax", [hidden], [1, 7], axis=-1)]
    return g, [rand(1, 12)]


def concat() -> tuple[Graph, list[np.ndarray]]:
    g = Graph()
    x = g.tensor([1, 4, 4, 3])
    g.inputs = [x]
    g.outputs = [g.node("Concat", [x, g.tensor([1, 4, 4, 2], rand(1, 4, 4, 2))], [1, 4, 4, 5], axis=3, n=2)]
    return g, [rand(1, 4, 4, 3)]


def batchnorms() -> tuple[Graph, list[np.ndarray]]:
    g = Graph()
    x = g.tensor([1, 5, 5, 4])
    g.inputs = [x]
    var = np.abs(rand(4)) + 0.5
    bn = g.node("BatchNorm", [x, g.tensor([4], rand(4)), g.tensor([4], var)], [1, 5, 5, 4], epsilon=0.001)
    fused = g.node("FusedBatchNorm", [bn, g.tensor([4], rand(4)), g.tensor([4], rand(4)), g.tensor([4], rand(4)),
                                      g.tensor([4], var)], [1, 5, 5, 4], epsilon=0.001, momentum=0.9, spatial=1)
    g.outputs = [g.node("Scale", [fused, g.tensor([4], rand(4)), g.tensor([4], rand(4))], [1, 5, 5, 4], axis=3,
                        activationType=0)]
    return g, [rand(1, 5, 5, 4)]


CASES: dict[str, Callable[[], tuple[Graph, list[np.ndarray]]]] = {
    "conv-explicit-pad-relu": conv_graph(activationType=1),
    "conv-same-stride2-relu6": conv_graph(padMode=1, strideW=2, strideH=2, activationType=3),
    "conv-valid-1x1": conv_graph(padMode=2, k=1, padUp=0, padDown=0, padLeft=0, padRight=0),
    "conv-dilated": conv_graph(dilateW=2, dilateH=2, padUp=2, padDown=2, padLeft=2, padRight=2),
    "conv-grouped": conv_graph(group=2, cout=6),
    "depthwise": depthwise_graph("DepthwiseConv2D", activationType=3),
    "depthwise-same-stride2": depthwise_graph("DepthwiseConv2D", padMode=1, strideW=2, strideH=2),
    "dedepthwise": depthwise_graph("DeDepthwiseConv2D", strideW=2, strideH=2, padUp=1, padDown=1, padLeft=1,
                                   padRight=1),
    "maxpool": pool(),
    "maxpool-same": pool(padMode=1),
    "avgpool-valid-1.0-divisor": pool(poolingMode=1, avgMode=1),
    "avgpool-padded-valid-count": pool(poolingMode=1, avgMode=0, padMode=0, padUp=1, padDown=1, padLeft=1,
                                       padRight=1),
    "global-avgpool": pool(poolingMode=1, **{"global": True}),
    "relu6": unary("Activation", [1, 3, 3, 4], type=3, alpha=0.2, min_val=-1.0, max_val=1.0),
    "sigmoid": unary("Activation", [1, 3, 3, 4], type=2, alpha=0.2, min_val=-1.0, max_val=1.0),
    "tanh": unary("Activation", [1, 3, 3, 4], type=10, alpha=0.2, min_val=-1.0, max_val=1.0),
    "leaky-relu": unary("Activation", [1, 3, 3, 4], type=5, alpha=0.1, min_val=-1.0, max_val=1.0),
    "add": binary("Add"), "sub": binary("Sub"), "mul": binary("Mul"), "div": binary("Div"),
    "maximum": binary("Maximum"),
    "bias-add": with_consts("BiasAdd", [1, 3, 3, 4], [rand(4)], axis=[3]),
    "batchnorm-fused-scale": batchnorms,
    "fullconnection-softmax": fc,
    "matmul": with_consts("MatMul", [1, 6], [rand(6, 3)], broadcast=False, transposeA=False, transposeB=False),
    "reshape": unary("Reshape", [1, 4, 4, 3], format=1, shape=[1, 48]),
    "flatten": unary("Flatten", [1, 2, 3, 4]),
    "squeeze": unary("Squeeze", [1, 1, 1, 7], axis=[1, 2]),
    "concat": concat,
    "softmax-1.0-default-axis": unary("SoftMax", [5, 3]),
    "pad": unary("Pad", [1, 4, 4, 3], paddings=[0, 0, 1, 2, 2, 1, 0, 0], paddingMode=0, constantValue=0.5),
    "nhwc-nchw-bn-style": transposes,
    "reduce-mean": unary("Reduce", [1, 4, 5, 3], axes=[1, 2], keepDims=1, mode=0, reduceToEnd=False, coeff=1.0),
    "reduce-max": unary("Reduce", [1, 4, 5, 3], axes=[3], keepDims=0, mode=1, reduceToEnd=False, coeff=1.0),
    "mean": unary("Mean", [1, 4, 5, 3], axis=[1, 2], keepDims=True),
    "resize-bilinear-align": unary("Resize", [1, 5, 4, 3], format=1, method=0, newHeight=9, newWidth=7,
                                   alignCorners=True),
    "resize-bilinear": unary("Resize", [1, 5, 4, 3], format=1, method=0, newHeight=10, newWidth=8,
                             alignCorners=False),
    "resize-nearest": unary("Resize", [1, 5, 4, 3], format=1, method=1, newHeight=10, newWidth=8,
                            alignCorners=False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_synthetic_graph_matches_the_executor(case: str, worker: MsliteWorker, tmp_path: Path) -> None:
    graph, inputs = CASES[case]()
    data = write_v0(graph)
    model = read_model(data)
    expected = execute(model, inputs)[model.outputs[0]]
    [got] = run_translated(worker, tmp_path, data, inputs)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-4


def test_plain_resnet50_at_32x32(worker: MsliteWorker, tmp_path: Path) -> None:
    data = write_v0(resnet50_plain(widths=(16, 32, 64, 128)))
    model = read_model(data)
    assert sum(n.op == "Conv2D" for n in model.nodes) == 49
    x = RNG.random((1, 32, 32, 3), dtype=np.float32)
    expected = execute(model, [x])[model.outputs[0]]
    [got] = run_translated(worker, tmp_path, data, [x])
    assert np.abs(got - expected).max() < 1e-4 * max(1.0, float(np.abs(expected).max()))


# --- refusals -------------------------------------------------------------------------------------


def _refusal_graph(kind: str) -> Graph:
    g, _ = conv_graph()()
    x, w = 0, 1
    if kind == "unknown-op":
        g.nodes.append(g.nodes[0].__class__("Custom", [x], [g.tensor([1])]))
    elif kind == "quantized":
        g.tensors[w].quant_inited = True
        g.tensors[w].dtype = INT8
        g.tensors[w].data = g.tensors[w].data.astype(np.int8)
    elif kind == "training-kchw":
        g.tensors[w].fmt = KCHW
        g.tensors[w].dims = [6, 4, 3, 3]
    elif kind == "grad-op":
        g.nodes.append(g.nodes[0].__class__("BNGrad", [x], [g.tensor([1])], {"eps": 0.1, "momentum": 0.9}))
    elif kind == "same-lower":
        g.nodes[0].attrs["padMode"] = 5
    elif kind == "padded-avgpool":
        p, _ = pool(poolingMode=1, avgMode=1, padMode=0, padUp=1, padDown=1, padLeft=1, padRight=1)()
        return p
    elif kind == "depthwise-multiplier":
        d, _ = depthwise_graph("DepthwiseConv2D")()
        d.nodes[0].attrs["channelMultiplier"] = 2
        return d
    return g


@pytest.mark.parametrize("kind, reason", [
    ("unknown-op", "operator Custom is not supported"),
    ("quantized", "quantized"),
    ("training-kchw", "weight layout is not KHWC"),
    ("grad-op", "BNGrad is a training operator"),
    ("same-lower", "SAME_LOWER"),
    ("padded-avgpool", "padded average pooling with 1.0's divisor"),
    ("depthwise-multiplier", "channel multiplier 2"),
])
def test_each_refusal(kind: str, reason: str, tmp_path: Path) -> None:
    src = tmp_path / "in.ms"
    src.write_bytes(write_v0(_refusal_graph(kind)))
    dest = tmp_path / "out.ms"
    with pytest.raises(TranslationRefused) as info:
        upgrade_ms(src, dest)
    assert any(reason in r for r in info.value.reasons), info.value.reasons
    assert not dest.exists() and list(tmp_path.iterdir()) == [src]  # nothing written
    assert not analyze_file(src).translatable


def test_all_reasons_are_listed_together(tmp_path: Path) -> None:
    g = _refusal_graph("same-lower")
    g.nodes.append(g.nodes[0].__class__("Custom", [0], [g.tensor([1])]))
    g.tensors[1].fmt = KCHW
    with pytest.raises(TranslationRefused) as info:
        upgrade_bytes(write_v0(g))
    assert len(info.value.reasons) >= 3


def test_1_1_files_are_read_with_their_defaults() -> None:
    g, _ = unary("SoftMax", [5, 3])()
    one_zero = read_model(write_v0(g)).nodes[0].attrs["axis"]
    data = write_v0(g, version="MindSpore Lite 1.1.0", identifier=b"MSL1")
    model = read_model(data)
    assert (one_zero, model.format, model.nodes[0].attrs["axis"]) == (0, "MSL1", -1)


def test_msl2_and_non_model_files_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(LegacyFormatError, match="already in the MSL2 format"):
        upgrade_bytes(bytes(upgrade_bytes(write_v0(conv_graph()()[0]))))
    with pytest.raises(LegacyFormatError, match="not a MindSpore Lite"):
        upgrade_bytes(b"# a markdown file, not a model\n" * 10)


# --- hostile input ----------------------------------------------------------------------------------

SMALL = write_v0(CASES["nhwc-nchw-bn-style"]()[0])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, len(SMALL) - 1), st.integers(1, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, len(SMALL))))
def test_corrupt_files_give_errors_not_tracebacks(flips: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray(SMALL)
    for pos, xor in flips:
        data[pos] ^= xor
    if cut is not None:
        data = data[:cut]
    start = time.perf_counter()
    try:
        upgrade_bytes(bytes(data))
    except HubtoolError:
        pass
    assert time.perf_counter() - start < 2.0


def test_absurd_sizes_are_refused() -> None:
    data = bytearray(SMALL)
    root = int.from_bytes(data[0:4], "little")
    vtable = root - int.from_bytes(data[root:root + 4], "little", signed=True)
    nodes_field = int.from_bytes(data[vtable + 4 + 2 * 6:vtable + 6 + 2 * 6], "little")
    vector = root + nodes_field + int.from_bytes(data[root + nodes_field:root + nodes_field + 4], "little")
    data[vector:vector + 4] = (10**9).to_bytes(4, "little")
    with pytest.raises(LegacyFormatError, match="claims|outside the file"):
        upgrade_bytes(bytes(data))


# --- commands ----------------------------------------------------------------------------------------


@needs_oracles
def test_inspect_and_upgrade_commands(tmp_path: Path) -> None:
    shown = run_cli("inspect", str(ORACLES / "mobile_segment.ms")).output
    assert "operators: Add 10, Concat 1, Conv2D 38, DepthwiseConv2D 17, Pooling 1, Resize 3" in shown
    assert "can translate it to MSL2" in shown
    out = tmp_path / "m.ms"
    result = run_cli("upgrade-ms", str(ORACLES / "mobile_segment.ms"), str(out))
    assert result.exit_code == 0 and "MSL2" in result.output
    assert "parseable by runtime 2.0.0; not yet loaded" in run_cli("inspect", str(out)).output
    bad = tmp_path / "bad.ms"
    bad.write_bytes(write_v0(_refusal_graph("same-lower")))
    refused = run_cli("upgrade-ms", str(bad), str(tmp_path / "never.ms"))
    assert refused.exit_code == 1 and not (tmp_path / "never.ms").exists()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(
        bytes(upgrade_bytes((ORACLES / "mobile_segment.ms").read_bytes()))).hexdigest()
    assert FLOAT32 == 43


def test_upgrade_ms_destinations_are_checked(tmp_path: Path) -> None:
    src = tmp_path / "m.ms"
    shutil.copyfile(ORACLES / "mobile_segment.ms", src)
    original = src.read_bytes()
    (tmp_path / "out").mkdir()
    for dest, said in [(tmp_path / "out", "is a folder: give the file to write"),
                       (tmp_path / "missing" / "m2.ms", "does not exist: create it first"),
                       (src, "is the input itself: pass --in-place")]:
        result = run_cli("upgrade-ms", str(src), str(dest))
        assert result.exit_code == 2 and said in result.output, result.output
        assert "Traceback" not in result.output and src.read_bytes() == original
    assert "or --in-place to replace IN" in run_cli("upgrade-ms", str(src)).output
    done = run_cli("upgrade-ms", str(src), "--in-place")
    assert done.exit_code == 0, done.output
    assert src.read_bytes() == bytes(upgrade_bytes(original)) and inspect_file(src).ms_format == "MSL2"


def test_refusals_are_grouped_by_reason_with_counts_and_one_example() -> None:
    shown = run_cli("inspect", str(SHARED / "ms-samples" / "lenet_train_v1.0.0.ms")).output
    lines = [line.strip() for line in shown.splitlines() if line.strip().startswith("- ")]
    assert "- ApplyMomentum is a training operator (a training export): 8 nodes, e.g. node " \
           "'Default/optimizer-Momentum/ApplyMomentum-op62'" in lines
    assert len(lines) == 7  # one per operator, not one per node (25 nodes are refused)


@pytest.mark.parametrize("how", ["weights copied by the kernel", "tables outgrow the size hint",
                                 "no copy_file_range"])
def test_upgrade_ms_writes_the_same_bytes_whichever_way_it_builds(how: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables are built in memory without the weights, which the kernel copies from the source; when the
    tables need more room than the hint the builder grows (the weights' places move with it), and without
    copy_file_range the weights are read and written: the bytes are those of upgrade_bytes every time, and
    no scratch or temp file is left."""
    import hubtool.durable
    import hubtool.legacy.upgrade as upgrade

    data = write_v0(resnet50_plain(widths=(8, 16, 32, 64)))
    src = tmp_path / "in" / "model.ms"
    src.parent.mkdir()
    src.write_bytes(data)
    expected = bytes(upgrade_bytes(data))
    if how == "tables outgrow the size hint":
        monkeypatch.setattr(upgrade, "output_size_hint", lambda model, translation: 4096)
    elif how == "no copy_file_range":
        def refuse(*args: object) -> int:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(hubtool.durable.os, "copy_file_range", refuse)
    dest = tmp_path / "out" / "model.ms"
    dest.parent.mkdir()
    assert upgrade_ms(src, dest) == len(expected)
    assert dest.read_bytes() == expected
    assert [p.name for p in dest.parent.iterdir()] == ["model.ms"]


@pytest.mark.parametrize("sync_file_range", [True, False], ids=["sync_file_range", "not on this platform"])
def test_upgrade_ms_starts_each_tensors_writeback_after_copying_it(sync_file_range: bool, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """After the kernel copies a tensor's weights into the output, writeback of exactly those output bytes
    is started (so that the fsync waits for the tail only); where sync_file_range is missing nothing is
    asked and nothing waits (no fdatasync per tensor): the bytes are the same either way."""
    import hubtool.durable as durable

    data = write_v0(resnet50_plain(widths=(8, 16, 32, 64)))
    src = tmp_path / "model.ms"
    src.write_bytes(data)
    copies: list[tuple[int, int]] = []
    hints: list[tuple[int, int, bool]] = []
    real_copy, real_hint = durable._copy_range, durable.writeback_hint

    def copy(src_fd: int, dst_fd: int, offset: int, length: int) -> None:
        copies.append((offset, length))
        real_copy(src_fd, dst_fd, offset, length)

    def hint(fd: int, offset: int, length: int) -> bool:
        started = real_hint(fd, offset, length)
        hints.append((offset, length, started))
        return started

    monkeypatch.setattr(durable, "_copy_range", copy)
    monkeypatch.setattr(durable, "writeback_hint", hint)
    if not sync_file_range:
        monkeypatch.setattr(durable, "_libc", lambda: None)
    syncs: list[int] = []
    monkeypatch.setattr(durable.os, "fdatasync", syncs.append)
    dest = tmp_path / "out.ms"
    upgrade_ms(src, dest)
    out = dest.read_bytes()
    assert out == bytes(upgrade_bytes(data)) and syncs == []
    assert len(copies) == len(hints) == sum(1 for t in read_model(data).tensors if len(t.data))
    for (source_at, length), (dest_at, hinted, started) in zip(copies, hints, strict=True):
        assert hinted == length and out[dest_at:dest_at + length] == data[source_at:source_at + length]
        assert started is sync_file_range
