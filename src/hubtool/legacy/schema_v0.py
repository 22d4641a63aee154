"""Field specs of the v0 schema (MindSpore Lite 1.0 and 1.1), written from model_v0.fbs / ops_v0.fbs.

A spec lists a table's fields in slot order as (name, kind, default).  1.0 and
1.1 share the layout (the 1.0 -> v0 change is append-only for every table here);
defaults differ in one place that matters: SoftMax.axis is 0 in 1.0, -1 in 1.1.
"""

from __future__ import annotations

from typing import Any

# union PrimitiveType of model_v0.fbs, in order: the union type value is position + 1
PRIMITIVES = """Concat SoftMax Activation Conv2D FusedBatchNorm BatchNorm BiasAdd Pooling ROIPooling DepthwiseConv2D
DeDepthwiseConv2D Resize DetectionPostProcess FullConnection Mean DeConv2D Scale Reshape Eltwise NetOutput Add Sub
MatMul StridedSlice Power Slice Stack Mul RealDiv Pad Maximum Minimum PReLU LeakyReLU ArgMax ArgMin Exp Crop Range
Rsqrt ExpandDims Tile Cast Shape Nchw2Nhwc Nhwc2Nchw QuantDTypeCast Split Permute FakeQuantWithMinMaxVars Equal Less
Greater NotEqual LessEqual GreaterEqual Min Floor Abs Neg Cos Sin Sqrt Square Constant Log Tan Atan Asin Clip
Transpose Squeeze Unsqueeze Upsample Dropout Broadcast BroadcastTo Lrn ZerosLike TopK SpaceToDepth SpaceToBatch
SparseToDense ReverseSequence Rank Gather GatherNd Fill Elu DepthToSpace BatchToSpace AddN Ceil EmbeddingLookup
EmbeddingLookupSparse FloorDiv FloorMod L2Norm LocalResponseNormalization MatrixDiag Reduce Reverse Round Select
Scatter ScatterND ConstantOfShape Unique Unstack LogicalAnd LogicalOr LogicalXor LogicalNot OnnxInt8Quantize
OnnxInt8Dequantize FakeQuantWithMinMax FakeQuantWithMinMaxPerChannel BatchNormFold MulFold AddFold
SquaredDifference Flatten FlattenGrad TupleGetItem Div Where OneHot Lstm Conv2DGradFilter Conv2DGradInput
PoolingGrad BNGrad Assign ApplyMomentum BiasGrad SoftmaxCrossEntropy AddGrad SubGrad MulGrad DivGrad PowerGrad
ActivationGrad PriorBox SpaceToBatchND Depend Return MakeTuple ToFormat Proposal Custom BlackBox NegGrad LogGrad
BatchToSpaceND LshProjection HashtableLookup SkipGram DeConv2DGradFilter CustomPredict CustomNormalize
CustomExtractFeatures AudioSpectrogram Mfcc Rfft FftReal FftImag Sgd Adam GroupConv2DGradInput Loop
NonMaxSuppression InstanceNorm Identity LayerNorm While ControlDepend UnsortedSegmentSum AssignAdd OnesLike
BinaryCrossEntropyGrad BinaryCrossEntropy LpNormalization DropoutGrad MaximumGrad MinimumGrad Switch Partial
TensorListFromTensor TensorListStack TensorListGetItem TensorListSetItem TensorListReserve All Assert Adder
SparseSoftmaxCrossEntropy SmoothL1Loss SmoothL1LossGrad SigmoidCrossEntropyWithLogits
SigmoidCrossEntropyWithLogitsGrad Reciprocal Merge Mod GeLU""".split()
TYPE_OF = {name: i + 1 for i, name in enumerate(PRIMITIVES)}
NAME_OF = {i + 1: name for i, name in enumerate(PRIMITIVES)}

#: training-only operators: their presence means a training export, refused as such
TRAINING = {name for name in PRIMITIVES if "Grad" in name} | {
    "ApplyMomentum", "Sgd", "Adam", "SoftmaxCrossEntropy", "SparseSoftmaxCrossEntropy", "BNGrad", "Assign",
    "AssignAdd", "BinaryCrossEntropy", "SmoothL1Loss", "SigmoidCrossEntropyWithLogits"}

_CONV = [("format", "int", 0), ("group", "int", 0), ("channelIn", "int", 0), ("channelOut", "int", 0),
         ("kernelW", "int", 0), ("kernelH", "int", 0), ("strideW", "int", 0), ("strideH", "int", 0),
         ("padMode", "byte", 0), ("padUp", "int", 0), ("padDown", "int", 0), ("padLeft", "int", 0),
         ("padRight", "int", 0), ("dilateW", "int", 0), ("dilateH", "int", 0), ("hasBias", "bool", False),
         ("activationType", "byte", 0)]
_DEPTHWISE = [("format", "int", 0), ("channelIn", "int", 0), ("channelMultiplier", "int", 0),
              ("kernelW", "int", 0), ("kernelH", "int", 0), ("strideW", "int", 0), ("strideH", "int", 0),
              ("padMode", "byte", 0), ("padUp", "int", 0), ("padDown", "int", 0), ("padLeft", "int", 0),
              ("padRight", "int", 0), ("dilateW", "int", 0), ("dilateH", "int", 0), ("hasBias", "bool", False),
              ("activationType", "byte", 0)]
_ACT_ONLY: list[tuple[str, str, Any]] = [("activationType", "byte", 0)]

#: table name -> fields in slot order (only the operators the translator supports)
FIELDS: dict[str, list[tuple[str, str, Any]]] = {
    "Conv2D": _CONV,
    "DepthwiseConv2D": _DEPTHWISE,
    "DeDepthwiseConv2D": _DEPTHWISE,
    "Pooling": [("format", "int", 0), ("poolingMode", "byte", 0), ("global", "bool", False),
                ("windowW", "int", 0), ("windowH", "int", 0), ("strideW", "int", 0), ("strideH", "int", 0),
                ("padMode", "byte", 0), ("padUp", "int", 0), ("padDown", "int", 0), ("padLeft", "int", 0),
                ("padRight", "int", 0), ("roundMode", "byte", 0), ("activationType", "byte", 0),
                ("avgMode", "int", 0)],
    "Activation": [("type", "byte", 0), ("alpha", "float", 0.2), ("min_val", "float", -1.0),
                   ("max_val", "float", 1.0)],
    "Add": _ACT_ONLY, "Sub": _ACT_ONLY, "Mul": _ACT_ONLY, "Div": _ACT_ONLY,
    "Maximum": [],
    "BiasAdd": [("axis", "[int]", None)],
    "FusedBatchNorm": [("epsilon", "float", 0.00001), ("momentum", "float", 0.9), ("spatial", "int", 1)],
    "BatchNorm": [("epsilon", "float", 0.00001)],
    "Scale": [("axis", "int", 0), ("activationType", "byte", 0)],
    "FullConnection": [("hasBias", "bool", False), ("axis", "int", 0), ("useAxis", "bool", False),
                       ("activationType", "byte", 0)],
    "MatMul": [("broadcast", "bool", False), ("transposeA", "bool", False), ("transposeB", "bool", False)],
    "Reshape": [("format", "int", 0), ("shape", "[long]", None)],
    "Flatten": [],
    "Squeeze": [("axis", "[int]", None)],
    "Concat": [("axis", "int", 0), ("n", "int", 0)],
    "SoftMax": [("axis", "int", -1)],  # 1.1's default; 1.0 files are read with axis = 0 (see DEFAULTS_1_0)
    "Pad": [("paddings", "[int]", None), ("paddingMode", "byte", 0), ("constantValue", "float", 0.0)],
    "Nchw2Nhwc": [], "Nhwc2Nchw": [],
    "Reduce": [("axes", "[int]", None), ("keepDims", "int", 0), ("mode", "byte", 0),
               ("reduceToEnd", "bool", False), ("coeff", "float", 1.0)],
    "Mean": [("axis", "[int]", None), ("keepDims", "bool", False)],
    "Resize": [("format", "int", 0), ("method", "byte", 0), ("newHeight", "long", 0), ("newWidth", "long", 0),
               ("alignCorners", "bool", False), ("preserveAspectRatio", "bool", False),
               ("coordinateTransformMode", "byte", 0), ("cubicCoeff", "float", 0.0), ("excludeOutside", "int", 0),
               ("extrapolationValue", "float", 0.0), ("nearestMode", "byte", 0)],
}
DEFAULTS_1_0 = {("SoftMax", "axis"): 0}

# v0 enums that the translation maps
PAD_NOTSET, PAD_SAME_UPPER, PAD_VALID, PAD_CAFFE, PAD_SAME_LOWER = 0, 1, 2, 4, 5
POOL_MAX, POOL_MEAN = 0, 1
FORMAT_KCHW, FORMAT_KHWC, FORMAT_NC4HW4_V0 = 5, 7, 100
