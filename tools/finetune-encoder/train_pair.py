"""Trains the pair model (step 3 of the recipe; retrain.mjs runs it): a cross-encoder that reads
a query and a cached question together and says whether they ask the same thing.
  input   query ids, the separator </s> (id 2), candidate ids (each side clipped to --side-len)
  model   USE lite's embedding table and its first --layers layers (initialized from the tuned
          encoder), mean pool, tanh head, L2 norm (the converter's graph, unchanged), then a
          logistic classifier: p = sigmoid(w . e + b)
  data    QQP train pairs (both orders), rewordings (1) and near misses (0) from augment.mjs
  loss    binary cross-entropy; AdamW, linear warm-up and decay; seeded, single-threaded.
One layer keeps its cost per lookup below one embedding's (a pair is twice a question's tokens,
the first layer is 45% of the encoder's multiply-adds per token). Writes fp16 safetensors with
the classifier as `classifier.weight` / `classifier.bias`, and the calib part's metrics.
  python3 train_pair.py --dir build/finetune --init tuned.safetensors --out pair.safetensors"""
import argparse
import json
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import weights  # noqa: E402
from model import UseLite, pad  # noqa: E402
from train import score_metrics as metrics  # noqa: E402

SEP = 2
RECIPE_VERSION = "1"


def pair_ids(ids, q, c, side):
    return ids[q][:side] + [SEP] + ids[c][:side]


class PairModel(torch.nn.Module):
    def __init__(self, consts, vocab_rows, layers):
        super().__init__()
        c = dict(consts, layers=consts["layers"][:layers])
        self.encoder = UseLite(c, vocab_rows)
        self.classifier = torch.nn.Linear(consts["dOut"], 1)
        torch.nn.init.zeros_(self.classifier.weight)
        torch.nn.init.zeros_(self.classifier.bias)

    def forward(self, ids, lengths):
        return self.classifier(self.encoder(ids, lengths)).squeeze(-1)


def scores(model, ids, pairs, side, batch=128):
    model.eval()
    out = []
    with torch.no_grad():
        for k in range(0, len(pairs), batch):
            rows = [pair_ids(ids, a, b, side) for a, b, _ in pairs[k : k + batch]]
            out.append(torch.sigmoid(model(*pad(rows))))
    return torch.cat(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="build/finetune")
    ap.add_argument("--init", required=True, help="the tuned encoder's weights")
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--aug", type=int, default=8, help="rewordings and near misses per step (each)")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--side-len", type=int, default=48)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    rnd = random.Random(a.seed)
    t0 = time.time()
    consts = json.load(open(os.path.join(a.dir, "base.json")))
    model = PairModel(consts, consts["vocabRows"], a.layers)
    init, _ = weights.read(a.init)
    keep = {k: v for k, v in init.items() if not k.startswith("layers.") or int(k.split(".")[1]) < a.layers}
    model.encoder.load_named(keep)

    d = json.load(open(os.path.join(a.dir, "data.json")))
    ids = d["ids"]
    train = [tuple(p) for p in d["train"]]
    calib = [tuple(p) for p in d["calib"]]
    aug_pos, aug_neg = d["augPos"], d["augNeg"]

    steps = int(a.epochs * len(train) / a.batch)
    head = list(model.classifier.parameters())
    opt = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": a.lr}, {"params": head, "lr": a.head_lr}], weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    order, hist = [], []
    t1 = time.time()
    for step in range(steps):
        if len(order) < a.batch:
            more = list(range(len(train)))
            rnd.shuffle(more)
            order += more
        batch = [train[i] for i in order[: a.batch]]
        del order[: a.batch]
        batch += [(p[0], p[1], 1) for p in rnd.sample(aug_pos, a.aug)] + [(q[0], q[1], 0) for q in rnd.sample(aug_neg, a.aug)]
        rows = [pair_ids(ids, x, y, a.side_len) if rnd.random() < 0.5 else pair_ids(ids, y, x, a.side_len) for x, y, _ in batch]
        labels = torch.tensor([float(l) for _, _, l in batch])
        model.train()
        order_len = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        loss = 0
        for k in range(0, len(order_len), 24):  # length-sorted sub-batches: little padding
            sub = order_len[k : k + 24]
            logit = model(*pad([rows[i] for i in sub]))
            loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(logit, labels[sub], reduction="sum")
        loss = loss / len(rows)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        hist.append(loss.item())
        if (step + 1) % 50 == 0 or step == steps - 1:
            el = time.time() - t1
            print(f"train_pair: step {step + 1}/{steps} loss {sum(hist[-50:]) / len(hist[-50:]):.4f} ({el:.0f} s, {el / (step + 1):.2f} s/step)", flush=True)
    train_s = time.time() - t1
    s = scores(model, ids, calib, a.side_len)
    after = metrics(s, calib)
    # calibration on the calib part: probability threshold for each false-hit rate
    y = torch.tensor([l for _, _, l in calib])
    neg = s[y == 0].sort(descending=True).values
    calibration = [{"falseHitRate": r, "threshold": round(min(1.0, neg[int(r * len(neg))].item() + 1e-6), 6)} for r in (0.005, 0.01, 0.02, 0.05, 0.1)]
    print(f"train_pair: calib: {json.dumps(after)}; thresholds {json.dumps(calibration)}", flush=True)
    meta = {
        "recipe": RECIPE_VERSION, "seed": a.seed, "layers": a.layers, "steps": steps, "epochs": a.epochs, "batch": a.batch, "aug": a.aug,
        "lr": a.lr, "headLr": a.head_lr, "sideLen": a.side_len, "dataSeed": d["seed"], "trainSeconds": round(train_s),
        "lossFirst": round(sum(hist[:50]) / min(50, len(hist)), 4), "lossLast": round(sum(hist[-50:]) / min(50, len(hist)), 4),
        "calibAfter": after, "calibration": calibration, "separator": SEP,
    }
    named = model.encoder.export_named()
    named["classifier.weight"] = model.classifier.weight.detach().reshape(-1).clone()
    named["classifier.bias"] = model.classifier.bias.detach().clone()
    weights.write(a.out, named, "F16", {"semcache.recipe": json.dumps(meta)})
    json.dump(meta, open(a.out + ".json", "w"), indent=2)
    print(f"train_pair: wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB) after {train_s:.0f} s of training, {time.time() - t0:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
