"""MSL2 (MindSpore Lite 1.2 ... 2.x) encodings, written from mindspore-lite's model.fbs / ops.fbs."""

from __future__ import annotations

# union PrimitiveType of ops.fbs, in order up to Transpose (append-only since 1.2): type value = position + 1
PRIMITIVES = """Abs Activation ActivationGrad Adam AddFusion AdderFusion AddGrad AddN All ApplyMomentum ArgMaxFusion
ArgMinFusion Assert Assign AssignAdd AudioSpectrogram AvgPoolFusion AvgPoolGrad BatchNorm BatchNormGrad BatchToSpace
BatchToSpaceND BiasAdd BinaryCrossEntropy BinaryCrossEntropyGrad BiasAddGrad BroadcastTo Cast Ceil Clip Concat
Attention Conv2DBackpropFilterFusion Conv2DBackpropInputFusion Conv2DFusion Conv2dTransposeFusion Cos ConstantOfShape
Crop CustomExtractFeatures CustomNormalize CustomPredict DeConv2DGradFilter Depend DepthToSpace DetectionPostProcess
DivFusion DivGrad Dropout DropoutGrad Elu Eltwise Equal EmbeddingLookupFusion ExpFusion ExpandDims
FakeQuantWithMinMaxVars FakeQuantWithMinMaxVarsPerChannel FftReal FftImag Flatten FlattenGrad Floor FloorDiv FloorMod
Fill FullConnection FusedBatchNorm Gather GatherNd Greater GreaterEqual HashtableLookup InstanceNorm LayerNormFusion
LeakyRelu Less LessEqual Log LogGrad LogicalAnd LogicalNot LogicalOr LpNormalization LRN LshProjection LSTM
L2NormalizeFusion MatMulFusion Maximum MaximumGrad MaxPoolFusion MaxPoolGrad SwitchLayer Mfcc Minimum MinimumGrad Mod
MulFusion MulGrad Neg NegGrad NotEqual NonMaxSuppression OneHot OnesLike PadFusion PartialFusion PowerGrad PowFusion
PriorBox PReLUFusion QuantDTypeCast Rank Range Reciprocal RealDiv ReduceFusion Reshape Resize ReverseSequence ReverseV2
Rfft ROIPooling Round Rsqrt ScaleFusion ScatterNd SGD Shape SigmoidCrossEntropyWithLogits
SigmoidCrossEntropyWithLogitsGrad Sin SkipGram SliceFusion SmoothL1Loss SmoothL1LossGrad Softmax
SoftmaxCrossEntropyWithLogits SpaceToBatch SpaceToBatchND SpaceToDepth SparseSoftmaxCrossEntropyWithLogits
SparseToDense Split Sqrt Squeeze Square SquaredDifference Stack StridedSlice SubFusion SubGrad Switch
TensorListFromTensor TensorListGetItem TensorListReserve TensorListSetItem TensorListStack TileFusion TopKFusion
Transpose""".split()
TYPE_OF = {name: i + 1 for i, name in enumerate(PRIMITIVES)}

# field slots (schema order) of the tables the translator writes: name -> (slot, kind)
FIELDS: dict[str, dict[str, tuple[int, str]]] = {
    "Conv2DFusion": {"format": (0, "int"), "kernel_size": (1, "[long]"), "stride": (2, "[long]"),
                     "dilation": (3, "[long]"), "pad_mode": (4, "byte"), "pad_list": (5, "[long]"),
                     "mode": (6, "long"), "group": (7, "long"), "in_channel": (8, "long"),
                     "out_channel": (9, "long"), "activation_type": (10, "byte")},
    "Conv2dTransposeFusion": {"format": (0, "int"), "kernel_size": (1, "[long]"), "stride": (2, "[long]"),
                              "dilation": (3, "[long]"), "pad_mode": (4, "byte"), "pad": (5, "[long]"),
                              "pad_list": (6, "[long]"), "mode": (7, "long"), "group": (8, "long"),
                              "in_channel": (9, "long"), "out_channel": (10, "long"),
                              "activation_type": (11, "byte"), "output_paddings": (12, "[long]")},
    "AvgPoolFusion": {"kernel_size": (0, "[long]"), "strides": (1, "[long]"), "pad": (2, "[long]"),
                      "pad_mode": (3, "byte"), "round_mode": (4, "byte"), "format": (5, "int"),
                      "global": (6, "bool"), "activation_type": (7, "byte")},
    "Activation": {"activation_type": (0, "byte"), "alpha": (1, "float"), "min_val": (2, "float"),
                   "max_val": (3, "float")},
    "AddFusion": {"activation_type": (0, "byte")},
    "SubFusion": {"activation_type": (0, "byte")},
    "MulFusion": {"activation_type": (0, "byte")},
    "DivFusion": {"activation_type": (0, "byte")},
    "Maximum": {},
    "BiasAdd": {"format": (0, "int")},
    "FusedBatchNorm": {"epsilon": (0, "float"), "momentum": (1, "float"), "mode": (2, "long")},
    "BatchNorm": {"epsilon": (0, "float"), "format": (1, "int"), "is_training": (2, "bool")},
    "ScaleFusion": {"axis": (0, "long"), "activation_type": (1, "byte")},
    "FullConnection": {"has_bias": (0, "bool"), "use_axis": (1, "bool"), "axis": (2, "long"),
                       "activation_type": (3, "byte")},
    "MatMulFusion": {"transpose_a": (0, "bool"), "transpose_b": (1, "bool"), "activation_type": (2, "byte")},
    "Reshape": {},
    "Flatten": {"axis": (0, "long")},
    "Squeeze": {"axis": (0, "[long]")},
    "Concat": {"axis": (0, "long")},
    "Softmax": {"axis": (0, "[long]")},
    "PadFusion": {"padding_mode": (1, "byte"), "constant_value": (2, "float")},
    "Transpose": {},
    "ReduceFusion": {"keep_dims": (0, "bool"), "mode": (1, "byte"), "reduce_to_end": (2, "bool"),
                     "coeff": (3, "float")},
    "Resize": {"format": (0, "int"), "method": (1, "byte"), "new_height": (2, "long"), "new_width": (3, "long"),
               "preserve_aspect_ratio": (4, "bool"), "coordinate_transform_mode": (5, "byte"),
               "cubic_coeff": (6, "float"), "exclude_outside": (7, "long"), "extrapolation_value": (8, "float"),
               "nearest_mode": (9, "byte")},
}
FIELDS["MaxPoolFusion"] = FIELDS["AvgPoolFusion"]
FIELD_COUNT = {name: max((slot for slot, _ in spec.values()), default=-1) + 1 for name, spec in FIELDS.items()}
FIELD_COUNT["PadFusion"] = 3

FORMAT_NHWC = 1
FORMAT_NC4HW4 = 13
PAD, SAME, VALID = 0, 1, 2
COORD_ASYMMETRIC, COORD_ALIGN_CORNERS = 0, 1
FLT_MAX = 3.4028234663852886e38
