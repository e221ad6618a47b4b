#!/usr/bin/env python3
"""Writes golden cases for Kiln.NN and Kiln.Optim from PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_nn_golden.py
Layers: PyTorch's weights (state dict), inputs, outputs, and gradients of a fixed cotangent with respect to every
input and parameter. Losses: values and input gradients. Optimizers: parameters after 5 steps. Schedulers: the
learning-rate sequence over 30 steps. tests/Kiln.Tests/NN runs every case through Kiln.
"""
import json, math, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(4321)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "nn.json")


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [1 if x else 0 for x in t.reshape(-1).tolist()]}
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int64", "data": t.reshape(-1).tolist()}
    dt = "float64" if t.dtype == torch.float64 else "float32"
    vals = []
    for x in t.reshape(-1).tolist():
        if math.isnan(x): vals.append("nan")
        elif math.isinf(x): vals.append("inf" if x > 0 else "-inf")
        elif dt == "float32": vals.append(float(repr(np.float32(x))))  # shortest text that reads back as the same float32
        else: vals.append(x)
    return {"shape": list(t.shape), "dtype": dt, "data": vals}


class RMSNormRef(nn.Module):
    """nn.RMSNorm arrived in PyTorch 2.4; this is its formula for 1.13."""
    def __init__(self, shape, eps=None):
        super().__init__()
        self.shape = tuple(shape); self.eps = eps
        self.weight = nn.Parameter(torch.rand(self.shape) + 0.5)

    def forward(self, x):
        eps = self.eps if self.eps is not None else torch.finfo(x.dtype).eps
        dims = tuple(range(-len(self.shape), 0))
        return x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps) * self.weight


class ChannelShuffle(nn.Module):
    """nn.ChannelShuffle of PyTorch 1.13 has no derivative; this is its permutation written with reshape and transpose."""
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c = x.shape[:2]
        return x.reshape(n, self.groups, c // self.groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)

    def extra_repr(self):
        return f"groups={self.groups}"


def tup(v):
    """A list from the JSON arguments as the tuple a PyTorch user writes (PyTorch prints what it was given)."""
    return tuple(v) if isinstance(v, list) else v


def build(t, a):
    if t == "Linear": return nn.Linear(a["in"], a["out"], bias=a.get("bias", True))
    if t == "Conv1d": return nn.Conv1d(a["in"], a["out"], a["k"], stride=a.get("stride", 1), padding=a.get("padding", 0), dilation=a.get("dilation", 1), groups=a.get("groups", 1), bias=a.get("bias", True))
    if t == "Conv2d": return nn.Conv2d(a["in"], a["out"], a["k"], stride=a.get("stride", 1), padding=a.get("padding", 0), dilation=a.get("dilation", 1), groups=a.get("groups", 1), bias=a.get("bias", True))
    if t == "ConvTranspose2d": return nn.ConvTranspose2d(a["in"], a["out"], a["k"], stride=a.get("stride", 1), padding=a.get("padding", 0), output_padding=a.get("output_padding", 0), groups=a.get("groups", 1), dilation=a.get("dilation", 1))
    if t == "MaxPool2d": return nn.MaxPool2d(a["k"], stride=a.get("stride"), padding=a.get("padding", 0), dilation=a.get("dilation", 1), ceil_mode=a.get("ceil_mode", False))
    if t == "AvgPool2d": return nn.AvgPool2d(a["k"], stride=a.get("stride"), padding=a.get("padding", 0), ceil_mode=a.get("ceil_mode", False), count_include_pad=a.get("count_include_pad", True))
    if t == "AdaptiveAvgPool2d": return nn.AdaptiveAvgPool2d(tuple(a["size"]) if len(a["size"]) == 2 else a["size"][0])
    if t == "BatchNorm1d": return nn.BatchNorm1d(a["n"], momentum=a.get("momentum", 0.1), affine=a.get("affine", True), track_running_stats=a.get("track", True))
    if t == "BatchNorm2d": return nn.BatchNorm2d(a["n"], momentum=a.get("momentum", 0.1), affine=a.get("affine", True), track_running_stats=a.get("track", True))
    if t == "LayerNorm": return nn.LayerNorm(a["shape"], elementwise_affine=a.get("affine", True))
    if t == "RMSNorm": return RMSNormRef(a["shape"], a.get("eps"))
    if t == "GroupNorm": return nn.GroupNorm(a["groups"], a["channels"])
    if t == "Embedding": return nn.Embedding(a["num"], a["dim"], padding_idx=a.get("padding_idx"))
    if t == "ReLU": return nn.ReLU()
    if t == "GELU": return nn.GELU(approximate=a.get("approximate", "none"))
    if t == "SiLU": return nn.SiLU()
    if t == "Sigmoid": return nn.Sigmoid()
    if t == "Tanh": return nn.Tanh()
    if t == "LeakyReLU": return nn.LeakyReLU(a["slope"])
    if t == "Softmax": return nn.Softmax(a["dim"])
    if t == "LogSoftmax": return nn.LogSoftmax(a["dim"])
    if t == "Flatten": return nn.Flatten()
    if t == "Identity": return nn.Identity()
    if t == "Dropout": return nn.Dropout(a["p"])
    if t == "LSTM": return nn.LSTM(a["in"], a["hidden"], num_layers=a.get("layers", 1), bias=a.get("bias", True), batch_first=a.get("batch_first", False), bidirectional=a.get("bidirectional", False), proj_size=a.get("proj", 0))
    if t == "GRU": return nn.GRU(a["in"], a["hidden"], num_layers=a.get("layers", 1), bias=a.get("bias", True), batch_first=a.get("batch_first", False), bidirectional=a.get("bidirectional", False))
    if t == "MultiheadAttention": return nn.MultiheadAttention(a["embed"], a["heads"], kdim=a.get("kdim"), vdim=a.get("vdim"), batch_first=a.get("batch_first", False), bias=a.get("bias", True),
                                                                add_bias_kv=a.get("bias_kv", False), add_zero_attn=a.get("zero_attn", False))
    if t == "TransformerEncoderLayer": return nn.TransformerEncoderLayer(a["d"], a["heads"], a["ff"], dropout=0.0, activation=a.get("activation", "relu"), batch_first=a.get("batch_first", False), norm_first=a.get("norm_first", False))
    if t == "TransformerEncoder":
        layer = nn.TransformerEncoderLayer(a["d"], a["heads"], a["ff"], dropout=0.0, batch_first=True, norm_first=a.get("norm_first", False))
        return nn.TransformerEncoder(layer, a["layers"], norm=nn.LayerNorm(a["d"]) if a.get("norm") else None, enable_nested_tensor=False)
    if t == "TransformerDecoderLayer": return nn.TransformerDecoderLayer(a["d"], a["heads"], a["ff"], dropout=0.0, activation=a.get("activation", "relu"), batch_first=True, norm_first=a.get("norm_first", False))
    if t == "TransformerDecoder":
        layer = nn.TransformerDecoderLayer(a["d"], a["heads"], a["ff"], dropout=0.0, batch_first=True, norm_first=a.get("norm_first", False))
        return nn.TransformerDecoder(layer, a["layers"], norm=nn.LayerNorm(a["d"]) if a.get("norm") else None)
    if t == "ELU": return nn.ELU(a.get("alpha", 1.0))
    if t == "CELU": return nn.CELU(a.get("alpha", 1.0))
    if t == "RReLU": return nn.RReLU(a.get("lower", 1 / 8), a.get("upper", 1 / 3))
    if t == "PReLU": return nn.PReLU(a.get("n", 1), a.get("init", 0.25))
    if t == "ReLU6": return nn.ReLU6()
    if t == "Hardtanh": return nn.Hardtanh(a.get("min", -1.0), a.get("max", 1.0))
    if t == "Threshold": return nn.Threshold(a["threshold"], a["value"])
    if t == "Softshrink": return nn.Softshrink(a.get("lambd", 0.5))
    if t == "Hardshrink": return nn.Hardshrink(a.get("lambd", 0.5))
    if t == "Tanhshrink": return nn.Tanhshrink()
    if t == "GLU": return nn.GLU(a.get("dim", -1))
    if t == "Softmin": return nn.Softmin(a["dim"])
    if t == "Softplus": return nn.Softplus(a.get("beta", 1), a.get("threshold", 20))
    if t == "ZeroPad2d": return nn.ZeroPad2d(tuple(a["pad"]))
    if t == "ConstantPad3d": return nn.ConstantPad3d(tuple(a["pad"]), a["value"])
    if t == "ReflectionPad3d": return nn.ReflectionPad3d(tuple(a["pad"]))
    if t == "ReplicationPad3d": return nn.ReplicationPad3d(tuple(a["pad"]))
    if t == "AdaptiveLogSoftmaxWithLoss": return nn.AdaptiveLogSoftmaxWithLoss(a["in"], a["n"], a["cutoffs"], div_value=a.get("div", 4.0), head_bias=a.get("head_bias", False))
    if t == "LocalResponseNorm": return nn.LocalResponseNorm(a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("k", 1.0))
    if t == "ConstantPad1d": return nn.ConstantPad1d(tuple(a["pad"]), a["value"])
    if t == "ConstantPad2d": return nn.ConstantPad2d(tuple(a["pad"]), a["value"])
    if t == "ReflectionPad1d": return nn.ReflectionPad1d(tuple(a["pad"]))
    if t == "ReflectionPad2d": return nn.ReflectionPad2d(tuple(a["pad"]))
    if t == "ReplicationPad1d": return nn.ReplicationPad1d(tuple(a["pad"]))
    if t == "ReplicationPad2d": return nn.ReplicationPad2d(tuple(a["pad"]))
    if t == "PixelShuffle": return nn.PixelShuffle(a["r"])
    if t == "PixelUnshuffle": return nn.PixelUnshuffle(a["r"])
    if t == "Unflatten": return nn.Unflatten(a["dim"], tuple(a["sizes"]))
    if t == "AdaptiveAvgPool1d": return nn.AdaptiveAvgPool1d(a["size"])
    if t == "AdaptiveMaxPool1d": return nn.AdaptiveMaxPool1d(a["size"])
    if t == "Bilinear": return nn.Bilinear(a["in1"], a["in2"], a["out"], bias=a.get("bias", True))
    if t == "ConvTranspose1d": return nn.ConvTranspose1d(a["in"], a["out"], a["k"], stride=a.get("stride", 1), padding=a.get("padding", 0), output_padding=a.get("output_padding", 0), groups=a.get("groups", 1), dilation=a.get("dilation", 1), bias=a.get("bias", True))
    if t == "ConvTranspose3d": return nn.ConvTranspose3d(a["in"], a["out"], tuple(a["k"]) if isinstance(a["k"], list) else a["k"], stride=a.get("stride", 1), padding=a.get("padding", 0), output_padding=a.get("output_padding", 0), groups=a.get("groups", 1), bias=a.get("bias", True), dilation=a.get("dilation", 1))
    if t == "Conv3d": return nn.Conv3d(a["in"], a["out"], tuple(a["k"]) if isinstance(a["k"], list) else a["k"], stride=a.get("stride", 1), padding=a.get("padding", 0), dilation=a.get("dilation", 1), groups=a.get("groups", 1), bias=a.get("bias", True))
    if t == "MaxPool3d": return nn.MaxPool3d(tup(a["k"]), stride=tup(a.get("stride")), padding=tup(a.get("padding", 0)), dilation=tup(a.get("dilation", 1)), ceil_mode=a.get("ceil_mode", False))
    if t == "AvgPool3d": return nn.AvgPool3d(tup(a["k"]), stride=tup(a.get("stride")), padding=a.get("padding", 0), ceil_mode=a.get("ceil_mode", False), count_include_pad=a.get("count_include_pad", True))
    if t == "AdaptiveAvgPool3d": return nn.AdaptiveAvgPool3d(tuple(a["size"]) if isinstance(a["size"], list) else a["size"])
    if t == "AdaptiveMaxPool3d": return nn.AdaptiveMaxPool3d(tuple(a["size"]) if isinstance(a["size"], list) else a["size"])
    if t == "BatchNorm3d": return nn.BatchNorm3d(a["n"], momentum=a.get("momentum", 0.1), affine=a.get("affine", True), track_running_stats=a.get("track", True))
    if t == "InstanceNorm3d": return nn.InstanceNorm3d(a["n"], affine=a.get("affine", False))
    if t == "Unfold": return nn.Unfold(tuple(a["k"]), dilation=a.get("dilation", 1), padding=a.get("padding", 0), stride=a.get("stride", 1))
    if t == "Fold": return nn.Fold(tuple(a["out"]), tuple(a["k"]), dilation=a.get("dilation", 1), padding=a.get("padding", 0), stride=a.get("stride", 1))
    if t == "UpsamplingNearest2d": return nn.UpsamplingNearest2d(scale_factor=a["scale"]) if "scale" in a else nn.UpsamplingNearest2d(size=tuple(a["size"]))
    if t == "UpsamplingBilinear2d": return nn.UpsamplingBilinear2d(scale_factor=a["scale"]) if "scale" in a else nn.UpsamplingBilinear2d(size=tuple(a["size"]))
    if t == "ChannelShuffle": return ChannelShuffle(a["groups"])
    if t == "Softmax2d": return nn.Softmax2d()
    if t == "LPPool2d": return nn.LPPool2d(a["p"], a["k"], stride=a.get("stride"), ceil_mode=a.get("ceil_mode", False))
    if t == "LPPool1d": return nn.LPPool1d(a["p"], a["k"], stride=a.get("stride"), ceil_mode=a.get("ceil_mode", False))
    if t == "Dropout1d": return nn.Dropout1d(a["p"])
    if t == "EmbeddingBag": return nn.EmbeddingBag(a["num"], a["dim"], mode=a.get("mode", "mean"), include_last_offset=a.get("include_last_offset", False), padding_idx=a.get("padding_idx"))
    if t == "Dropout3d": return nn.Dropout3d(a["p"])
    if t == "Sequential": return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    if t == "SpectralNorm": return torch.nn.utils.parametrizations.spectral_norm(build(a["of"], a["args"]), n_power_iterations=a.get("iterations", 1))
    if t == "WeightNorm":
        m = build(a["of"], a["args"])
        torch.nn.utils.parametrize.register_parametrization(m, "weight", WeightNormReference(a.get("dim", 0)))
        return m
    raise ValueError(t)


class WeightNormReference(nn.Module):
    """torch.nn.utils.parametrizations.weight_norm's parametrization as PyTorch 2 writes it (1.13 has only the hook-based
    weight_norm): originals g = norm_except_dim(w) and v = w, forward torch._weight_norm(v, g, dim)."""
    def __init__(self, dim):
        super().__init__()
        self.dim = -1 if dim is None else dim
    def forward(self, weight_g, weight_v):
        return torch._weight_norm(weight_v, weight_g, self.dim)
    def right_inverse(self, weight):
        return torch.norm_except_dim(weight, 2, self.dim), weight
    def _get_name(self):
        return "_WeightNorm"


def run(t, m, inputs, a):
    if t == "LSTM":
        out, (h, c) = m(inputs[0], (inputs[1], inputs[2])) if len(inputs) > 1 else m(inputs[0])
        return [out, h, c]
    if t == "GRU":
        out, h = m(inputs[0], inputs[1]) if len(inputs) > 1 else m(inputs[0])
        return [out, h]
    if t == "MultiheadAttention":
        kw = dict(need_weights=a.get("need_weights", True), average_attn_weights=a.get("average", True))
        if len(inputs) > 3 and inputs[3] is not None: kw["key_padding_mask"] = inputs[3]
        if len(inputs) > 4 and inputs[4] is not None: kw["attn_mask"] = inputs[4]
        q = inputs[0]; k = q if a.get("self") else inputs[1]; v = q if a.get("self") else inputs[2]
        out, w = m(q, k, v, **kw)
        return [out] if w is None else [out, w]
    if t in ("TransformerEncoderLayer", "TransformerEncoder"):
        kw = {}
        if len(inputs) > 1 and inputs[1] is not None: kw["src_mask" if t.endswith("Layer") else "mask"] = inputs[1]
        if len(inputs) > 2 and inputs[2] is not None: kw["src_key_padding_mask"] = inputs[2]
        return [m(inputs[0], **kw)]
    if t == "Bilinear":
        return [m(inputs[0], inputs[1])]
    if t == "AdaptiveLogSoftmaxWithLoss":
        out = m(inputs[0], inputs[1])
        return [out.output, out.loss, m.log_prob(inputs[0])]
    if t == "EmbeddingBag":
        return [m(inputs[0], inputs[1] if len(inputs) > 1 else None, per_sample_weights=inputs[2] if len(inputs) > 2 else None)]
    if t in ("TransformerDecoderLayer", "TransformerDecoder"):
        kw = {}
        if len(inputs) > 2 and inputs[2] is not None: kw["tgt_mask"] = inputs[2]
        return [m(inputs[0], inputs[1], **kw)]
    return [m(inputs[0])]


modules = []


def module_case(name, t, a, inputs, train=True, randomize=False, tol="float32", double=False):
    m = build(t, a)
    if randomize:  # non-trivial norm weights and running statistics
        with torch.no_grad():
            for n_, p in m.named_parameters(): p.uniform_(0.5, 1.5) if n_.endswith("weight") else p.uniform_(-0.5, 0.5)
            for n_, b in m.named_buffers():
                if n_.endswith("running_mean"): b.uniform_(-0.5, 0.5)
                if n_.endswith("running_var"): b.uniform_(0.5, 2.0)
    if double: m = m.double()
    m.train(train)
    state = {k: enc(v) for k, v in m.state_dict().items()}
    ins = []
    # Masks never get gradients: only the data inputs of attention layers require them.
    data = {"MultiheadAttention": 3, "TransformerEncoderLayer": 1, "TransformerEncoder": 1, "TransformerDecoderLayer": 2, "TransformerDecoder": 2}.get(t, len(inputs))
    for i, x in enumerate(inputs):
        if x is not None and x.dtype.is_floating_point and i < data:
            x = x.double() if double else x
            x.requires_grad_(True)
        ins.append(x)
    outs = run(t, m, ins, a)
    cots = [torch.randn(o.shape, dtype=o.dtype) for o in outs]
    loss = sum((o * c).sum() for o, c in zip(outs, cots))
    loss.backward()
    modules.append({
        "name": name, "type": t, "args": a, "train": train, "state": state,
        "inputs": [None if x is None else enc(x) for x in ins],
        "outputs": [enc(o) for o in outs], "cots": [enc(c) for c in cots],
        "input_grads": [enc(x.grad) if x is not None and x.grad is not None else None for x in ins],
        "param_grads": {k: enc(p.grad) for k, p in m.named_parameters() if p.grad is not None},
        "buffers_after": {k: enc(v) for k, v in m.named_buffers()},
        "repr": repr(m), "tol": tol,
    })


R = torch.randn
module_case("linear", "Linear", {"in": 5, "out": 3}, [R(4, 5)])
module_case("linear_nobias_3d", "Linear", {"in": 5, "out": 3, "bias": False}, [R(2, 3, 5)])
module_case("conv1d_stride_pad", "Conv1d", {"in": 3, "out": 4, "k": 3, "stride": 2, "padding": 1}, [R(2, 3, 9)])
module_case("conv1d_same_groups_dilation", "Conv1d", {"in": 4, "out": 4, "k": 3, "padding": "same", "groups": 2, "dilation": 2}, [R(2, 4, 10)])
module_case("conv2d", "Conv2d", {"in": 3, "out": 4, "k": 3}, [R(2, 3, 7, 6)])
module_case("conv2d_stride_pad_groups", "Conv2d", {"in": 4, "out": 6, "k": 3, "stride": 2, "padding": 1, "groups": 2}, [R(2, 4, 8, 8)])
module_case("conv2d_same_even_kernel", "Conv2d", {"in": 2, "out": 3, "k": 4, "padding": "same"}, [R(1, 2, 6, 5)])
module_case("conv2d_dilation_nobias", "Conv2d", {"in": 2, "out": 2, "k": 3, "dilation": 2, "padding": 2, "bias": False}, [R(2, 2, 7, 7)])
module_case("conv2d_unbatched", "Conv2d", {"in": 2, "out": 3, "k": 3, "padding": 1}, [R(2, 5, 5)])
module_case("conv_transpose2d", "ConvTranspose2d", {"in": 3, "out": 2, "k": 3, "stride": 2, "padding": 1, "output_padding": 1}, [R(2, 3, 4, 5)])
module_case("conv_transpose2d_groups", "ConvTranspose2d", {"in": 4, "out": 4, "k": 3, "groups": 2}, [R(1, 4, 3, 3)])
module_case("conv_transpose2d_dilation", "ConvTranspose2d", {"in": 2, "out": 3, "k": 2, "stride": 3, "dilation": 2}, [R(1, 2, 3, 4)])
module_case("maxpool2d", "MaxPool2d", {"k": 2}, [R(2, 3, 6, 6)])
module_case("maxpool2d_stride_pad", "MaxPool2d", {"k": 3, "stride": 2, "padding": 1}, [R(1, 2, 7, 7)])
module_case("maxpool2d_ceil", "MaxPool2d", {"k": 3, "stride": 2, "ceil_mode": True}, [R(1, 2, 8, 8)])
module_case("maxpool2d_dilation", "MaxPool2d", {"k": 2, "stride": 1, "dilation": 2}, [R(1, 2, 6, 6)])
module_case("avgpool2d", "AvgPool2d", {"k": 2}, [R(2, 3, 6, 6)])
module_case("avgpool2d_pad", "AvgPool2d", {"k": 3, "stride": 2, "padding": 1}, [R(1, 2, 7, 7)])
module_case("avgpool2d_pad_exclude", "AvgPool2d", {"k": 3, "stride": 2, "padding": 1, "count_include_pad": False}, [R(1, 2, 7, 7)])
module_case("avgpool2d_ceil", "AvgPool2d", {"k": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [R(1, 2, 8, 8)])
module_case("avgpool2d_ceil_exclude", "AvgPool2d", {"k": 3, "stride": 2, "ceil_mode": True, "count_include_pad": False}, [R(1, 2, 8, 7)])
module_case("adaptive_avgpool2d", "AdaptiveAvgPool2d", {"size": [2, 3]}, [R(2, 3, 7, 5)])
module_case("adaptive_avgpool2d_1", "AdaptiveAvgPool2d", {"size": [1]}, [R(2, 3, 4, 4)])
module_case("batchnorm1d_train", "BatchNorm1d", {"n": 4}, [R(6, 4)], randomize=True)
module_case("batchnorm1d_3d_train", "BatchNorm1d", {"n": 3}, [R(4, 3, 5)], randomize=True)
module_case("batchnorm2d_train", "BatchNorm2d", {"n": 3}, [R(4, 3, 5, 5)], randomize=True)
module_case("batchnorm2d_eval", "BatchNorm2d", {"n": 3}, [R(4, 3, 5, 5)], train=False, randomize=True)
module_case("batchnorm2d_cumulative", "BatchNorm2d", {"n": 3, "momentum": None}, [R(4, 3, 3, 3)], randomize=True)
module_case("batchnorm2d_no_stats", "BatchNorm2d", {"n": 3, "track": False, "affine": False}, [R(4, 3, 3, 3)], train=False)
# Runs long enough for the fused kernel's vector body (and an offset mean), and BatchNorm1d over many rows.
module_case("batchnorm2d_wide_train", "BatchNorm2d", {"n": 8}, [R(4, 8, 5, 7) * 3 + 5], randomize=True)
module_case("batchnorm1d_wide_train", "BatchNorm1d", {"n": 16}, [R(32, 16)], randomize=True)
module_case("layernorm", "LayerNorm", {"shape": [6]}, [R(3, 4, 6)], randomize=True)
module_case("layernorm_2d_noaffine", "LayerNorm", {"shape": [4, 6], "affine": False}, [R(3, 4, 6)])
module_case("rmsnorm", "RMSNorm", {"shape": [6]}, [R(3, 4, 6)])
module_case("rmsnorm_eps", "RMSNorm", {"shape": [4, 6], "eps": 1e-3}, [R(2, 4, 6)])
module_case("groupnorm", "GroupNorm", {"groups": 2, "channels": 6}, [R(3, 6, 4, 4)], randomize=True)
module_case("embedding", "Embedding", {"num": 10, "dim": 4}, [torch.randint(0, 10, (3, 5))])
module_case("embedding_padding", "Embedding", {"num": 10, "dim": 4, "padding_idx": 0}, [torch.tensor([[0, 2, 0, 5], [1, 0, 9, 2]])])
for act, a in [("ReLU", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Sigmoid", {}), ("Tanh", {}),
               ("LeakyReLU", {"slope": 0.2}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}), ("Flatten", {}), ("Identity", {}), ("Dropout", {"p": 0.3})]:
    module_case(act.lower() + ("_tanh" if a.get("approximate") == "tanh" else ""), act, a, [R(3, 4, 5)], train=(act != "Dropout"))
module_case("lstm", "LSTM", {"in": 5, "hidden": 7}, [R(6, 3, 5)])
module_case("lstm_2layer_bidir_batchfirst_state", "LSTM", {"in": 5, "hidden": 7, "layers": 2, "batch_first": True, "bidirectional": True}, [R(3, 6, 5), R(4, 3, 7), R(4, 3, 7)])
module_case("lstm_unbatched_nobias", "LSTM", {"in": 4, "hidden": 3, "bias": False}, [R(5, 4)])
module_case("lstm_proj_2layer_bidir_state", "LSTM", {"in": 5, "hidden": 7, "layers": 2, "bidirectional": True, "proj": 3}, [R(6, 2, 5), R(4, 2, 3), R(4, 2, 7)])
module_case("lstm_proj_batchfirst", "LSTM", {"in": 4, "hidden": 9, "batch_first": True, "proj": 8}, [R(2, 5, 4)])
module_case("gru", "GRU", {"in": 5, "hidden": 7}, [R(6, 3, 5)])
module_case("gru_2layer_bidir_batchfirst_state", "GRU", {"in": 5, "hidden": 6, "layers": 2, "batch_first": True, "bidirectional": True}, [R(3, 4, 5), R(4, 3, 6)])
module_case("mha_weights", "MultiheadAttention", {"embed": 8, "heads": 2}, [R(5, 3, 8), R(7, 3, 8), R(7, 3, 8)])
kpm = torch.tensor([[False] * 5 + [True, True], [False] * 7, [False] * 6 + [True]])
causal = torch.triu(torch.ones(5, 7, dtype=torch.bool), 3)
module_case("mha_batchfirst_masks_noweights", "MultiheadAttention", {"embed": 8, "heads": 2, "batch_first": True, "need_weights": False}, [R(3, 5, 8), R(3, 7, 8), R(3, 7, 8), kpm, causal])
module_case("mha_self_per_head_weights", "MultiheadAttention", {"embed": 8, "heads": 4, "batch_first": True, "self": True, "average": False}, [R(2, 5, 8), None, None, None, torch.randn(5, 5) * 0.5])
module_case("mha_kdim_vdim", "MultiheadAttention", {"embed": 8, "heads": 2, "kdim": 5, "vdim": 3, "batch_first": True}, [R(2, 4, 8), R(2, 6, 5), R(2, 6, 3)])
module_case("mha_bias_kv_zero_attn_masks", "MultiheadAttention", {"embed": 8, "heads": 2, "batch_first": True, "bias_kv": True, "zero_attn": True},
            [R(3, 5, 8), R(3, 7, 8), R(3, 7, 8), kpm, causal])
module_case("mha_zero_attn_self", "MultiheadAttention", {"embed": 8, "heads": 4, "self": True, "zero_attn": True, "average": False}, [R(5, 2, 8)])
module_case("encoder_layer", "TransformerEncoderLayer", {"d": 8, "heads": 2, "ff": 16, "batch_first": True}, [R(2, 5, 8)])
src_mask = torch.triu(torch.full((5, 5), float("-inf")), 1)
module_case("encoder_layer_normfirst_gelu_masks", "TransformerEncoderLayer", {"d": 8, "heads": 2, "ff": 16, "batch_first": True, "norm_first": True, "activation": "gelu"},
            [R(2, 5, 8), src_mask, torch.tensor([[False] * 4 + [True], [False] * 5])])
module_case("encoder_layer_seqfirst", "TransformerEncoderLayer", {"d": 8, "heads": 4, "ff": 12}, [R(5, 2, 8)])
module_case("encoder_2layers_norm", "TransformerEncoder", {"d": 8, "heads": 2, "ff": 16, "layers": 2, "norm": True}, [R(2, 5, 8)])
module_case("decoder_layer", "TransformerDecoderLayer", {"d": 8, "heads": 2, "ff": 16}, [R(2, 4, 8), R(2, 6, 8), torch.triu(torch.full((4, 4), float("-inf")), 1)])
module_case("decoder_2layers_normfirst", "TransformerDecoder", {"d": 8, "heads": 2, "ff": 16, "layers": 2, "norm": True, "norm_first": True}, [R(2, 4, 8), R(2, 6, 8)])
module_case("sequential", "Sequential", {}, [R(3, 4)])


def with_edges(x, values):
    """x with its first elements replaced by values: the kinks and bounds where PyTorch's gradient rules are strict."""
    x = x.clone()
    x.view(-1)[:len(values)] = torch.tensor(values, dtype=x.dtype)
    return x


# More activations, on their own seed so the cases above and below keep their values. Each input holds the op's kinks.
with torch.random.fork_rng():
    torch.manual_seed(23)
    for name, t, a, edges in [
            ("elu", "ELU", {}, [0.0, -1e-3, 1e-3, -30.0, 100.0]),
            ("elu_alpha", "ELU", {"alpha": 0.5}, [0.0, -2.0]),
            ("celu", "CELU", {"alpha": 2.0}, [0.0, -1e-3, -30.0, 100.0]),
            ("prelu", "PReLU", {}, [0.0, -1.0]),
            ("relu6", "ReLU6", {}, [0.0, 6.0, 3.0, 7.0, -1.0]),
            ("hardtanh", "Hardtanh", {"min": -0.5, "max": 2.0}, [-0.5, 2.0, 0.0, 2.5]),
            ("threshold", "Threshold", {"threshold": 0.1, "value": 20.0}, [0.1, 0.2, 0.0]),
            ("softshrink", "Softshrink", {"lambd": 0.5}, [0.5, -0.5, 0.0, 0.6]),
            ("hardshrink", "Hardshrink", {"lambd": 0.5}, [0.5, -0.5, 0.0, 0.6]),
            ("tanhshrink", "Tanhshrink", {}, [0.0, 1e-3]),
            ("glu", "GLU", {}, []),
            ("glu_dim1", "GLU", {"dim": 1}, []),
            ("softmin", "Softmin", {"dim": 1}, []),
            ("softplus", "Softplus", {}, [20.0, 25.0]),
            ("softplus_beta", "Softplus", {"beta": 2, "threshold": 5}, [2.5, 3.0])]:
        module_case(name, t, a, [with_edges(R(3, 4, 6) * 2, edges)])
    module_case("prelu_channels", "PReLU", {"n": 4, "init": 0.1}, [with_edges(R(2, 4, 3, 3), [0.0, -1.0])], randomize=True)

# Padding, shuffling and reshaping layers, 1-D adaptive pools, Bilinear: their own seed again.
with torch.random.fork_rng():
    torch.manual_seed(41)
    module_case("zero_pad2d", "ZeroPad2d", {"pad": [1, 1, 2, 0]}, [R(2, 3, 4, 5)])
    module_case("constant_pad1d", "ConstantPad1d", {"pad": [2, 1], "value": 3.5}, [R(2, 3, 4)])
    module_case("constant_pad2d", "ConstantPad2d", {"pad": [1, 2, 3, 4], "value": 0.5}, [R(1, 2, 3, 3)])
    module_case("reflection_pad1d", "ReflectionPad1d", {"pad": [2, 3]}, [R(2, 3, 5)])
    module_case("reflection_pad2d", "ReflectionPad2d", {"pad": [1, 1, 2, 0]}, [R(1, 2, 4, 4)])
    module_case("replication_pad1d", "ReplicationPad1d", {"pad": [1, 2]}, [R(2, 3, 4)])
    module_case("replication_pad2d", "ReplicationPad2d", {"pad": [2, 2, 2, 2]}, [R(1, 2, 3, 3)])
    module_case("pixel_shuffle", "PixelShuffle", {"r": 2}, [R(2, 8, 3, 4)])
    module_case("pixel_shuffle_unbatched", "PixelShuffle", {"r": 3}, [R(9, 2, 2)])
    module_case("pixel_unshuffle", "PixelUnshuffle", {"r": 2}, [R(2, 3, 4, 6)])
    module_case("unflatten", "Unflatten", {"dim": 1, "sizes": [2, 5]}, [R(3, 10, 2)])
    module_case("adaptive_avgpool1d", "AdaptiveAvgPool1d", {"size": 3}, [R(2, 3, 8)])
    module_case("adaptive_maxpool1d", "AdaptiveMaxPool1d", {"size": 3}, [R(2, 3, 7)])
    module_case("bilinear", "Bilinear", {"in1": 3, "in2": 4, "out": 5}, [R(6, 3), R(6, 4)])
    module_case("bilinear_nobias_3d", "Bilinear", {"in1": 3, "in2": 2, "out": 4, "bias": False}, [R(2, 5, 3), R(2, 5, 2)])
    module_case("conv_transpose1d", "ConvTranspose1d", {"in": 3, "out": 4, "k": 3, "stride": 2, "padding": 1, "output_padding": 1}, [R(2, 3, 5)])
    module_case("conv_transpose1d_groups_dilation_unbatched", "ConvTranspose1d", {"in": 4, "out": 2, "k": 2, "groups": 2, "dilation": 2, "bias": False}, [R(4, 6)])

# The 3-D (volumetric) family, the patch and channel-rearranging layers, LP pooling: their own seed.
with torch.random.fork_rng():
    torch.manual_seed(43)
    module_case("conv3d", "Conv3d", {"in": 2, "out": 3, "k": 2}, [R(2, 2, 4, 5, 5)])
    module_case("conv3d_stride_padding_dilation", "Conv3d", {"in": 3, "out": 2, "k": [2, 3, 2], "stride": [2, 1, 2], "padding": [1, 1, 0], "dilation": [1, 2, 1]}, [R(1, 3, 5, 6, 5)])
    module_case("conv3d_groups_unbatched", "Conv3d", {"in": 4, "out": 2, "k": 3, "groups": 2, "padding": 1, "bias": False}, [R(4, 3, 4, 4)])
    module_case("maxpool3d", "MaxPool3d", {"k": 2}, [R(2, 3, 4, 6, 5)])
    module_case("maxpool3d_padding_ceil", "MaxPool3d", {"k": [3, 2, 2], "stride": [2, 1, 2], "padding": [1, 0, 1], "dilation": [1, 2, 1], "ceil_mode": True}, [R(1, 2, 5, 6, 5)])
    module_case("avgpool3d", "AvgPool3d", {"k": 2, "stride": 1}, [R(2, 2, 3, 4, 4)])
    module_case("avgpool3d_padding_exclude", "AvgPool3d", {"k": [3, 2, 3], "stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True}, [R(1, 2, 5, 4, 6)])
    module_case("avgpool3d_padding_include", "AvgPool3d", {"k": 3, "stride": 2, "padding": 1}, [R(1, 2, 5, 4, 6)])
    module_case("adaptive_avgpool3d", "AdaptiveAvgPool3d", {"size": [2, 3, 2]}, [R(2, 2, 5, 7, 4)])
    module_case("adaptive_maxpool3d", "AdaptiveMaxPool3d", {"size": 2}, [R(1, 3, 5, 4, 3)])
    module_case("batchnorm3d_train", "BatchNorm3d", {"n": 3}, [R(2, 3, 2, 3, 4) * 2 + 1], randomize=True)
    module_case("batchnorm3d_eval", "BatchNorm3d", {"n": 3}, [R(2, 3, 2, 3, 4)], train=False, randomize=True)
    module_case("instancenorm3d_affine", "InstanceNorm3d", {"n": 2, "affine": True}, [R(2, 2, 3, 3, 4)], randomize=True)
    module_case("unfold_module", "Unfold", {"k": [2, 3], "padding": 1, "stride": 2}, [R(2, 3, 5, 6)])
    module_case("fold_module", "Fold", {"out": [4, 5], "k": [2, 2]}, [R(2, 12, 12)])
    module_case("upsampling_nearest2d", "UpsamplingNearest2d", {"scale": 2}, [R(1, 2, 3, 4)])
    module_case("upsampling_bilinear2d", "UpsamplingBilinear2d", {"size": [5, 7]}, [R(1, 2, 3, 4)])
    module_case("channel_shuffle", "ChannelShuffle", {"groups": 3}, [R(2, 6, 2, 3)])
    module_case("softmax2d", "Softmax2d", {}, [R(2, 4, 3, 3)])
    module_case("lppool2d", "LPPool2d", {"p": 2, "k": 2}, [R(2, 3, 4, 6)])
    module_case("lppool2d_p3_stride", "LPPool2d", {"p": 3, "k": 3, "stride": 1}, [R(1, 2, 5, 5).abs() + 0.1])
    module_case("lppool1d", "LPPool1d", {"p": 1.5, "k": 3, "stride": 2}, [R(2, 3, 9).abs() + 0.1])
    module_case("dropout1d_eval", "Dropout1d", {"p": 0.5}, [R(2, 3, 4)], train=False)
    module_case("dropout3d_eval", "Dropout3d", {"p": 0.3}, [R(2, 3, 2, 2, 2)], train=False)

# EmbeddingBag: 2-D bags, 1-D bags with offsets (an empty bag), per-sample weights, max, include_last_offset, padding_idx.
with torch.random.fork_rng():
    torch.manual_seed(67)
    module_case("embedding_bag_mean_2d", "EmbeddingBag", {"num": 10, "dim": 3}, [torch.tensor([[1, 2, 4], [4, 3, 9]])])
    module_case("embedding_bag_sum_offsets_weights", "EmbeddingBag", {"num": 10, "dim": 4, "mode": "sum"},
                [torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 3, 3, 6]), torch.rand(8) + 0.5])
    module_case("embedding_bag_max_last_offset", "EmbeddingBag", {"num": 8, "dim": 3, "mode": "max", "include_last_offset": True},
                [torch.tensor([1, 5, 2, 2, 7, 0, 3, 6]), torch.tensor([0, 2, 5, 8])])
    module_case("embedding_bag_mean_padding", "EmbeddingBag", {"num": 6, "dim": 2, "padding_idx": 0},
                [torch.tensor([0, 2, 3, 0, 0, 5, 1]), torch.tensor([0, 3, 5])])

# Parametrizations: spectral norm (its power-iteration vectors loaded, one step per training forward; eval reads them)
# and weight norm (g and v as original0 and original1), on Linear, Conv2d and ConvTranspose2d (spectral dim 1 there).
with torch.random.fork_rng():
    torch.manual_seed(68)
    module_case("spectral_norm_linear", "SpectralNorm", {"of": "Linear", "args": {"in": 5, "out": 4}}, [R(3, 5)])
    module_case("spectral_norm_linear_eval", "SpectralNorm", {"of": "Linear", "args": {"in": 5, "out": 4}}, [R(3, 5)], train=False)
    module_case("spectral_norm_conv2d_two_steps", "SpectralNorm", {"of": "Conv2d", "args": {"in": 3, "out": 4, "k": 3}, "iterations": 2}, [R(2, 3, 6, 6)])
    module_case("spectral_norm_conv_transpose2d", "SpectralNorm", {"of": "ConvTranspose2d", "args": {"in": 3, "out": 2, "k": 3, "stride": 2}}, [R(2, 3, 4, 4)])
    module_case("weight_norm_linear", "WeightNorm", {"of": "Linear", "args": {"in": 5, "out": 4}}, [R(3, 5)])
    module_case("weight_norm_conv2d_whole", "WeightNorm", {"of": "Conv2d", "args": {"in": 3, "out": 4, "k": 3}, "dim": None}, [R(2, 3, 6, 6)])
    module_case("weight_norm_linear_dim1", "WeightNorm", {"of": "Linear", "args": {"in": 5, "out": 4}, "dim": 1}, [R(3, 5)])

# ConvTranspose3d: strides per dim with output padding, dilation, groups without bias, unbatched; spectral norm on it (dim 1).
with torch.random.fork_rng():
    torch.manual_seed(69)
    module_case("conv_transpose3d", "ConvTranspose3d", {"in": 2, "out": 3, "k": 2}, [R(2, 2, 3, 4, 4)])
    module_case("conv_transpose3d_stride_output_padding", "ConvTranspose3d", {"in": 3, "out": 2, "k": [3, 2, 3], "stride": [2, 2, 1], "padding": [1, 0, 1], "output_padding": [1, 1, 0]},
                [R(1, 3, 3, 4, 3)])
    module_case("conv_transpose3d_dilation_groups_unbatched", "ConvTranspose3d", {"in": 4, "out": 2, "k": 2, "dilation": [2, 1, 2], "groups": 2, "bias": False},
                [R(4, 3, 3, 4)])
    module_case("spectral_norm_conv_transpose3d", "SpectralNorm", {"of": "ConvTranspose3d", "args": {"in": 2, "out": 3, "k": 2, "stride": 2}}, [R(1, 2, 2, 3, 3)])

# ---- functional ---------------------------------------------------------------------------------------------
functional = []


def f_case(name, fn, inputs, args, grad=True):
    # Attention masks are constants in Kiln (no gradient), so only q, k, v require one.
    # The random samples of fractional max pooling are constants too.
    n = 3 if args["op"] == "sdpa" else 1 if args["op"] == "fractional_max_pool2d" else len(inputs)
    ins = [x.clone().requires_grad_(grad and x.dtype.is_floating_point and i < n) if x is not None else None for i, x in enumerate(inputs)]
    out = fn(*ins)
    cot = torch.randn(out.shape, dtype=out.dtype) if out.dtype.is_floating_point else None
    if cot is not None and any(x is not None and x.requires_grad for x in ins):
        (out * cot).sum().backward()
    functional.append({"name": name, "args": args, "inputs": [None if x is None else enc(x) for x in ins], "output": enc(out),
                       "cot": None if cot is None else enc(cot),
                       "input_grads": [enc(x.grad) if x is not None and x.grad is not None else None for x in ins]})


def sdpa_ref(q, k, v, mask=None, causal=False, scale=None):
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal: s = s.masked_fill(torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).triu(1), float("-inf"))
    if mask is not None: s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


f_case("sdpa", lambda q, k, v: sdpa_ref(q, k, v), [R(2, 3, 5, 8), R(2, 3, 7, 8), R(2, 3, 7, 6)], {"op": "sdpa"})
f_case("sdpa_causal", lambda q, k, v: sdpa_ref(q, k, v, causal=True), [R(2, 130, 16), R(2, 130, 16), R(2, 130, 16)], {"op": "sdpa", "causal": True})
f_case("sdpa_bool_mask_broadcast", lambda q, k, v, m: sdpa_ref(q, k, v, m), [R(2, 2, 4, 8), R(2, 2, 6, 8), R(2, 2, 6, 8), torch.rand(2, 1, 1, 6) > 0.3], {"op": "sdpa"})
f_case("sdpa_float_mask_scale", lambda q, k, v, m: sdpa_ref(q, k, v, m, scale=0.3), [R(3, 150, 8), R(3, 140, 8), R(3, 140, 4), R(150, 140)], {"op": "sdpa", "scale": 0.3})
f_case("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [R(2, 3, 4)], {"op": "pad", "pad": [1, 2, 0, 1], "mode": "constant", "value": 0.5})
f_case("pad_negative", lambda x: F.pad(x, (-1, 2)), [R(2, 5)], {"op": "pad", "pad": [-1, 2], "mode": "constant", "value": 0})
f_case("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [R(1, 2, 4, 5)], {"op": "pad", "pad": [2, 1, 1, 2], "mode": "reflect"})
f_case("pad_replicate", lambda x: F.pad(x, (3, 1), mode="replicate"), [R(1, 2, 4)], {"op": "pad", "pad": [3, 1], "mode": "replicate"})
f_case("pad_circular", lambda x: F.pad(x, (2, 1, 1, 1), mode="circular"), [R(1, 1, 3, 4)], {"op": "pad", "pad": [2, 1, 1, 1], "mode": "circular"})
f_case("interp_nearest_size", lambda x: F.interpolate(x, size=(5, 7), mode="nearest"), [R(1, 2, 3, 4)], {"op": "interpolate", "size": [5, 7], "mode": "nearest"})
f_case("interp_nearest_scale", lambda x: F.interpolate(x, scale_factor=2.0, mode="nearest"), [R(1, 2, 3, 4)], {"op": "interpolate", "scale": [2.0], "mode": "nearest"})
f_case("interp_bilinear", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False), [R(1, 2, 3, 4)], {"op": "interpolate", "size": [5, 7], "mode": "bilinear"})
f_case("interp_bilinear_corners", lambda x: F.interpolate(x, size=(6, 3), mode="bilinear", align_corners=True), [R(2, 1, 4, 5)], {"op": "interpolate", "size": [6, 3], "mode": "bilinear", "align_corners": True})
f_case("interp_bilinear_scale", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), [R(1, 1, 4, 4)], {"op": "interpolate", "scale": [1.5], "mode": "bilinear"})
f_case("unfold", lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [R(2, 3, 5, 6)], {"op": "unfold", "k": [2, 3], "dilation": [1, 2], "padding": [1, 1], "stride": [2, 1]})
f_case("fold", lambda x: F.fold(x, (4, 5), (2, 2), stride=1), [R(2, 12, 12)], {"op": "fold", "size": [4, 5], "k": [2, 2]})
f_case("maxpool_indices", lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True)[1], [R(2, 2, 7, 6)], {"op": "maxpool_indices", "k": 3, "stride": 2, "padding": 1}, grad=False)
f_case("maxpool_indices_ceil_dilation", lambda x: F.max_pool2d(x, 2, 2, 0, dilation=2, ceil_mode=True, return_indices=True)[1], [R(1, 2, 9, 9)], {"op": "maxpool_indices", "k": 2, "stride": 2, "padding": 0, "dilation": 2, "ceil": True}, grad=False)
f_case("one_hot", lambda x: F.one_hot(x, 5), [torch.tensor([[0, 3], [4, 1]])], {"op": "one_hot", "classes": 5}, grad=False)

# ---- losses -----------------------------------------------------------------------------------------------------
losses = []


def loss_case(name, fn, inputs, args):
    ins = [x.clone().requires_grad_(i == 0) for i, x in enumerate(inputs)]
    out = fn(*ins)
    cot = torch.randn(out.shape)
    (out * cot).sum().backward()
    losses.append({"name": name, "args": args, "inputs": [enc(x) for x in ins], "output": enc(out), "cot": enc(cot), "grad": enc(ins[0].grad)})


logits = R(6, 5); tgt = torch.tensor([1, 0, 4, 2, 2, 3]); cw = torch.rand(5) + 0.5
tgt_ign = torch.tensor([1, -100, 4, 2, -100, 3])
loss_case("ce", lambda x, t: F.cross_entropy(x, t), [logits, tgt], {"op": "cross_entropy"})
loss_case("ce_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"), [logits, tgt], {"op": "cross_entropy", "reduction": "sum"})
loss_case("ce_none_weight", lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="none"), [logits, tgt, cw], {"op": "cross_entropy", "reduction": "none", "weight": True})
loss_case("ce_weight_ignore", lambda x, t, w: F.cross_entropy(x, t, weight=w), [logits, tgt_ign, cw], {"op": "cross_entropy", "weight": True})
loss_case("ce_smoothing", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), [logits, tgt], {"op": "cross_entropy", "smoothing": 0.1})
loss_case("ce_smoothing_weight_ignore", lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2), [logits, tgt_ign, cw], {"op": "cross_entropy", "smoothing": 0.2, "weight": True})
loss_case("ce_smoothing_sum_ignore", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2, reduction="sum", ignore_index=2), [logits, tgt], {"op": "cross_entropy", "smoothing": 0.2, "reduction": "sum", "ignore_index": 2})
probs = torch.softmax(R(6, 5), 1)
loss_case("ce_probs", lambda x, t: F.cross_entropy(x, t), [logits, probs], {"op": "cross_entropy"})
loss_case("ce_probs_weight_smoothing", lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1), [logits, probs, cw], {"op": "cross_entropy", "weight": True, "smoothing": 0.1})
loss_case("ce_kdim", lambda x, t: F.cross_entropy(x, t), [R(2, 4, 3, 3), torch.randint(0, 4, (2, 3, 3))], {"op": "cross_entropy"})
loss_case("nll", lambda x, t: F.nll_loss(torch.log_softmax(x, 1), t), [logits, tgt], {"op": "nll", "log_softmax_first": True})
loss_case("nll_weight_none", lambda x, t, w: F.nll_loss(x, t, weight=w, reduction="none"), [logits, tgt, cw], {"op": "nll", "reduction": "none", "weight": True})
a_, b_ = R(4, 3), R(4, 3)
loss_case("mse", lambda x, t: F.mse_loss(x, t), [a_, b_], {"op": "mse"})
loss_case("mse_sum", lambda x, t: F.mse_loss(x, t, reduction="sum"), [a_, b_], {"op": "mse", "reduction": "sum"})
loss_case("l1", lambda x, t: F.l1_loss(x, t), [a_, b_], {"op": "l1"})
loss_case("smooth_l1", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), [a_ * 2, b_], {"op": "smooth_l1", "beta": 0.5})
loss_case("huber", lambda x, t: F.huber_loss(x, t, delta=0.7, reduction="none"), [a_ * 2, b_], {"op": "huber", "delta": 0.7, "reduction": "none"})
p_ = torch.rand(4, 3) * 0.9 + 0.05; y_ = (torch.rand(4, 3) > 0.5).float(); w_ = torch.rand(4, 3) + 0.5
loss_case("bce", lambda x, t: F.binary_cross_entropy(x, t), [p_, y_], {"op": "bce"})
loss_case("bce_weight", lambda x, t, w: F.binary_cross_entropy(x, t, weight=w, reduction="sum"), [p_, y_, w_], {"op": "bce", "weight": True, "reduction": "sum"})
loss_case("bce_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t), [R(4, 3) * 3, y_], {"op": "bce_logits"})
loss_case("bce_logits_posweight", lambda x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw), [R(4, 3) * 3, y_, torch.tensor([0.5, 2.0, 3.0])], {"op": "bce_logits", "pos_weight": True})
lp = torch.log_softmax(R(4, 5), 1); tp = torch.softmax(R(4, 5), 1); tp[0, 1] = 0
loss_case("kl_div_batchmean", lambda x, t: F.kl_div(x, t, reduction="batchmean"), [lp, tp], {"op": "kl_div", "reduction": "batchmean"})
loss_case("kl_div_log_target_sum", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), [lp, torch.log_softmax(R(4, 5), 1)], {"op": "kl_div", "reduction": "sum", "log_target": True})
loss_case("kl_div_mean", lambda x, t: F.kl_div(x, t, reduction="mean"), [lp, tp], {"op": "kl_div"})

# Ranking, embedding and likelihood losses, on their own seed so the cases around them keep their values.
with torch.random.fork_rng():
    torch.manual_seed(37)
    pm = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    loss_case("margin_ranking", lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.3), [R(6), R(6), pm], {"op": "margin_ranking", "margin": 0.3})
    loss_case("margin_ranking_none", lambda a, b, y: F.margin_ranking_loss(a, b, y, reduction="none"), [R(6), R(6), pm], {"op": "margin_ranking", "reduction": "none"})
    loss_case("hinge_embedding", lambda x, y: F.hinge_embedding_loss(x, y, margin=0.8), [R(6) * 2, pm], {"op": "hinge_embedding", "margin": 0.8})
    loss_case("soft_margin", lambda x, y: F.soft_margin_loss(x, y), [R(2, 3) * 2, pm.view(2, 3)], {"op": "soft_margin"})
    loss_case("multilabel_soft_margin", lambda x, y: F.multilabel_soft_margin_loss(x, y), [R(4, 5) * 2, (torch.rand(4, 5) > 0.5).float()], {"op": "multilabel_soft_margin"})
    loss_case("multilabel_soft_margin_weight_none", lambda x, y, w: F.multilabel_soft_margin_loss(x, y, weight=w, reduction="none"),
              [R(4, 5) * 2, (torch.rand(4, 5) > 0.5).float(), torch.rand(5) + 0.5], {"op": "multilabel_soft_margin", "weight": True, "reduction": "none"})
    loss_case("cosine_embedding", lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2), [R(6, 4), R(6, 4), pm], {"op": "cosine_embedding", "margin": 0.2})
    loss_case("cosine_embedding_sum", lambda a, b, y: F.cosine_embedding_loss(a, b, y, reduction="sum"), [R(6, 4), R(6, 4), pm], {"op": "cosine_embedding", "reduction": "sum"})
    loss_case("triplet_margin", lambda a, p, n: F.triplet_margin_loss(a, p, n), [R(5, 4), R(5, 4), R(5, 4)], {"op": "triplet_margin"})
    loss_case("triplet_margin_p1_swap_none", lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True, reduction="none"),
              [R(5, 4), R(5, 4), R(5, 4)], {"op": "triplet_margin", "margin": 2.0, "p": 1.0, "swap": True, "reduction": "none"})
    loss_case("multi_margin", lambda x, y: F.multi_margin_loss(x, y), [R(5, 4), torch.tensor([0, 3, 1, 1, 2])], {"op": "multi_margin"})
    loss_case("multi_margin_p2_weight", lambda x, y, w: F.multi_margin_loss(x, y, p=2, margin=0.5, weight=w, reduction="sum"),
              [R(5, 4), torch.tensor([0, 3, 1, 1, 2]), torch.rand(4) + 0.5], {"op": "multi_margin", "p": 2, "margin": 0.5, "weight": True, "reduction": "sum"})
    counts = torch.tensor([0.0, 1.0, 3.0, 7.0, 2.0, 12.0])
    loss_case("poisson_nll", lambda x, y: F.poisson_nll_loss(x, y), [R(6), counts], {"op": "poisson_nll"})
    loss_case("poisson_nll_rate_full", lambda x, y: F.poisson_nll_loss(x, y, log_input=False, full=True, reduction="none"),
              [torch.rand(6) * 5 + 0.1, counts], {"op": "poisson_nll", "log_input": False, "full": True, "reduction": "none"})
    loss_case("gaussian_nll", lambda x, y, v: F.gaussian_nll_loss(x, y, v), [R(4, 3), R(4, 3), torch.rand(4, 3) + 0.1], {"op": "gaussian_nll"})
    loss_case("gaussian_nll_homoscedastic_full", lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True, eps=0.05, reduction="none"),
              [R(4, 3), R(4, 3), torch.tensor([0.5, 0.01, 2.0, 0.0])], {"op": "gaussian_nll", "full": True, "eps": 0.05, "reduction": "none"})

# CTC: the loss of log_softmax(logits), so the gradient compared is the logits' (PyTorch's CTC backward with respect to
# log-probabilities carries a term that only a log-softmax cancels). Padded and concatenated targets, repeated labels
# (no blank skip between them), an impossible alignment, an unbatched input, another blank.
with torch.random.fork_rng():
    torch.manual_seed(59)
    def ctc(blank=0, reduction="mean", zero_infinity=False):
        return lambda x, t, il, tl: F.ctc_loss(x.log_softmax(-1), t, il, tl, blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    loss_case("ctc_padded_mean", ctc(), [R(12, 3, 5), torch.tensor([[1, 2, 3, 0], [4, 4, 1, 2], [2, 0, 0, 0]]), torch.tensor([12, 10, 7]), torch.tensor([3, 4, 1])],
              {"op": "ctc"})
    loss_case("ctc_concatenated_sum", ctc(reduction="sum"), [R(9, 2, 4), torch.tensor([1, 1, 2, 3, 3]), torch.tensor([9, 8]), torch.tensor([3, 2])],
              {"op": "ctc", "reduction": "sum"})
    loss_case("ctc_repeats_none", ctc(reduction="none"), [R(8, 2, 3), torch.tensor([[1, 1, 1], [2, 1, 2]]), torch.tensor([8, 6]), torch.tensor([3, 3])],
              {"op": "ctc", "reduction": "none"})
    loss_case("ctc_impossible_zero_infinity", ctc(reduction="none", zero_infinity=True), [R(4, 2, 4), torch.tensor([[1, 1, 1, 2], [3, 2, 0, 0]]), torch.tensor([4, 4]), torch.tensor([4, 2])],
              {"op": "ctc", "reduction": "none", "zero_infinity": True})
    loss_case("ctc_unbatched_blank_last", ctc(blank=4), [R(10, 5), torch.tensor([0, 3, 3, 1]), torch.tensor(10), torch.tensor(4)], {"op": "ctc", "blank": 4})
    loss_case("ctc_empty_target", ctc(reduction="none"), [R(5, 2, 3), torch.tensor([[1, 2], [0, 0]]), torch.tensor([5, 4]), torch.tensor([2, 0])], {"op": "ctc", "reduction": "none"})

# ---- optimizers -----------------------------------------------------------------------------------------------
P1, P2 = torch.randn(3, 4), torch.randn(5)
C1, T1, C2 = torch.randn(3, 4), torch.randn(3, 4), torch.randn(5)
optims = []


def opt_loss(p1, p2):
    return ((p1 * C1 - T1) ** 2).sum() + (torch.sin(p2) * C2).sum()


def opt_case(name, cls, kwargs, groups=None):
    p1, p2 = P1.clone().requires_grad_(), P2.clone().requires_grad_()
    if groups is None: opt = getattr(torch.optim, cls)([p1, p2], **kwargs)
    else: opt = getattr(torch.optim, cls)([dict(params=[p1], **groups[0]), dict(params=[p2], **groups[1])], **kwargs)
    for _ in range(5):
        opt.zero_grad()
        opt_loss(p1, p2).backward()
        opt.step()
    optims.append({"name": name, "type": cls, "kwargs": kwargs, "groups": groups, "p1": enc(p1), "p2": enc(p2)})


for kw in [{"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1}, {"lr": 0.05, "momentum": 0.9, "nesterov": True},
           {"lr": 0.1, "weight_decay": 0.1}, {"lr": 0.1, "maximize": True}, {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "nesterov": True, "maximize": True}]:
    opt_case("sgd_" + "_".join(k for k in kw if k != "lr") or "sgd", "SGD", kw)
for cls in ["Adam", "AdamW"]:
    for kw in [{"lr": 0.01}, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.01, "amsgrad": True}, {"lr": 0.01, "maximize": True},
               {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True, "weight_decay": 0.05}]:
        opt_case(cls.lower() + "_" + "_".join(k for k in kw if k != "lr"), cls, kw)
for kw in [{"lr": 0.01}, {"lr": 0.01, "centered": True}, {"lr": 0.01, "momentum": 0.9}, {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "alpha": 0.9},
           {"lr": 0.01, "maximize": True}]:
    opt_case("rmsprop_" + "_".join(k for k in kw if k != "lr"), "RMSprop", kw)
for kw in [{"lr": 0.1}, {"lr": 0.1, "lr_decay": 0.1}, {"lr": 0.1, "initial_accumulator_value": 0.1}, {"lr": 0.1, "weight_decay": 0.1}, {"lr": 0.1, "maximize": True}]:
    opt_case("adagrad_" + "_".join(k for k in kw if k != "lr"), "Adagrad", kw)
opt_case("sgd_param_groups", "SGD", {"lr": 0.01}, groups=[{"lr": 0.1, "momentum": 0.9}, {}])
opt_case("adam_param_groups", "Adam", {"lr": 0.01}, groups=[{"weight_decay": 0.1}, {"lr": 0.05, "amsgrad": True}])


# L-BFGS: three step(closure) calls on the same problem; the losses each step returned and the parameters after it.
lbfgs = []


def lbfgs_case(name, kwargs, steps=3):
    p1, p2 = P1.clone().requires_grad_(), P2.clone().requires_grad_()
    opt = torch.optim.LBFGS([p1, p2], **kwargs)
    def closure():
        opt.zero_grad()
        loss = opt_loss(p1, p2)
        loss.backward()
        return loss
    trace = []
    for _ in range(steps):
        loss = opt.step(closure)
        trace.append({"loss": float(loss), "p1": enc(p1), "p2": enc(p2), "func_evals": opt.state[p1]["func_evals"], "n_iter": opt.state[p1]["n_iter"]})
    lbfgs.append({"name": name, "kwargs": kwargs, "steps": trace})


lbfgs_case("lbfgs", {"lr": 0.5, "max_iter": 4}, steps=2)  # a third step amplifies float32 rounding 4e-4 in PyTorch itself (vs float64)
lbfgs_case("lbfgs_history2", {"lr": 0.8, "max_iter": 6, "history_size": 2})
lbfgs_case("lbfgs_strong_wolfe", {"lr": 1.0, "max_iter": 5, "line_search_fn": "strong_wolfe"})
lbfgs_case("lbfgs_strong_wolfe_history3", {"max_iter": 8, "history_size": 3, "line_search_fn": "strong_wolfe"}, steps=2)

# ---- schedulers -------------------------------------------------------------------------------------------------
S = torch.optim.lr_scheduler
scheds = []


def sched_case(name, make, opt_cls="SGD", metrics=None):
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9) if opt_cls == "SGD" else torch.optim.Adam([p], lr=0.1)
    s = make(opt)
    lrs, moms = [opt.param_groups[0]["lr"]], []
    mom_key = "momentum" if opt_cls == "SGD" else "betas"
    def mom(): v = opt.param_groups[0][mom_key]; return v if opt_cls == "SGD" else v[0]
    moms.append(mom())
    for i in range(30):
        opt.step()
        if metrics is not None: s.step(metrics[i])
        else: s.step()
        lrs.append(opt.param_groups[0]["lr"]); moms.append(mom())
    scheds.append({"name": name, "optimizer": opt_cls, "lrs": lrs, "momentum": moms, "metrics": metrics})


sched_case("step", lambda o: S.StepLR(o, 7, 0.5))
sched_case("multistep", lambda o: S.MultiStepLR(o, [5, 12, 12, 20], 0.3))
sched_case("exponential", lambda o: S.ExponentialLR(o, 0.9))
sched_case("cosine", lambda o: S.CosineAnnealingLR(o, 10, 0.001))
sched_case("linear", lambda o: S.LinearLR(o, 0.25, 1.0, 8))
sched_case("lambda", lambda o: S.LambdaLR(o, lambda e: 1.0 / (1 + e)))
sched_case("onecycle", lambda o: S.OneCycleLR(o, 0.5, total_steps=30))
sched_case("onecycle_linear_three_phase_adam", lambda o: S.OneCycleLR(o, 0.5, total_steps=30, anneal_strategy="linear", three_phase=True), opt_cls="Adam")
sched_case("sequential_warmup_cosine", lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 5), S.CosineAnnealingLR(o, 25)], [5]))
sched_case("constant", lambda o: S.ConstantLR(o, 0.5, 4))
sched_case("polynomial", lambda o: S.PolynomialLR(o, 20, 2.0))
sched_case("multiplicative", lambda o: S.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 0.9))
sched_case("chained_constant_exponential", lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.1, 3), S.ExponentialLR(o, 0.9)]))
plateau_metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.7] + [0.7] * 17
sched_case("plateau", lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1), metrics=plateau_metrics)

# Rotary position embedding (HF's apply_rotary_pos_emb for one tensor). Drawn last so every case above keeps its values.
def rope_ref(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., h:], x[..., :h]), -1) * sin


def rope_tables(positions, d, batch_shape=()):
    freqs = positions.float()[:, None] * (10000.0 ** (-torch.arange(0, d, 2).float() / d))[None, :]
    angles = torch.cat((freqs, freqs), -1)
    return angles.cos().reshape(*batch_shape, len(positions), d), angles.sin().reshape(*batch_shape, len(positions), d)


f_case("rope_tables", rope_ref, [R(2, 3, 5, 16), *rope_tables(torch.arange(5), 16)], {"op": "rope"})
f_case("rope_batched_odd_half", rope_ref, [R(2, 3, 4, 6), *rope_tables(torch.tensor([3, 4, 5, 6]), 6, (1, 1))], {"op": "rope"})
f_case("rope_rows_64", rope_ref, [R(2, 20, 64), *rope_tables(torch.arange(7, 27), 64)], {"op": "rope"})
f_case("rope_general_tables", rope_ref, [R(3, 2, 20), R(2, 20), R(20)], {"op": "rope"})

# SwiGLU's gating, silu(gate) * up (Llama's MLP middle). Drawn after rope for the same reason.
swiglu_ref = lambda gate, up: torch.nn.functional.silu(gate) * up
f_case("swiglu_rows", swiglu_ref, [R(4, 37) * 4, R(4, 37)], {"op": "swiglu"})
f_case("swiglu_broadcast_up", swiglu_ref, [R(2, 3, 16) * 4, R(3, 1)], {"op": "swiglu"})
f_case("swiglu_broadcast_gate", swiglu_ref, [R(1, 24) * 4, R(5, 24)], {"op": "swiglu"})

# Grouped-query attention (torch 2.5's enable_gqa=True; Debian's torch predates it): each key/value head repeated for its
# group of query heads, as HF's repeat_kv does. Drawn last as well.
def sdpa_gqa_ref(q, k, v, mask=None, causal=False):
    g = q.shape[-3] // k.shape[-3]
    return sdpa_ref(q, k.repeat_interleave(g, -3), v.repeat_interleave(g, -3), mask, causal)


f_case("sdpa_gqa_causal", lambda q, k, v: sdpa_gqa_ref(q, k, v, causal=True), [R(2, 6, 9, 8), R(2, 2, 9, 8), R(2, 2, 9, 8)], {"op": "sdpa", "causal": True, "gqa": True})
f_case("sdpa_gqa_mask_one_kv_head", lambda q, k, v, m: sdpa_gqa_ref(q, k, v, m), [R(2, 4, 5, 8), R(2, 1, 7, 8), R(2, 1, 7, 6), torch.rand(2, 1, 5, 7) > 0.3], {"op": "sdpa", "gqa": True})
f_case("sdpa_gqa_long", lambda q, k, v: sdpa_gqa_ref(q, k, v, causal=True), [R(1, 4, 140, 16), R(1, 2, 140, 16), R(1, 2, 140, 16)], {"op": "sdpa", "causal": True, "gqa": True})

# 3×3 convolutions with 16+ channels and outputs 15+ wide, which Kiln runs (forward and input gradient) through its
# Winograd F(2×2, 3×3) kernel on AVX-512: an odd output height, tile rows rounded up, padding 0 (its input gradient
# then pads by 2). Drawn last as well.
module_case("conv2d_winograd_odd_rows", "Conv2d", {"in": 16, "out": 24, "k": 3, "padding": 1}, [R(1, 16, 15, 16)])
module_case("conv2d_winograd_pad0_nobias", "Conv2d", {"in": 16, "out": 16, "k": 3, "bias": False}, [R(1, 16, 7, 26)])

# Hugging Face's padded causal masks: float32's minimum (not -inf) where a key is masked, so a left-padded row's first
# queries see no key at all and their scores all round to that minimum: softmax spreads them evenly, and gradients flow
# through those rows too. One short case, one past a key block (128 keys). Drawn last as well.
def hf_mask(b, l, pads):
    m = torch.zeros(b, 1, l, l)
    for r in range(b):
        masked = torch.ones(l, l, dtype=torch.bool).triu(1)
        masked[:, :pads[r]] = True
        m[r, 0][masked] = torch.finfo(torch.float32).min
    return m


f_case("sdpa_hf_min_mask_padded", lambda q, k, v, m: sdpa_ref(q, k, v, m), [R(2, 2, 5, 8), R(2, 2, 5, 8), R(2, 2, 5, 6), hf_mask(2, 5, [2, 0])], {"op": "sdpa"})
def min_mask_long():
    m = torch.zeros(1, 1, 3, 130)
    m[0, 0, :2] = torch.finfo(torch.float32).min   # two queries that see none of the 130 keys
    m[0, 0, 2, :129] = torch.finfo(torch.float32).min   # one that sees only the last, in the second key block
    return m


f_case("sdpa_hf_min_mask_gqa_long", lambda q, k, v, m: sdpa_gqa_ref(q, k, v, m), [R(1, 2, 3, 4), R(1, 1, 130, 4), R(1, 1, 130, 4), min_mask_long()], {"op": "sdpa", "gqa": True})

# Distances and normalisation: a zero row (the norm held at eps: PyTorch's huge but finite gradient), broadcasting.
with torch.random.fork_rng():
    torch.manual_seed(29)
    zero_row = R(3, 5); zero_row[1] = 0
    f_case("normalize", lambda x: F.normalize(x, dim=1), [zero_row], {"op": "normalize", "p": 2.0, "dim": 1})
    f_case("normalize_p1_dim0", lambda x: F.normalize(x, p=1.0, dim=0), [R(4, 3)], {"op": "normalize", "p": 1.0, "dim": 0})
    f_case("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=1), [R(4, 6), R(4, 6)], {"op": "cosine_similarity", "dim": 1})
    f_case("cosine_similarity_broadcast", lambda a, b: F.cosine_similarity(a, b, dim=-1), [R(2, 3, 5), R(5)], {"op": "cosine_similarity", "dim": -1})
    f_case("cosine_similarity_zero", lambda a, b: F.cosine_similarity(a, b, dim=1), [torch.zeros(2, 3), R(2, 3)], {"op": "cosine_similarity", "dim": 1})
    f_case("pairwise_distance", lambda a, b: F.pairwise_distance(a, b), [R(4, 6), R(4, 6)], {"op": "pairwise_distance", "p": 2.0})
    f_case("pairwise_distance_p1_keepdim", lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True), [R(4, 6), R(6)], {"op": "pairwise_distance", "p": 1.0, "keepdim": True})

# The other interpolation modes: linear (3-D), bicubic, trilinear, nearest on 3-D and 5-D inputs, nearest-exact, area.
with torch.random.fork_rng():
    torch.manual_seed(53)
    f_case("interp_linear", lambda x: F.interpolate(x, size=7, mode="linear"), [R(2, 3, 4)], {"op": "interpolate", "size": [7], "mode": "linear"})
    f_case("interp_linear_corners_down", lambda x: F.interpolate(x, size=3, mode="linear", align_corners=True), [R(1, 2, 8)], {"op": "interpolate", "size": [3], "mode": "linear", "align_corners": True})
    f_case("interp_bicubic", lambda x: F.interpolate(x, size=(7, 5), mode="bicubic"), [R(1, 2, 4, 3)], {"op": "interpolate", "size": [7, 5], "mode": "bicubic"})
    f_case("interp_bicubic_corners_scale", lambda x: F.interpolate(x, scale_factor=2.0, mode="bicubic", align_corners=True), [R(2, 1, 3, 4)], {"op": "interpolate", "scale": [2.0], "mode": "bicubic", "align_corners": True})
    f_case("interp_bicubic_down", lambda x: F.interpolate(x, size=(3, 4), mode="bicubic"), [R(1, 2, 7, 9)], {"op": "interpolate", "size": [3, 4], "mode": "bicubic"})
    f_case("interp_trilinear", lambda x: F.interpolate(x, size=(3, 5, 4), mode="trilinear"), [R(1, 2, 2, 3, 3)], {"op": "interpolate", "size": [3, 5, 4], "mode": "trilinear"})
    f_case("interp_trilinear_corners", lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear", align_corners=True), [R(1, 1, 2, 4, 3)], {"op": "interpolate", "scale": [1.5], "mode": "trilinear", "align_corners": True})
    f_case("interp_nearest_1d", lambda x: F.interpolate(x, size=5, mode="nearest"), [R(2, 3, 3)], {"op": "interpolate", "size": [5], "mode": "nearest"})
    f_case("interp_nearest_3d", lambda x: F.interpolate(x, scale_factor=2.0, mode="nearest"), [R(1, 2, 2, 2, 3)], {"op": "interpolate", "scale": [2.0], "mode": "nearest"})
    f_case("interp_nearest_exact", lambda x: F.interpolate(x, size=(5, 3), mode="nearest-exact"), [R(1, 2, 3, 7)], {"op": "interpolate", "size": [5, 3], "mode": "nearest-exact"})
    f_case("interp_area", lambda x: F.interpolate(x, size=(2, 3), mode="area"), [R(1, 2, 5, 7)], {"op": "interpolate", "size": [2, 3], "mode": "area"})

# Spatial transformers: grid_sample (bilinear, nearest; zeros, border, reflection padding; both corner conventions), some
# points outside the image, and affine_grid feeding it (gradients of the image, the grid and theta).
with torch.random.fork_rng():
    torch.manual_seed(73)
    def grid(n, h, w): return torch.rand(n, h, w, 2) * 2.6 - 1.3
    for mode in ["bilinear", "nearest"]:
        for pad in ["zeros", "border", "reflection"]:
            for align in [False, True]:
                if mode == "nearest" and align: continue
                name = f"grid_sample_{mode}_{pad}" + ("_align" if align else "")
                f_case(name, lambda x, g, mode=mode, pad=pad, align=align: F.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=align),
                       [R(2, 3, 4, 5), grid(2, 3, 4)], {"op": "grid_sample", "mode": mode, "padding": pad, "align_corners": align})
    theta = torch.tensor([[[0.9, -0.3, 0.1], [0.2, 1.1, -0.2]], [[1.2, 0.4, 0.3], [-0.5, 0.8, 0.05]]])
    for align in [False, True]:
        f_case("affine_grid_sample" + ("_align" if align else ""), lambda x, t, align=align: F.grid_sample(x, F.affine_grid(t, [2, 3, 5, 6], align_corners=align), align_corners=align),
               [R(2, 3, 4, 5), theta], {"op": "affine_grid_sample", "size": [2, 3, 5, 6], "align_corners": align})

# Max unpooling: the indices PyTorch's own max pools return, default and explicit output sizes, 1-D and 2-D.
with torch.random.fork_rng():
    torch.manual_seed(101)
    _, i2 = F.max_pool2d(R(2, 3, 6, 8), 2, return_indices=True)
    f_case("max_unpool2d", lambda x, i: F.max_unpool2d(x, i, 2), [R(2, 3, 3, 4), i2], {"op": "max_unpool2d", "k": 2, "stride": 2, "padding": 0})
    # Windows that do not overlap, so no two outputs share an index (which write wins is unspecified, on a GPU too).
    _, i3 = F.max_pool2d(R(1, 2, 7, 6), 2, 2, 1, return_indices=True)
    f_case("max_unpool2d_padding_size", lambda x, i: F.max_unpool2d(x, i, 2, 2, 1, output_size=[7, 6]), [R(1, 2, 4, 4), i3],
           {"op": "max_unpool2d", "k": 2, "stride": 2, "padding": 1, "size": [7, 6]})
    _, i1 = F.max_pool1d(R(2, 3, 10), 3, 3, return_indices=True)
    f_case("max_unpool1d", lambda x, i: F.max_unpool1d(x, i, 3, 3, output_size=[10]), [R(2, 3, 3), i1], {"op": "max_unpool1d", "k": 3, "stride": 3, "padding": 0, "size": [10]})

# Randomized leaky ReLU in evaluation (the mean slope; training draws slopes, checked by its laws): its own seed.
with torch.random.fork_rng():
    torch.manual_seed(103)
    module_case("rrelu_eval", "RReLU", {}, [with_edges(R(3, 4, 6) * 2, [0.0, -1.0])], train=False)
    module_case("rrelu_eval_bounds", "RReLU", {"lower": 0.05, "upper": 0.6}, [with_edges(R(2, 5) * 2, [0.0, -1.0])], train=False)

# Local response normalization, the 3-D and circular paddings, the multi-label hinge and the triplet loss with a
# distance function: their own seed.
with torch.random.fork_rng():
    torch.manual_seed(104)
    module_case("local_response_norm", "LocalResponseNorm", {"size": 3}, [R(2, 5, 4, 4)])
    module_case("local_response_norm_3d_input_params", "LocalResponseNorm", {"size": 2, "alpha": 0.01, "beta": 0.5, "k": 2.0}, [R(2, 6, 7)])
    module_case("local_response_norm_5d", "LocalResponseNorm", {"size": 4, "alpha": 0.1}, [R(1, 4, 2, 3, 3)])
    module_case("constant_pad3d", "ConstantPad3d", {"pad": [1, 0, 2, 1, 0, 1], "value": 2.5}, [R(1, 2, 3, 4, 3)])
    module_case("reflection_pad3d", "ReflectionPad3d", {"pad": [1, 1, 2, 0, 1, 2]}, [R(1, 2, 3, 4, 3)])
    module_case("replication_pad3d", "ReplicationPad3d", {"pad": [1, 0, 2, 1, 0, 2]}, [R(2, 3, 2, 3)])
    f_case("pad_circular_3d", lambda x: F.pad(x, (1, 1, 2, 0, 0, 1), mode="circular"), [R(1, 2, 3, 4, 5)],
           {"op": "pad", "pad": [1, 1, 2, 0, 0, 1], "mode": "circular"})
    fx = R(2, 3, 9, 11)
    f_case("fractional_max_pool2d", lambda x, s: F.fractional_max_pool2d(x, 3, output_size=(4, 5), _random_samples=s), [fx, torch.rand(2, 3, 2)],
           {"op": "fractional_max_pool2d", "k": [3, 3], "size": [4, 5]})
    f_case("fractional_max_pool2d_ratio_rect", lambda x, s: F.fractional_max_pool2d(x, (2, 3), output_ratio=(0.5, 0.6), _random_samples=s), [R(3, 10, 12), torch.rand(1, 3, 2)],
           {"op": "fractional_max_pool2d", "k": [2, 3], "ratio": [0.5, 0.6]})
    f_case("fractional_max_pool2d_indices", lambda x, s: F.fractional_max_pool2d(x, 2, output_size=(3, 3), _random_samples=s, return_indices=True)[1], [R(1, 2, 7, 6), torch.rand(1, 2, 2)],
           {"op": "fractional_max_pool2d", "k": [2, 2], "size": [3, 3], "indices": True}, grad=False)
    loss_case("multilabel_margin", lambda x, y: F.multilabel_margin_loss(x, y), [R(3, 5), torch.tensor([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0]])],
              {"op": "multilabel_margin"})
    loss_case("multilabel_margin_vector_sum", lambda x, y: F.multilabel_margin_loss(x, y, reduction="sum"), [R(4), torch.tensor([2, 1, -1, 0])],
              {"op": "multilabel_margin", "reduction": "sum"})
    loss_case("multilabel_margin_none", lambda x, y: F.multilabel_margin_loss(x, y, reduction="none"), [R(2, 4), torch.tensor([[0, -1, 1, 2], [3, 2, 1, 0]])],
              {"op": "multilabel_margin", "reduction": "none"})
    loss_case("triplet_with_distance", lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n), [R(5, 4), R(5, 4), R(5, 4)], {"op": "triplet_with_distance"})
    loss_case("triplet_with_cosine_distance_swap", lambda a, p, n: F.triplet_margin_with_distance_loss(
                  a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), margin=0.5, swap=True, reduction="none"),
              [R(5, 4), R(5, 4), R(5, 4)], {"op": "triplet_with_distance", "distance": "cosine", "margin": 0.5, "swap": True, "reduction": "none"})

# Adaptive softmax: its own seed.
with torch.random.fork_rng():
    torch.manual_seed(105)
    module_case("adaptive_log_softmax", "AdaptiveLogSoftmaxWithLoss", {"in": 8, "n": 20, "cutoffs": [4, 10], "div": 2.0},
                [R(6, 8), torch.tensor([0, 5, 12, 3, 19, 9])])
    module_case("adaptive_log_softmax_head_bias", "AdaptiveLogSoftmaxWithLoss", {"in": 16, "n": 30, "cutoffs": [5, 12, 20], "head_bias": True},
                [R(7, 16), torch.tensor([29, 1, 13, 4, 20, 11, 0])], randomize=True)

# Bicubic grid_sample: each padding and corner convention, points outside the image (gradients of the image and the grid).
with torch.random.fork_rng():
    torch.manual_seed(106)
    for pad in ["zeros", "border", "reflection"]:
        for align in [False, True]:
            name = f"grid_sample_bicubic_{pad}" + ("_align" if align else "")
            f_case(name, lambda x, g, pad=pad, align=align: F.grid_sample(x, g, mode="bicubic", padding_mode=pad, align_corners=align),
                   [R(2, 3, 4, 5), torch.rand(2, 3, 4, 2) * 2.6 - 1.3], {"op": "grid_sample", "mode": "bicubic", "padding": pad, "align_corners": align})

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "optimizer_problem": {"P1": enc(P1), "P2": enc(P2), "C1": enc(C1), "T1": enc(T1), "C2": enc(C2)}, "modules": modules, "functional": functional, "losses": losses, "optimizers": optims, "lbfgs": lbfgs,
               "schedulers": scheds}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(modules)} modules, {len(functional)} functional, {len(losses)} losses, {len(optims)} optimizers, {len(scheds)} schedulers")
