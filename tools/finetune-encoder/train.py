"""Fine-tunes USE lite as a cache's encoder (step 2 of the recipe; retrain.mjs runs it).

Each step mixes
  - QQP train pairs, duplicates and non-duplicates, under CoSENT: log(1 + sum over (non-dup i,
    dup j) of exp(scale * (cos_i - cos_j))), a ranking loss over every labelled pair of the
    batch (QQP's non-duplicates are near misses: they are what the encoder must push apart);
  - rewordings (label 1) and near misses (label 0) made from train questions (augment.mjs), in
    the same CoSENT term;
  - an in-batch contrastive loss (MultipleNegativesRanking, symmetric) over the positive pairs:
    every other text of the batch is a negative, near misses and non-duplicates included.
Texts are the core's normalized form (prepare.mjs). Single-threaded, seeded: two runs with the
same inputs and seed write the same weights. Writes the tuned weights (fp16 safetensors) and
prints loss and time; model selection and calibration use the calib part, never validation.
  python3 train.py --dir build/finetune --out weights.safetensors [--epochs 1] [--seed 1]"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import weights  # noqa: E402
from check import MIN_COSINE, fidelity, load_base  # noqa: E402
from model import pad  # noqa: E402

RECIPE_VERSION = "1"


def embed_all(model, ids, idx, batch=256, max_len=128):
    """Unit embeddings of texts idx (no grad), in length-sorted batches."""
    model.eval()
    order = sorted(idx, key=lambda i: len(ids[i]))
    out = {}
    with torch.no_grad():
        for k in range(0, len(order), batch):
            chunk = order[k : k + batch]
            e = model(*pad([ids[i] for i in chunk], max_len))
            for i, v in zip(chunk, e):
                out[i] = v
    return out


def pair_metrics(emb, pairs):
    """AUC and duplicates hit at <= 5% / 2% false hits for cosine on (a, b, label) pairs."""
    return score_metrics(torch.stack([(emb[a] * emb[b]).sum() for a, b, _ in pairs]), pairs)


def score_metrics(s, pairs):
    """The same for any score s of the pairs (higher = more alike)."""
    y = torch.tensor([l for _, _, l in pairs])
    pos, neg = s[y == 1], s[y == 0].sort(descending=True).values
    res = {}
    for rate in (0.05, 0.02):
        t = neg[int(rate * len(neg))]
        res[f"dup_hit_at_{int(rate * 100)}pct"] = round((pos > t).float().mean().item() * 100, 1)
    ranks = torch.cat([pos, neg]).argsort().argsort().float()
    res["auc"] = round(((ranks[: len(pos)].sum() - len(pos) * (len(pos) - 1) / 2) / (len(pos) * len(neg))).item(), 4)
    return res


def cosent(cos, labels, scale):
    """log(1 + sum_{y_i < y_j} exp(scale (cos_i - cos_j)))"""
    d = scale * (cos[:, None] - cos[None, :])
    valid = (labels[:, None] < labels[None, :])
    d = d[valid]
    if d.numel() == 0:
        return cos.sum() * 0
    return torch.logsumexp(torch.cat([torch.zeros(1), d]), dim=0)


def mnrl(emb, anchors, positives, same, scale):
    """Symmetric in-batch softmax: anchor a's positive among all texts of the batch (itself and
    texts equal to it excluded), and back."""
    sim = scale * emb[anchors] @ emb.t()  # (P, N)
    sim = sim.masked_fill(same[anchors], float("-inf"))
    sim[torch.arange(len(anchors)), positives] = (scale * (emb[anchors] * emb[positives]).sum(-1))
    l1 = torch.nn.functional.cross_entropy(sim, positives)
    sim2 = scale * emb[positives] @ emb.t()
    sim2 = sim2.masked_fill(same[positives], float("-inf"))
    sim2[torch.arange(len(positives)), anchors] = (scale * (emb[anchors] * emb[positives]).sum(-1))
    l2 = torch.nn.functional.cross_entropy(sim2, anchors)
    return (l1 + l2) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="build/finetune")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=48, help="QQP pairs per step")
    ap.add_argument("--aug-pos", type=int, default=12, help="rewordings per step")
    ap.add_argument("--aug-neg", type=int, default=8, help="near misses per step")
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--mnrl", type=float, default=0.5, help="weight of the in-batch loss")
    ap.add_argument("--max-len", type=int, default=48, help="tokens per text in training")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=0)
    ap.add_argument("--eval-before", type=int, default=0, help="1: the calib metrics of the base model too")
    ap.add_argument("--freeze", type=int, default=0, help="layers (and the embeddings) kept as they are")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    rnd = random.Random(a.seed)
    t0 = time.time()

    model = load_base(a.dir)
    worst, _, n = fidelity(model, a.dir)
    print(f"train: forward pass vs ONNX fp32 on {n} fidelity sentences: worst cosine {worst:.9f}", flush=True)
    if worst < MIN_COSINE:
        sys.exit(f"train: the torch forward pass does not reproduce the ONNX conversion (worst cosine {worst} < {MIN_COSINE})")

    d = json.load(open(os.path.join(a.dir, "data.json")))
    ids = d["ids"]
    train = [tuple(p) for p in d["train"]]
    calib = [tuple(p) for p in d["calib"]]
    aug_pos, aug_neg = d["augPos"], d["augNeg"]
    calib_texts = sorted({i for p in calib for i in p[:2]})

    model.frozen = a.freeze
    for name, p in model.named_parameters():
        if name == "embeddings" or any(name.startswith(f"layers.{i}.") for i in range(a.freeze)):
            p.requires_grad_(a.freeze == 0)
    base = pair_metrics(embed_all(model, ids, calib_texts), calib) if a.eval_before else None
    if base:
        print(f"train: calib before: {json.dumps(base)} ({time.time() - t0:.0f} s)", flush=True)

    steps = int(a.epochs * len(train) / a.batch)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=a.lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    order = []
    t1 = time.time()
    hist = []
    for step in range(steps):
        if len(order) < a.batch:
            more = list(range(len(train)))
            rnd.shuffle(more)
            order += more
        batch = [train[i] for i in order[: a.batch]]
        del order[: a.batch]
        pos = rnd.sample(aug_pos, a.aug_pos)
        neg = rnd.sample(aug_neg, a.aug_neg)
        labelled = batch + [(p[0], p[1], 1) for p in pos] + [(q[0], q[1], 0) for q in neg]
        texts = sorted({i for p in labelled for i in p[:2]})
        slot = {t: k for k, t in enumerate(texts)}
        model.train()
        # length-sorted sub-batches: little padding
        by_len = sorted(texts, key=lambda i: len(ids[i]))
        parts, rows = [], []
        for k in range(0, len(by_len), 48):
            chunk = by_len[k : k + 48]
            parts.append(model(*pad([ids[i] for i in chunk], a.max_len)))
            rows += chunk
        emb_sorted = torch.cat(parts)
        emb = emb_sorted[torch.tensor([rows.index(t) for t in texts])]
        ia = torch.tensor([slot[p[0]] for p in labelled])
        ib = torch.tensor([slot[p[1]] for p in labelled])
        y = torch.tensor([p[2] for p in labelled])
        cos = (emb[ia] * emb[ib]).sum(-1)
        loss_c = cosent(cos, y, a.scale)
        posk = (y == 1).nonzero().flatten()
        tid = torch.tensor(texts)
        same = tid[:, None] == tid[None, :]
        loss_m = mnrl(emb, ia[posk], ib[posk], same, a.scale) if len(posk) else loss_c * 0
        loss = loss_c + a.mnrl * loss_m
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        hist.append((loss_c.item(), loss_m.item()))
        if (step + 1) % 20 == 0 or step == steps - 1:
            c = sum(h[0] for h in hist[-20:]) / len(hist[-20:])
            m = sum(h[1] for h in hist[-20:]) / len(hist[-20:])
            el = time.time() - t1
            print(f"train: step {step + 1}/{steps} cosent {c:.4f} in-batch {m:.4f} ({el:.0f} s, {el / (step + 1):.2f} s/step)", flush=True)
        if a.eval_every and (step + 1) % a.eval_every == 0 and step + 1 < steps:
            print(f"train: calib at step {step + 1}: {json.dumps(pair_metrics(embed_all(model, ids, calib_texts), calib))}", flush=True)
    train_s = time.time() - t1
    after = pair_metrics(embed_all(model, ids, calib_texts), calib)
    print(f"train: calib after: {json.dumps(after)}", flush=True)
    first = [sum(h[0] for h in hist[:20]) / min(20, len(hist)), sum(h[1] for h in hist[:20]) / min(20, len(hist))]
    last = [sum(h[0] for h in hist[-20:]) / min(20, len(hist)), sum(h[1] for h in hist[-20:]) / min(20, len(hist))]
    meta = {
        "recipe": RECIPE_VERSION, "seed": a.seed, "steps": steps, "epochs": a.epochs, "batch": a.batch, "augPos": a.aug_pos,
        "augNeg": a.aug_neg, "freeze": a.freeze, "lr": a.lr, "scale": a.scale, "mnrl": a.mnrl, "maxLen": a.max_len, "dataSeed": d["seed"],
        "trainSeconds": round(train_s), "lossFirst": [round(x, 4) for x in first], "lossLast": [round(x, 4) for x in last],
        "calibBefore": base, "calibAfter": after,
    }
    weights.write(a.out, model.export_named(), "F16", {"semcache.recipe": json.dumps(meta)})
    json.dump(meta, open(a.out + ".json", "w"), indent=2)
    print(f"train: wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB) after {train_s:.0f} s of training, {time.time() - t0:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
