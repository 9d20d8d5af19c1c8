"""Big-file benchmark: `trajcvae predict` on a CSV of a million rows (or more), timed, with its peak memory.

    python benchmarks/bigfile.py                        # 1,000,000 rows, K=20, latest-frame mode
    python benchmarks/bigfile.py --rows 5000000 --k 20  # bigger
    python benchmarks/bigfile.py --rows 65000000 --load-only   # a ~2 GB CSV: read + summary only

1. Writes DIR/tracks_<rows>.csv with the project's simulator: `--base-scenes` scenes of the plaza (different
   seeds), tiled under new scene names until the file has `--rows` rows (thousands of agents, many scenes).
2. Unless `--model` is given, trains a default-size model for one epoch on one small scene (the weights'
   quality does not matter here, only their size).
3. Runs `python -m trajcvae predict MODEL CSV -k K --out DIR/predictions.csv` in a child process and reports
   its wall time, input rows per second and peak resident memory (`os.wait4` -> ru_maxrss of that child
   alone). `--windows` predicts every full window instead: its output is ~ (windows x K x pred_len) rows,
   about 120 x the input for these tracks, so it is only estimated unless `--run-windows` is given.

Prints one Markdown table row per run, for benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trajcvae.config import check_count, check_seed  # noqa: E402
from trajcvae.errors import as_written  # noqa: E402


def make_csv(path: Path, rows: int, base_scenes: int, seed: int) -> None:
    """Write `rows` rows: `base_scenes` simulated scenes, tiled under new scene names."""
    import pandas as pd

    from trajcvae.simulate import simulate_scene
    from trajcvae.atomic import TableWriter

    base = [simulate_scene(n_frames=400, spawn_rate=0.35, seed=seed * 1000 + i, scene="base")
            for i in range(base_scenes)]
    written, tile = 0, 0
    with TableWriter(path) as writer:
        while written < rows:
            part = base[tile % base_scenes].iloc[: rows - written].copy()
            part["scene"] = pd.Categorical([f"plaza{tile:06d}"] * len(part))
            writer.write(part)
            written += len(part)
            tile += 1


def tiny_default_model(folder: Path) -> Path:
    """A default-size model (hidden 128, z 32) after one epoch on one small scene: realistic compute."""
    from trajcvae.config import load_config
    from trajcvae.simulate import simulate_scene
    from trajcvae.train import train

    if (folder / "best.pt").exists():
        return folder / "best.pt"
    data = folder.parent / "bench_train.csv"
    simulate_scene(n_frames=200, seed=123, scene="t").to_csv(data, index=False)
    cfg = load_config(None, ["train.epochs=1", "train.device=cpu"])
    train([data], None, cfg, folder, progress=False)
    return folder / "best.pt"


MEASURE = r"""
import resource, subprocess, sys, time, json
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (2 ** 20 if sys.platform == "darwin" else 1024)
print(json.dumps({"seconds": dt, "peak_mib": peak, "rc": r.returncode, "out": r.stdout + r.stderr}))
"""


def measured(cmd: list[str]) -> dict:
    """Run `cmd` as the only child of a fresh wrapper, so RUSAGE_CHILDREN's max RSS is that command's."""
    import json

    r = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


LOAD = r"""
import sys, time
from trajcvae.tracks import read_tracks
from trajcvae.checks import summarize
t = time.perf_counter()
df = read_tracks([sys.argv[1]])
print(summarize(df).line())
print(f"read+summary {time.perf_counter() - t:.1f} s")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=as_written(int), default=1_000_000)
    ap.add_argument("--k", type=as_written(int), default=20)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/trajcvae-bigfile"))
    ap.add_argument("--model", type=str, default=None, help="checkpoint (default: a fresh default-size model)")
    ap.add_argument("--base-scenes", type=as_written(int), default=16)
    ap.add_argument("--seed", type=as_written(int), default=0)
    ap.add_argument("--load-only", action="store_true", help="only read the file and print its summary")
    ap.add_argument("--run-windows", action="store_true", help="also run --windows (huge output)")
    ap.add_argument("--keep", action="store_true", help="keep the predictions file")
    args = ap.parse_args()
    for option in ("rows", "k", "base_scenes"):
        check_count(getattr(args, option), f"--{option.replace('_', '-')}")
    check_seed(args.seed)
    if args.model:  # before the file is simulated and read (minutes, for a big one)
        from trajcvae.predict import TrajCVAE

        TrajCVAE.load(args.model)
    args.dir.mkdir(parents=True, exist_ok=True)
    csv = args.dir / f"tracks_{args.rows}.csv"
    if not csv.exists():
        t = time.perf_counter()
        make_csv(csv, args.rows, args.base_scenes, args.seed)
        print(f"wrote {csv} ({csv.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f} s")
    size_mib = csv.stat().st_size / 2**20

    print("| command | rows | input MiB | output rows | output MiB | seconds | input rows/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    r = measured([sys.executable, "-c", LOAD, str(csv)])
    lines = r["out"].strip().splitlines()
    print(f"| read_tracks + summarize | {args.rows:,} | {size_mib:.0f} | - | - | {r['seconds']:.1f} | "
          f"{args.rows / r['seconds']:,.0f} | {r['peak_mib']:.0f} |")
    print(f"    {lines[0] if lines else r['out']}")
    if args.load_only:
        return

    model = args.model or str(tiny_default_model(args.dir / "model"))
    modes = [False, True] if args.run_windows else [False]
    for windows in modes:
        out = args.dir / ("predictions_windows.csv" if windows else "predictions.csv")
        cmd = [sys.executable, "-m", "trajcvae", "predict", model, str(csv), "-k", str(args.k), "--out", str(out)]
        if windows:
            cmd.append("--windows")
        r = measured(cmd)
        if r["rc"] != 0:
            raise SystemExit(r["out"])
        out_rows = sum(1 for _ in open(out, "rb")) - 1
        print(f"| predict -k {args.k}{' --windows' if windows else ''} | {args.rows:,} | {size_mib:.0f} | "
              f"{out_rows:,} | {out.stat().st_size / 2**20:.0f} | {r['seconds']:.1f} | "
              f"{args.rows / r['seconds']:,.0f} | {r['peak_mib']:.0f} |")
        for line in r["out"].strip().splitlines():
            print(f"    {line}")
        if not args.keep:
            out.unlink()
    if not args.run_windows:
        from trajcvae.tracks import read_tracks
        from trajcvae.predict import TrajCVAE
        from trajcvae.windows import iter_windows

        dc = TrajCVAE.load(model).config.data
        n = sum(len(w) for w in iter_windows(read_tracks([csv]), dc, "windows", chunk=None))
        rows = n * args.k * dc.pred_len
        print(f"--windows would predict {n:,} windows -> {rows:,} rows (~{rows * 44 / 2**30:.0f} GiB of CSV at "
              f"~44 bytes a row); run with --run-windows to measure it")
    print(f"\ncommand: python benchmarks/bigfile.py --rows {args.rows} --k {args.k}"
          + (f" --model {args.model}" if args.model else ""))


if __name__ == "__main__":
    from command_line import run
    run(main)
