#!/usr/bin/python3
"""Golden values for even-kernel layers (run: /usr/bin/python3 gen_even_kernel.py > even_kernel.json).

cifar-flat's Conv(128→256, k2, s1, p0) on a 2×2 input and ConvT(256→128, k2, s1, p0),
with small channels: for each case, the output and the gradients of
L = Σ_i sin(i)·y_i² (i = flat NHWC index of y) w.r.t. input, kernel and bias.
Inputs are given by a formula the Go test reproduces (NHWC / Go [k,k,in,out] flat index i):
    x_i = sin(0.37 i + 0.61·1),  kernel_i = 0.5 sin(0.37 i + 0.61·2),  bias_i = 0.1 sin(0.37 i + 0.61·3)
float64 reference; Go (float32) compares with tolerance 1e-5 of each tensor's scale.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

CASES = [  # transposed, batch, hw, cin, cout, k, s, p
    (False, 2, 2, 6, 7, 2, 1, 0),
    (False, 2, 3, 6, 7, 2, 1, 0),
    (True, 2, 1, 7, 6, 2, 1, 0),
    (True, 2, 2, 6, 7, 2, 1, 0),
]


def f(seed, n, scale):
    return torch.tensor([scale * math.sin(0.37 * i + 0.61 * seed) for i in range(n)], dtype=torch.float64)


out = []
for tr, b, hw, cin, cout, k, s, p in CASES:
    x = f(1, b * hw * hw * cin, 1.0).reshape(b, hw, hw, cin).permute(0, 3, 1, 2).clone().requires_grad_(True)
    kg = f(2, k * k * cin * cout, 0.5).reshape(k, k, cin, cout)
    if tr:
        w = kg.permute(2, 3, 0, 1).clone().requires_grad_(True)  # [in, out, k, k]
    else:
        w = kg.permute(3, 2, 0, 1).clone().requires_grad_(True)  # [out, in, k, k]
    bias = f(3, cout, 0.1).requires_grad_(True)
    y = (F.conv_transpose2d if tr else F.conv2d)(x, w, bias, s, p)
    yn = y.permute(0, 2, 3, 1)
    wt = torch.sin(torch.arange(yn.numel(), dtype=torch.float64)).reshape(yn.shape)
    (wt * yn ** 2).sum().backward()
    gw = w.grad.permute(2, 3, 0, 1) if tr else w.grad.permute(2, 3, 1, 0)
    out.append({"transposed": tr, "batch": b, "hw": hw, "cin": cin, "cout": cout, "k": k, "s": s, "p": p,
                "y": yn.reshape(-1).tolist(), "dx": x.grad.permute(0, 2, 3, 1).reshape(-1).tolist(),
                "dkernel": gw.reshape(-1).tolist(), "dbias": bias.grad.tolist()})
json.dump({"torch_version": torch.__version__, "cases": out}, sys.stdout, separators=(",", ":"))
