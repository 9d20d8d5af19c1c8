"""Prediction and training speed on the ETH/UCY `univ` split, with a fixed number of CPU threads.

    python benchmarks/speed.py --model results/eth_ucy/univ/seed0/best.pt --threads 2

Prints (and with --json writes) agent-windows per second at K=20 for the whole `univ` test split,
the latency of one agent's prediction, the window build time with and without the cache, and training
windows per second for one process.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from trajcvae import TrajCVAE
from trajcvae.windows import load_windows
from trajcvae.batch import WindowTensors, make_batch
from trajcvae.atomic import write_text
from trajcvae.config import check_count, check_output, read_paths
from trajcvae.errors import as_written

ETH_UCY = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "eth_ucy"  # beside the project, from any folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="results/eth_ucy/univ/seed0/best.pt")
    ap.add_argument("--root", default=str(ETH_UCY))
    ap.add_argument("--threads", type=as_written(int), default=2)
    ap.add_argument("-k", type=as_written(int), default=20)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    check_count(a.k, "-k")
    torch.set_num_threads(check_count(a.threads, "--threads"))
    if a.json is not None:  # before the measuring, not after it
        check_output(a.json, "--json", inputs=read_paths(a.model))
    model = TrajCVAE.load(a.model)
    cfg = model.config
    out: dict[str, float] = {"threads": a.threads, "k": a.k}

    windows = {}
    with tempfile.TemporaryDirectory() as cache:
        for part in ("train", "test"):  # build once, then load from the window cache
            for what in ("build", "cache_load"):
                t = time.perf_counter()
                windows[part] = load_windows([Path(a.root) / "univ" / part], cfg.data, cache_dir=cache)
                out[f"{part}_windows_{what}_s"] = time.perf_counter() - t
            out[f"{part}_windows"] = len(windows[part])
    train_w, test_w = windows["train"], windows["test"]

    wt = WindowTensors.from_windows(test_w)
    model.sample(wt, k=a.k)  # warm-up
    runs = []
    for seed in range(3):
        t = time.perf_counter()
        model.sample(wt, k=a.k, seed=seed)
        runs.append(time.perf_counter() - t)
    out["predict_windows_per_s"] = len(wt) / min(runs)
    one = wt.inputs(slice(0, 1))  # one agent, with its scene memory when the model has one
    lat = []
    for i in range(200):
        t = time.perf_counter()
        model.sample(one, k=a.k, seed=i)
        lat.append(time.perf_counter() - t)
    out["one_agent_latency_ms"] = statistics.median(lat) * 1000

    # Training throughput: forward + backward + step, as in train.py, for 30 batches.
    tr = WindowTensors.from_windows(train_w)
    net = model.model.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    tc = cfg.train
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(tr), generator=g)
    t, n = time.perf_counter(), 0
    for i in range(30):
        idx = perm[i * tc.batch_size:(i + 1) * tc.batch_size]
        b = make_batch(tr, idx, cfg.data, augment=True, generator=g)
        loss = net.loss(b, tc.beta, tc.variety_weight, tc.variety_k)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        n += len(idx)
    out["train_windows_per_s"] = n / (time.perf_counter() - t)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2 ** 20 if sys.platform == "darwin"
                                                                             else 1024)  # bytes on macOS, else KiB
    for key, v in out.items():
        print(f"{key:28s} {v:,.2f}" if isinstance(v, float) else f"{key:28s} {v}")
    if a.json:
        write_text(a.json, json.dumps(out, indent=2))  # (its missing folders made)


if __name__ == "__main__":
    from command_line import run
    run(main)
