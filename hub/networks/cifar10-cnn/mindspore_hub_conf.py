"""The hub's convention for checkpoints (MindSpore Hub's "Adding mindspore_hub_conf.py"):
create_network(name) returns the network a card's checkpoint is loaded into; `name` is the
card's model-name in lower case."""

from cifar10_cnn import Cifar10Cnn

MODELS = ("cifar10-cnn-canary", "cifar10-cnn-canary-ckpt")


def create_network(name, *args, **kwargs):
    if name not in MODELS:
        raise ValueError("this repository has no network for model %r (it has %s)" % (name, ", ".join(MODELS)))
    return Cifar10Cnn(*args, **kwargs)
