"""The torch forward pass against the converted ONNX model (fp32, ONNX Runtime) on the fidelity
sentences: every cosine must be >= 0.9999, or the recipe stops before training anything.
  python3 check.py [--dir build/finetune] [--weights file.safetensors]"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import weights  # noqa: E402
from model import UseLite, pad  # noqa: E402

MIN_COSINE = 0.9999


def load_base(d, path=None):
    consts = json.load(open(os.path.join(d, "base.json")))
    named, _ = weights.read(path or os.path.join(d, "base.safetensors"))
    m = UseLite(consts, consts["vocabRows"])
    m.load_named(named)
    return m


def fidelity(model, d):
    ref = json.load(open(os.path.join(d, "fidelity.json")))
    model.eval()
    with torch.no_grad():
        out = []
        for i in range(0, len(ref["ids"]), 32):
            out.append(model(*pad(ref["ids"][i : i + 32])))
        e = torch.cat(out)
    cos = (e * torch.tensor(ref["emb"])).sum(-1) / e.norm(dim=-1) / torch.tensor(ref["emb"]).norm(dim=-1)
    return cos.min().item(), cos.mean().item(), len(cos)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="build/finetune")
    a = ap.parse_args()
    worst, mean, n = fidelity(load_base(a.dir), a.dir)
    print(f"check: torch vs ONNX fp32 on {n} fidelity sentences: worst cosine {worst:.9f}, mean {mean:.9f}")
    sys.exit(0 if worst >= MIN_COSINE else 1)
