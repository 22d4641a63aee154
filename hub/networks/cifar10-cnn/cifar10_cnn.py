"""The hub canary's network in MindSpore: the Keras CNN of PyPI cifar-10-model 7.4.0, layer for layer.

Input: a batch of 32x32 RGB images, channels last (NHWC), raw pixel values 0..255 as float32.
Six valid 3x3 convolutions, each with ReLU and then batch normalisation (epsilon 0.001, as Keras
has it), max-pools after the second and the fourth, flattened in Keras' HWC order, then dense
layers of 1024, 512 and 10 units, all three with ReLU (dropout is inactive in inference).
"""

import mindspore.nn as nn
import mindspore.ops as ops


def _conv_block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, pad_mode="valid", has_bias=True), nn.ReLU(),
            nn.BatchNorm2d(cout, eps=1e-3)]


class Cifar10Cnn(nn.Cell):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.SequentialCell(
            _conv_block(3, 64) + _conv_block(64, 64) + [nn.MaxPool2d(2, 2)]
            + _conv_block(64, 128) + _conv_block(128, 128) + [nn.MaxPool2d(2, 2)]
            + _conv_block(128, 64) + _conv_block(64, 64))
        self.classifier = nn.SequentialCell([
            nn.Dense(64, 1024, activation="relu"), nn.Dense(1024, 512, activation="relu"),
            nn.Dense(512, num_classes, activation="relu")])

    def construct(self, x):
        x = ops.transpose(x, (0, 3, 1, 2))  # the hub feeds NHWC; MindSpore's Conv2d is NCHW
        x = self.features(x)
        x = ops.transpose(x, (0, 2, 3, 1))  # Keras flattens channels last
        x = ops.reshape(x, (x.shape[0], -1))
        return self.classifier(x)
