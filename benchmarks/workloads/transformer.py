"""Transformer encoder forward + backward: 2 layers, d_model 128, 4 heads, ffn 512, MSE loss.

Batch 16 of 64 tokens, batch_first=True, PyTorch's defaults otherwise (dropout 0.1, ReLU,
post-norm). No NumPy floor: hand-writing multi-head attention and layer-norm backward
would be a second implementation to maintain for one row; the PyTorch ratio is the target.
"""
from .common import Unavailable, batch, framework, nn_layer

BATCH, SEQ, D_MODEL, HEADS, FFN, LAYERS = 16, 64, 128, 4, 512, 2


def build(name):
    if name == "floor":
        raise Unavailable("n/a (no floor written)")
    x = batch((BATCH, SEQ, D_MODEL))
    target = batch((BATCH, SEQ, D_MODEL), seed=1)
    lib = framework(name)
    layer_cls = nn_layer(lib, "TransformerEncoderLayer", "deepprimer.nn.transformer")
    encoder_cls = nn_layer(lib, "TransformerEncoder", "deepprimer.nn.transformer")
    layer = layer_cls(d_model=D_MODEL, nhead=HEADS, dim_feedforward=FFN, batch_first=True)
    encoder = encoder_cls(layer, num_layers=LAYERS)
    encoder.train()
    mse = lib.nn.functional.mse_loss
    tx, tt = lib.from_numpy(x), lib.from_numpy(target)

    def step():
        encoder.zero_grad()
        mse(encoder(tx), tt).backward()

    return step
