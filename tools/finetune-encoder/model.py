"""The Universal Sentence Encoder lite forward pass in torch, the same computation as the ONNX
graph tools/convert-use/use-lite.mjs builds (see its header):
  x0 = 2 E[id] + timing(t);  per layer: r = adjust(x) or x; y = MHA(LN(x)) Wo + bo + r;
  x = y + FFN(LN(y));  e = l2norm(tanh(masked_mean(x) W + b)).
Keys past a row's length get a -1e9 attention bias; LayerNorm eps from the model (1e-6)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timing_table(max_len, inv):
    # float32 product, then sin/cos, as the converter computes it
    t = torch.arange(max_len, dtype=torch.float32)[:, None] * torch.tensor(inv, dtype=torch.float32)[None, :]
    t64 = t.double()
    return torch.cat([torch.sin(t64), torch.cos(t64)], dim=1).float()


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d_in, d, a, ff = c["dIn"], c["d"], c["dAttn"], c["dFF"]
        self.attn_ln = nn.LayerNorm(d_in, eps=c["lnEps"])
        self.qkv = nn.Linear(d_in, 3 * a)
        self.attn_out = nn.Linear(a, d)
        self.ffn_ln = nn.LayerNorm(d, eps=c["lnEps"])
        self.ffn1 = nn.Linear(d, ff)
        self.ffn2 = nn.Linear(ff, d)
        self.adjust_residual = nn.Linear(d_in, d) if c["adjust"] else None

    def forward(self, x, key_bias):
        c = self.c
        B, T, _ = x.shape
        r = self.adjust_residual(x) if self.adjust_residual is not None else x
        q, k, v = self.qkv(self.attn_ln(x)).split(c["dAttn"], dim=-1)
        heads = lambda z: z.view(B, T, c["heads"], c["headDim"]).transpose(1, 2)
        q, k, v = heads(q) * c["qScale"], heads(k), heads(v)
        att = torch.softmax(q @ k.transpose(-1, -2) + key_bias, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, c["dAttn"])
        y = self.attn_out(o) + r
        return y + self.ffn2(F.relu(self.ffn1(self.ffn_ln(y))))


class UseLite(nn.Module):
    """forward(ids (B, T) long, lengths (B) long) -> unit embeddings (B, 512)."""

    def __init__(self, consts, vocab_rows):
        super().__init__()
        self.consts = consts
        self.embeddings = nn.Parameter(torch.zeros(vocab_rows, consts["dEmb"]))
        self.register_buffer("timing", timing_table(consts["maxLen"], consts["invTimescales"]), persistent=False)
        self.layers = nn.ModuleList(Layer(c) for c in consts["layers"])
        d = consts["dOut"]
        self.head = nn.Linear(d, d)

    # layers below this one run without gradients (their weights and the embeddings stay as
    # they are): the recipe fine-tunes the top of the encoder, at a third less compute per token
    frozen = 0

    def pooled(self, ids, lengths):
        T = ids.shape[1]
        mask = torch.arange(T)[None, :] < lengths[:, None]  # (B, T)
        key_bias = (~mask).float()[:, None, None, :] * self.consts["maskBias"]
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.frozen == 0):
            e = self.embeddings[torch.where(mask, ids, torch.zeros_like(ids))]
            x = (2 * e + self.timing[:T][None]) * mask[..., None]
        for i, layer in enumerate(self.layers):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= self.frozen):
                x = layer(x, key_bias)
        n = lengths.clamp(min=1).float()[:, None]
        return (x * mask[..., None]).sum(1) / n

    def forward(self, ids, lengths):
        t = torch.tanh(self.head(self.pooled(ids, lengths)))
        return t / torch.sqrt(torch.clamp((t * t).sum(-1, keepdim=True), min=self.consts["l2Eps"]))

    # ---- weights in the converter's naming (tools/convert-use/use-lite.mjs specTensors) ----
    def load_named(self, named):
        """named: {name: tensor} with the converter's shapes (Linear weights as (in, out))."""
        own = self.named_tensors()
        missing = set(own) - set(named)
        extra = set(named) - set(own)
        if missing or extra:
            raise ValueError(f"weights: missing {sorted(missing)}, unexpected {sorted(extra)}")
        with torch.no_grad():
            for name, (p, transpose) in own.items():
                t = named[name].t() if transpose else named[name]
                if tuple(t.shape) != tuple(p.shape):
                    raise ValueError(f"weights: {name} has shape {tuple(named[name].shape)}")
                p.copy_(t)

    def export_named(self):
        return {name: (p.detach().t().contiguous() if tr else p.detach().clone()) for name, (p, tr) in self.named_tensors().items()}

    def named_tensors(self):
        out = {"embeddings": (self.embeddings, False), "head.weight": (self.head.weight, True), "head.bias": (self.head.bias, False)}
        for i, L in enumerate(self.layers):
            p = f"layers.{i}."
            mods = {"attn_ln": L.attn_ln, "ffn_ln": L.ffn_ln}
            for k, m in mods.items():
                out[p + k + ".scale"] = (m.weight, False)
                out[p + k + ".bias"] = (m.bias, False)
            lins = {"qkv": L.qkv, "attn_out": L.attn_out, "ffn1": L.ffn1, "ffn2": L.ffn2}
            if L.adjust_residual is not None:
                lins["adjust_residual"] = L.adjust_residual
            for k, m in lins.items():
                out[p + k + ".weight"] = (m.weight, True)
                out[p + k + ".bias"] = (m.bias, False)
        return out


def pad(rows, max_len=None):
    """rows: lists of ids -> (ids (B, T) long, lengths (B) long), clipped to max_len."""
    if max_len:
        rows = [r[:max_len] for r in rows]
    T = max(1, max(len(r) for r in rows))
    ids = torch.zeros(len(rows), T, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return ids, torch.tensor([len(r) for r in rows], dtype=torch.long)
