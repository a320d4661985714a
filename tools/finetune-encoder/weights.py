"""safetensors files without the safetensors library: u64 header length, JSON header, raw data
(the layout tools/convert-use/safetensors.mjs reads and writes). F32 and F16 only."""
import json
import struct

import numpy as np
import torch

_DT = {"F32": np.float32, "F16": np.float16}


def read(path):
    """-> ({name: float32 torch tensor}, metadata dict)"""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        arr = np.frombuffer(buf, dtype=_DT[t["dtype"]], count=(hi - lo) // np.dtype(_DT[t["dtype"]]).itemsize, offset=8 + n + lo)
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(t["shape"]))
    return out, meta


def write(path, tensors, dtype="F16", metadata=None):
    """tensors: {name: tensor}; written sorted by name, data 8-byte aligned (as the JS writer)."""
    names = sorted(tensors)
    header = {"__metadata__": {k: str(v) for k, v in (metadata or {}).items()}}
    blobs, off = [], 0
    for name in names:
        a = tensors[name].detach().cpu().numpy().astype(_DT[dtype])
        b = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
