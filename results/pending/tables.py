"""Print the README / docs tables from a benchmark's results.json and per-run result.json files."""
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
r = json.loads((out / "results.json").read_text())
S = r["splits"]
f = lambda a, b: f"{a:.3f}/{b:.3f}"
print("| split | plain minADE/minFDE@20 | k-means K-set (Brier-minFDE) | learned K-set (Brier-minFDE) |")
print("|---|---|---|---|")
for s, v in S.items():
    name = "**mean**" if s == "mean" else s
    print(f"| {name} | {f(v['min_ade'], v['min_fde'])} | {f(v['km_min_ade'], v['km_min_fde'])} ({v['km_brier_fde']:.3f}) "
          f"| {f(v['ks_min_ade'], v['ks_min_fde'])} ({v['ks_brier_fde']:.3f}) |")
print()
print("| split | plain | k-means of 1000 draws (Brier-minFDE) | learned sampler (Brier-minFDE) | calibration error, plain | `--calibrate scene`: calibration error, endpoint (all steps) | best of 20, `--calibrate scene` |")
print("|---|---|---|---|---|---|---|")
for s, v in S.items():
    name = "**mean**" if s == "mean" else s
    print(f"| {name} | {f(v['min_ade'], v['min_fde'])} | {f(v['km_min_ade'], v['km_min_fde'])} ({v['km_brier_fde']:.3f}) "
          f"| {f(v['ks_min_ade'], v['ks_min_fde'])} ({v['ks_brier_fde']:.3f}) | {v['cal_error']:.3f} ({v['cal_error_all']:.3f} all steps) "
          f"| {v['cs_cal_error']:.3f} ({v['cs_cal_error_all']:.3f}) | {f(v['cs_min_ade'], v['cs_min_fde'])} |")
m = S["mean"]
print(f"\ntwo-agent: plain {f(m['min_ade_2'], m['min_fde_2'])}, k-means {f(m['km_min_ade_2'], m['km_min_fde_2'])}, learned {f(m['ks_min_ade_2'], m['ks_min_fde_2'])}")
print()
seeds = r["seeds"]
print("| split | mode | " + " | ".join(f"seed {i}" for i in range(seeds)) + " |")
print("|---|---|" + "---|" * seeds)
for s in [k for k in S if k != "mean"]:
    rows = [json.loads((out / s / f"seed{i}" / "result.json").read_text()) for i in range(seeds)]
    print(f"| {s} | plain / k-means / learned | " + " | ".join(
        f"{f(x['min_ade'], x['min_fde'])}, {f(x['km_min_ade'], x['km_min_fde'])}, {f(x['ks_min_ade'], x['ks_min_fde'])}" for x in rows) + " |")
    print(f"| {s} | calibration: plain, `--calibrate scene` | " + " | ".join(
        f"{x['cal_error']:.3f}, {x['cs_cal_error']:.3f} ({x['cs_cal_error_all']:.3f})" for x in rows) + " |")
for i in range(seeds):
    rows = [json.loads((out / s / f"seed{i}" / "result.json").read_text()) for s in S if s != "mean"]
    n = len(rows)
    mean = lambda k: sum(x[k] for x in rows) / n
    print(f"seed {i}: plain {f(mean('min_ade'), mean('min_fde'))} km {f(mean('km_min_ade'), mean('km_min_fde'))} "
          f"ks {f(mean('ks_min_ade'), mean('ks_min_fde'))} train_min {sum(x['train_minutes'] for x in rows):.1f} "
          f"kset_min {sum(x['kset_minutes'] for x in rows):.1f}")
