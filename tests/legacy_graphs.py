"""v0 graphs shared by the legacy tests (built with the test-only writer in legacy_writer.py)."""

from __future__ import annotations

import numpy as np
from legacy_writer import KHWC, Graph

CONV = dict(format=1, group=1, channelIn=0, strideW=1, strideH=1, padMode=0, padUp=1, padDown=1, padLeft=1,
            padRight=1, dilateW=1, dilateH=1, hasBias=True, activationType=0)


def resnet50_plain(*, widths: tuple[int, ...] = (64, 128, 256, 512), scale: float = 1.0,
                   seed: int = 1234) -> Graph:
    """A shortcut-free ResNet50 (16 bottlenecks of 1x1-3x3-1x1 convolutions) for 32x32x3 inputs, like the seed's."""
    rng = np.random.default_rng(seed)
    g = Graph()
    x = g.tensor([1, 32, 32, 3])
    g.inputs = [x]

    def conv(src: int, cin: int, cout: int, k: int, stride: int, relu: bool) -> int:
        std = scale * np.sqrt(2.0 / (k * k * cin))
        w = g.tensor([cout, k, k, cin], (rng.standard_normal((cout, k, k, cin)) * std).astype(np.float32), fmt=KHWC)
        b = g.tensor([cout], np.zeros(cout, np.float32))
        size = g.tensors[src].dims[1]
        out = -(-size // stride)
        return g.node("Conv2D", [src, w, b], [1, out, out, cout], channelOut=cout, kernelW=k, kernelH=k,
                      **{**CONV, "padMode": 1, "strideW": stride, "strideH": stride, "activationType": int(relu)})

    h, cin = conv(x, 3, widths[0], 3, 1, True), widths[0]
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), widths, strict=True)):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            h = conv(h, cin, width, 1, 1, True)
            h = conv(h, width, width, 3, stride, True)
            h = conv(h, width, width * 4, 1, 1, True)
            cin = width * 4
    size = g.tensors[h].dims[1]
    pooled = g.node("Pooling", [h], [1, 1, 1, cin], format=1, poolingMode=1, windowW=size, windowH=size, strideW=1,
                    strideH=1, padMode=2, padUp=0, padDown=0, padLeft=0, padRight=0, roundMode=0, activationType=0,
                    avgMode=1, **{"global": True})
    flat = g.node("Reshape", [pooled], [1, cin], format=1, shape=[1, cin])
    w = g.tensor([10, cin], (rng.standard_normal((10, cin)) * 0.05).astype(np.float32))
    b = g.tensor([10], rng.standard_normal(10).astype(np.float32))
    g.outputs = [g.node("FullConnection", [flat, w, b], [1, 10], hasBias=True, axis=1, useAxis=False,
                        activationType=0)]
    return g
