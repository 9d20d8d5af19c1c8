"""Retrain the built-in pedestrian model's K-set sampler (own decoder, 20 passes) on its own windows."""
import sys
import torch
from pathlib import Path
from trajcvae import checkpoint
from trajcvae.config import Config
from trajcvae.train import finish_run, holdout
from trajcvae.windows import load_windows

src, out = Path("trajcvae/models/pedestrian.pt"), Path("/work/ped/run")
out.mkdir(parents=True, exist_ok=True)
ckpt = checkpoint.load(src)
ckpt.pop("kset")
ckpt["stats"] = {k: v for k, v in ckpt.get("stats", {}).items() if k != "kset"}
ckpt["config"]["kset"] = Config().to_dict()["kset"]
cfg = Config.from_dict(ckpt["config"])
print(cfg.kset)
checkpoint.save({k: v for k, v in ckpt.items() if k not in ("format", "version")}, out / "best.pt")
root = Path("/work/shared/datasets/eth_ucy/raw")
w = load_windows([root / "train", root / "val"], cfg.data, None)
tr, va = holdout(w)
print(len(tr), len(va), flush=True)
finish_run(out, tr, va, log=lambda m: print(m, flush=True))
