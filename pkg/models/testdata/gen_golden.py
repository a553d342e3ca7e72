#!/usr/bin/python3
"""Golden values for pkg/models (run once: /usr/bin/python3 gen_golden.py > golden.json).

Builds the thesis's mnist-flat MemAE, the spatial mnist MemAE and a conditional
mnist-flat C-MemAE (3 memories) in PyTorch, mirroring the thesis code
(LeonZamel/C-MemAE-anomaly-detection: MemoryUnit, hard_shrink_relu, EntropyLossEncap,
ConditionalMemModule), with deterministic weights given by a formula that the Go
test reproduces (no weights are stored):

    v(seed, i) = sin(0.37*i + 0.61*seed)      i = flat index in PyTorch's layout (C order)
    conv / convT weight and bias = v / sqrt(fan)   fan = weight.shape[1]*k*k
    BN gamma = 1 + 0.2 v, beta = 0.1 v, running_mean = 0.1 v, running_var = 1 + 0.3 v
    memory item of unit u: v (norm ≈ √(C/2); larger than the ±1/√C init so that the
        train-mode BN of the decoder is well conditioned: with nearly identical
        read-outs float32 PyTorch itself drifts 7e-5 from float64)
    seeds: encoder layer j: conv w 100+j, conv b 200+j, bn 300+j .. 600+j (gamma, beta, mean, var)
           decoder layer j: 1100+j, 1200+j, 1300+j .. 1600+j;  memory unit u: 9000+u
    input x[b, 0, h, w] = 1.5*sin((0.3 + 0.25 b) h + (0.2 + 0.15 b) w + b)
It also records "memae_flat_train_gradients": the gradients of the train-mode
mnist-flat MemAE loss w.r.t. the input, several kernels (in Go's [k,k,in,out]
layout), BN scales/shifts, a bias and the memory, which check the Go
formulations' hand-written gradients (golden_grad_test.go).
The reference runs in float64 (weights and input are the float32 values above), so
the golden values are exact up to rounding and the Go float32 result is compared
against them.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F
from torch import nn

torch.set_grad_enabled(False)

B = 4


def v(seed, shape):
    n = 1
    for d in shape:
        n *= d
    vals = [math.sin(0.37 * i + 0.61 * seed) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).float()


ENC = {
    "mnist": [(1, 32, 3, 2, 1), (32, 16, 3, 2, 1), (16, 8, 3, 3, 1)],
    "mnist-flat": [(1, 32, 3, 2, 1), (32, 16, 3, 2, 1), (16, 8, 3, 3, 1), (8, 64, 3, 3, 0)],
}
DEC = {
    "mnist": [(8, 16, 3, 3, 1, 0), (16, 32, 3, 2, 1, 1), (32, 1, 3, 2, 1, 1)],
    "mnist-flat": [(64, 8, 3, 3, 0, 0), (8, 16, 3, 3, 1, 0), (16, 32, 3, 2, 1, 1), (32, 1, 3, 2, 1, 1)],
}


def set_bn(bn, base, j):
    c = bn.num_features
    bn.weight.copy_(1 + 0.2 * v(base + 300 + j, (c,)))
    bn.bias.copy_(0.1 * v(base + 400 + j, (c,)))
    bn.running_mean.copy_(0.1 * v(base + 500 + j, (c,)))
    bn.running_var.copy_(1 + 0.3 * v(base + 600 + j, (c,)))


def set_conv(conv, base, j):
    w = conv.weight
    fan = w.shape[1] * w.shape[2] * w.shape[3]
    conv.weight.copy_(v(base + 100 + j, tuple(w.shape)) / math.sqrt(fan))
    conv.bias.copy_(v(base + 200 + j, tuple(conv.bias.shape)) / math.sqrt(fan))


def build(arch):
    enc, dec = [], []
    for j, (ci, co, k, s, p) in enumerate(ENC[arch]):
        conv = nn.Conv2d(ci, co, k, s, p)
        bn = nn.BatchNorm2d(co)
        set_conv(conv, 0, j)
        set_bn(bn, 0, j)
        enc += [conv, bn, nn.LeakyReLU(0.2)]
    last = len(DEC[arch]) - 1
    for j, (ci, co, k, s, p, op) in enumerate(DEC[arch]):
        ct = nn.ConvTranspose2d(ci, co, k, s, p, op)
        set_conv(ct, 1000, j)
        dec.append(ct)
        if j < last:
            bn = nn.BatchNorm2d(co)
            set_bn(bn, 1000, j)
            dec += [bn, nn.LeakyReLU(0.2)]
    return nn.Sequential(*enc), nn.Sequential(*dec)


# ---- memory, as in the thesis code ----
def hard_shrink_relu(x, lambd=0.0, epsilon=1e-12):
    return (F.relu(x - lambd) * x) / (torch.abs(x - lambd) + epsilon)


def memory_unit(x, weight, cosine, shrink):
    if cosine:
        att = F.cosine_similarity(x.unsqueeze(1), weight.unsqueeze(0), dim=2)
    else:
        att = F.linear(x, weight)
    pre = att.clone()
    att = F.softmax(att, dim=1)
    if shrink > 0:
        att = hard_shrink_relu(att, lambd=shrink)
        att = F.normalize(att, p=1, dim=1)
    out = F.linear(att, weight.permute(1, 0))
    return out, att, pre


def to_channel_last(t):
    return t.permute(0, *range(2, t.dim()), 1)


def to_channel_first(t):
    n = t.dim()
    return t.permute(0, n - 1, *range(1, n - 1))


def mem_module(z, weight, cosine, shrink):
    s = z.shape
    x = to_channel_last(z).reshape(-1, s[1])
    out, att, pre = memory_unit(x, weight, cosine, shrink)
    un = lambda t: to_channel_first(t.reshape(s[0], s[2], s[3], -1))
    return un(out), un(att), un(pre)


def entropy_thesis(att):  # EntropyLossEncap of the thesis: att [B, N, H, W]
    score = to_channel_last(att)
    b = score * torch.log(score + 1e-12)
    return (-1.0 * b.sum(dim=1)).mean()


def entropy_paper(att):
    b = att * torch.log(att + 1e-12)
    return (-1.0 * b.sum(dim=1)).mean()


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def flat(t):
    return [float(f"{a:.8g}") for a in t.reshape(-1).tolist()]


def addr_rows(t):  # [B, N, h, w] -> [B, h*w, N]
    b, n, h, w = t.shape
    return t.permute(0, 2, 3, 1).reshape(b, h * w, n)


def golden_input(n):
    return torch.tensor(
        [[1.5 * math.sin((0.3 + 0.25 * b) * h + (0.2 + 0.15 * b) * w + b) for h in range(28) for w in range(28)]
         for b in range(n)],
        dtype=torch.float64,
    ).reshape(n, 1, 28, 28).float().double()


x = golden_input(B)

cases = []


def run_memae(name, arch, K, N, training, mode, cond=None, metric="sum", cosine=True, shrink=0.0025,
              entropy="thesis", weight=0.0002):
    enc, dec = build(arch)
    enc, dec = enc.double(), dec.double()
    enc.train(training)
    dec.train(training)
    C = ENC[arch][-1][1]
    mems = [v(9000 + u, (N, C)).double() for u in range(K)]
    z = enc(x)
    outs = [mem_module(z, m, cosine, shrink) for m in mems]
    if K == 1:
        chosen = None
        read, att, pre = outs[0]
        recon = dec(read)
    else:
        if mode == "known":
            chosen = torch.tensor(cond)
        elif metric in ("sum", "max"):
            pres = torch.stack([o[2] for o in outs], 1)  # [B, K, N, h, w]
            score = pres.sum(dim=[2, 3, 4]) if metric == "sum" else pres.amax(dim=[2, 3, 4])
            chosen = score.argmax(dim=1)
        else:  # recon: lowest reconstruction error per sample
            recs = torch.stack([dec(o[0]) for o in outs], 1)
            errs = ((recs - x.unsqueeze(1)) ** 2).mean(dim=(2, 3, 4))
            chosen = errs.argmin(dim=1)
        idx = range(B)
        read = torch.stack([o[0] for o in outs], 1)[idx, chosen]
        att = torch.stack([o[1] for o in outs], 1)[idx, chosen]
        pre = torch.stack([o[2] for o in outs], 1)[idx, chosen]
        recon = dec(read)
    ent = entropy_thesis(att) if entropy == "thesis" else entropy_paper(att)
    mse = F.mse_loss(recon, x)
    per = ((recon - x) ** 2).mean(dim=(1, 2, 3))
    case = {
        "name": name, "arch": arch, "kind": "memae", "num_conditions": K, "memory_size": N,
        "training": training, "mode": mode, "cond": cond, "metric": metric, "cosine": cosine,
        "shrink": shrink, "entropy_loss": entropy, "entropy_weight": weight,
        "recon_every_4th": flat(nhwc(recon).reshape(-1)[::4]), "latent": flat(nhwc(z)), "read": flat(nhwc(read)),
        "weights": flat(addr_rows(att)), "similarities": flat(addr_rows(pre)),
        "entropy": float(ent), "loss": float(mse + weight * ent), "per_image_err": flat(per),
        "chosen": None if chosen is None else [int(c) for c in chosen],
        # running statistics of the first BatchNorm after this forward pass
        "bn0_running_mean": flat(enc[1].running_mean), "bn0_running_var": flat(enc[1].running_var),
    }
    cases.append(case)


run_memae("memae-flat-train", "mnist-flat", 1, 10, True, "none")
run_memae("memae-flat-eval", "mnist-flat", 1, 10, False, "none")
run_memae("memae-flat-eval-dot-paper", "mnist-flat", 1, 10, False, "none", cosine=False, shrink=0.02,
          entropy="paper")
run_memae("memae-spatial-eval", "mnist", 1, 10, False, "none")
run_memae("cmemae-known-train", "mnist-flat", 3, 10, True, "known", cond=[2, 0, 0, 1])
run_memae("cmemae-known-eval", "mnist-flat", 3, 10, False, "known", cond=[1, 2, 0, 2])
run_memae("cmemae-unknown-sum-eval", "mnist-flat", 3, 10, False, "unknown", metric="sum")
run_memae("cmemae-unknown-max-eval", "mnist-flat", 3, 10, False, "unknown", metric="max")
run_memae("cmemae-unknown-recon-eval", "mnist-flat", 3, 10, False, "unknown", metric="recon")



def go_conv(t):  # Conv2d weight [out, in, k, k] -> Go [k, k, in, out]
    return t.permute(2, 3, 1, 0)


def go_convt(t):  # ConvTranspose2d weight [in, out, k, k] -> Go [k, k, in, out]
    return t.permute(2, 3, 0, 1)


def memae_gradients(xin=None, dtype=torch.float64):
    """Gradients of the train-mode mnist-flat MemAE loss (MSE + 0.0002 entropy) w.r.t.
    the input, a few kernels, BN scales/shifts, a bias and the memory (Go layouts),
    computed in dtype (float64: the golden values; float32: PyTorch's own float32 error)."""
    if xin is None:
        xin = x
    enc, dec = build("mnist-flat")  # (weights are set with gradients disabled)
    with torch.enable_grad():
        enc, dec = enc.to(dtype), dec.to(dtype)
        enc.train(True)
        dec.train(True)
        mem = v(9000, (10, 64)).to(dtype).requires_grad_(True)
        xg = xin.clone().to(dtype).requires_grad_(True)
        z = enc(xg)
        read, att, pre = mem_module(z, mem, True, 0.0025)
        recon = dec(read)
        loss = F.mse_loss(recon, xg) + 0.0002 * entropy_thesis(att)
        loss.backward()
    e, d = list(enc), list(dec)  # enc: conv, bn, leaky per layer; dec: convT[, bn, leaky]
    return {
        "loss": float(loss),
        "x": flat(nhwc(xg.grad)),
        "enc_conv0_w": flat(go_conv(e[0].weight.grad)),
        "enc_conv1_w": flat(go_conv(e[3].weight.grad)),
        "enc_conv3_w": flat(go_conv(e[9].weight.grad)),
        "enc_bn0_gamma": flat(e[1].weight.grad),
        "enc_bn1_beta": flat(e[4].bias.grad),
        "dec_convt0_w": flat(go_convt(d[0].weight.grad)),
        "dec_convt2_w": flat(go_convt(d[6].weight.grad)),
        "dec_convt3_w": flat(go_convt(d[9].weight.grad)),
        "dec_convt3_b": flat(d[9].bias.grad),
        "dec_bn2_gamma": flat(d[7].weight.grad),
        "memory": flat(mem.grad),
    }


grads = memae_gradients()


def rel_l2(a, b):
    a, b = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    return float((a - b).norm() / b.norm())


# Batch 64 (the thesis's batch size): the float64 gradients (without the input's,
# to keep the file small) and the relative L2 error of PyTorch's own float32
# computation of each, the level the Go float32 gradients are held to.
# The input is the formula's clipped to [0, 1], like MNIST's pixels (non-negative, many
# exact zeros): channel means far from zero are what one-pass variances cancel on.
x64 = golden_input(64).clamp(0, 1)
g64 = memae_gradients(x64)
g64_f32 = memae_gradients(x64, torch.float32)
del g64["x"]
grads64 = {"loss": g64["loss"], "grad": {k: v for k, v in g64.items() if k != "loss"},
           "torch_float32_rel_l2": {k: rel_l2(g64_f32[k], v) for k, v in g64.items() if k != "loss"},
           "torch_float32_loss_rel": abs(g64_f32["loss"] - g64["loss"]) / abs(g64["loss"])}

# Entropy of a spatial addressing with h != w, thesis reduction vs paper.
att = F.softmax(v(7777, (2, 5, 2, 3)).double() * 3, dim=1)
ent = {"dims_bnhw": [2, 5, 2, 3], "weights_bnhw": flat(att),
       "thesis": float(entropy_thesis(att)), "paper": float(entropy_paper(att))}

json.dump({"torch_version": torch.__version__, "batch": B, "cases": cases, "entropy_spatial": ent,
           "memae_flat_train_gradients": grads, "memae_flat_train_gradients_b64": grads64},
          sys.stdout, separators=(",", ":"))
