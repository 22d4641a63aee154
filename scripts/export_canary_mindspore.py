"""Runs INSIDE hubtool's MindSpore env (python file, not -c: MindSpore's graph compiler reads the source).

Usage: export_canary_mindspore.py WEIGHTS.npz NETWORK_FOLDER OUT_STEM IMAGES.npz [COMMITTED.mindir]
Builds the hub's network (NETWORK_FOLDER/mindspore_hub_conf.create_network), sets its parameters
from the Keras weights, saves OUT_STEM.ckpt and OUT_STEM.mindir, and prints (as JSON) the outputs
on the images of the checkpoint-loaded network, of the re-loaded MindIR and of COMMITTED.mindir.
"""

import json
import sys

import mindspore as ms
import numpy as np

weights_path, folder, out_stem, images_path = sys.argv[1:5]
sys.path.insert(0, folder)
from mindspore_hub_conf import create_network  # noqa: E402

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_seed(0)
net = create_network("cifar10-cnn-canary")
net.set_train(False)
weights = np.load(weights_path)
params = net.parameters_dict()
if sorted(params) != sorted(weights.files):
    raise SystemExit(f"the network's parameters {sorted(params)} are not the weights' {sorted(weights.files)}")
for name, param in params.items():
    value = weights[name]
    if tuple(param.shape) != value.shape:
        raise SystemExit(f"{name}: network {tuple(param.shape)}, weights {value.shape}")
    param.set_data(ms.Tensor(value))
ms.save_checkpoint(net, out_stem + ".ckpt")
images = np.load(images_path)
sample = ms.Tensor(np.zeros((1, 32, 32, 3), np.float32))
ms.export(net, sample, file_name=out_stem, file_format="MINDIR")

fresh = create_network("cifar10-cnn-canary")
ms.load_param_into_net(fresh, ms.load_checkpoint(out_stem + ".ckpt"), strict_load=True)
fresh.set_train(False)
cells = {"ckpt": fresh, "mindir": ms.nn.GraphCell(ms.load(out_stem + ".mindir"))}
if len(sys.argv) > 5:
    cells["committed-mindir"] = ms.nn.GraphCell(ms.load(sys.argv[5]))
out = {fmt: {} for fmt in cells}
for name in images.files:
    batch = ms.Tensor(images[name][None])
    for fmt, cell in cells.items():
        out[fmt][name] = cell(batch).asnumpy()[0].tolist()
print(json.dumps(out))
