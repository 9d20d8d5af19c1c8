"""Cross-scene validation: choose configs on a scene the model has not seen, without any test file.

    python benchmarks/cross_scene.py --holdout hotel --set data.nbr_unit=0 --out /tmp/cs/nbr0
    python benchmarks/cross_scene.py --holdout students,hotel,zara --seeds 2 --out /tmp/cs/shipped

The splits' `val` files are later stretches of the *training* scenes, so they measure how well a config
fits those scenes; the benchmark asks how it transfers to a new one (and `eth`, the hardest split, has
nothing like its test scene in `val`). This script builds that situation from one split's `train` and
`val` files alone (default: the `eth` split, whose test scene is never read): the files of one scene
group (`--holdout`) are set aside, the model trains on the rest's `train` files and picks its epoch on the
rest's `val` files, exactly as the benchmark does, and the chosen checkpoint is then scored (minADE/minFDE@K)
on every file of the held-out group. `hotel` (raw ETH clicks, like `eth`) held out of an otherwise UCY
training set is the closest stand-in for the `eth` split; `students` stands in for `univ`, `zara` for
`zara1` and `zara2`. With several folds and `--seeds N`, each (fold, seed) run lands in `<out>/<fold>/seed<N>`
(finished runs are read back, so a re-run resumes) and `<out>/summary.md` gets each fold's mean score.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from trajcvae import TrajCVAE
from trajcvae.atomic import write_text
from trajcvae.config import check_count, load_config
from trajcvae.errors import TrajCVAEError, as_written
from trajcvae.evaluate import evaluate
from trajcvae.train import data_digest, train

ETH_UCY = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "eth_ucy"  # beside the project, from any folder

GROUPS = {"hotel": "biwi_hotel", "eth": "biwi_eth", "students": "students", "zara": "crowds_zara",
          "uni_examples": "uni_examples"}


def cross_scene_files(split_dir: Path, holdout: str) -> tuple[list[Path], list[Path], list[Path]]:
    """(train, val, held-out) files: the split's train/val files without the held-out group, and that
    group's train + val files. Never touches the split's `test` folder."""
    if holdout not in GROUPS:
        raise SystemExit(f"error: --holdout must be one of {', '.join(GROUPS)} (got {holdout!r})")
    key = GROUPS[holdout]

    def pick(part: str, inside: bool) -> list[Path]:
        return sorted(f for f in (split_dir / part).glob("*.txt") if (key in f.name) == inside)

    tr, va, held = pick("train", False), pick("val", False), pick("train", True) + pick("val", True)
    if not held:
        raise SystemExit(f"error: {split_dir}: no train/val files of scene group {holdout!r} to hold out")
    return tr, va, held


def score(run: dict) -> float:
    """One run's number for comparing configs: the mean of its held-out minADE and minFDE (metres)."""
    return (run["min_ade"] + run["min_fde"]) / 2


def summary_table(runs: list[dict]) -> str:
    """Markdown: per fold, each seed's minADE/minFDE and the mean score over its seeds."""
    lines = ["| fold | seeds | minADE/minFDE per seed | score (mean of (minADE + minFDE) / 2) |", "|---|---|---|---|"]
    for fold in dict.fromkeys(r["holdout"] for r in runs):
        mine = sorted((r for r in runs if r["holdout"] == fold), key=lambda r: r["seed"])
        per_seed = ", ".join(f"{r['min_ade']:.4f}/{r['min_fde']:.4f}" for r in mine)
        mean = sum(map(score, mine)) / len(mine)
        lines.append(f"| {fold} | {', '.join(str(r['seed']) for r in mine)} | {per_seed} | {mean:.4f} |")
    return "\n".join(lines)


def run_fold(split_dir: Path, holdout: str, config: str | None, overrides: list[str], seed: int, out: Path,
             threads: int, k: int) -> dict:
    """Train and score one fold with one seed in `out`; a finished run (its cross_scene.json) is read back
    when it was made from the same split's same files (their names and bytes) with the same config and -k
    (else refused: its numbers are not this run's), an interrupted one resumed."""
    done = out / "cross_scene.json"
    tr, va, held = cross_scene_files(split_dir, holdout)
    data = {part: data_digest(files) for part, files in (("train", tr), ("val", va), ("held_out", held))}
    if done.exists():
        try:
            report = json.loads(done.read_text())
        except ValueError:
            report = None
        if not isinstance(report, dict) or not isinstance(report.get("data", {}), dict):
            raise SystemExit(f"error: {done}: not a cross_scene.py report (damaged?): give another --out, or delete "
                             "it to run again")
        was = (report.get("split", split_dir.name), report.get("k", 20),  # (reports before 2026-12-05: -k 20)
               load_config(report.get("config"), report.get("overrides", [])).to_dict())
        if was != (split_dir.name, k, load_config(config, overrides).to_dict()):
            raise SystemExit(f"error: {done}: a finished run of split {was[0]}, -k {was[1]}, --config "
                             f"{report.get('config')} --set {' '.join(report.get('overrides', [])) or '(none)'}, "
                             "not this one's: give another --out")
        if "data" not in report:
            raise SystemExit(f"error: {done}: a finished run made before reports recorded their files (2026-12-06), "
                             "whose files cannot be checked: give another --out, or delete it to run again")
        edited = [part.replace("_", "-") for part, digest in data.items() if report["data"].get(part) != digest]
        if edited:
            raise SystemExit(f"error: {done}: a finished run whose {', '.join(edited)} files were not these (other "
                             "files, or edited since): give another --out, or delete it to run again")
        return report
    cfg = load_config(config, [f"train.num_threads={threads}", *overrides, f"train.seed={seed}"])
    t = time.time()
    result = train(tr, va, cfg, out, resume=(out / "last.pt").exists(), progress=False)
    seconds = time.time() - t  # train() has set torch's threads to --threads for the evaluation too
    scores = evaluate(TrajCVAE.load(out / "best.pt"), held, k=k, calibration_draws=0)["scenes"]["overall"]
    report = {"split": split_dir.name, "holdout": holdout, "seed": seed, "config": config, "overrides": overrides,
              "k": k, "data": data,
              "best_epoch": result.best_epoch, "val_min_ade": result.best_val_min_ade,
              "train_seconds": round(seconds, 1), "held_out_files": [f.name for f in held],
              **{key: scores[key] for key in ("windows", "min_ade", "min_fde")}}
    write_text(done, json.dumps(report, indent=2))
    return report


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=str(ETH_UCY), help="ETH/UCY root")
    ap.add_argument("--split", default="eth", help="split whose train/val files are used (its test is not)")
    ap.add_argument("--holdout", default="hotel",
                    help=f"scene group(s) to hold out, comma-separated: {', '.join(GROUPS)}")
    ap.add_argument("--seeds", type=as_written(int), default=1, help="train seeds 0..N-1 on every fold")
    ap.add_argument("--config", default=None, help="TOML config over the defaults (default: the defaults)")
    ap.add_argument("--set", nargs="*", action="extend", default=[],
                    help="config overrides, section.key=value (several after one --set, or --set repeated)")
    ap.add_argument("--out", default="/tmp/trajcvae-cross-scene", help="folder: one run in <out>/<fold>/seed<N>")
    ap.add_argument("--threads", type=as_written(int), default=1, help="torch CPU threads")
    ap.add_argument("-k", type=as_written(int), default=20)
    return ap


def main() -> None:
    args = parser().parse_args()

    root, split = Path(args.root), Path(args.root) / args.split
    if not root.is_dir():  # (else every fold would be "no files of its group", as if the folder were there)
        raise TrajCVAEError(f"--root {root}: no such folder; give --root the ETH/UCY datasets' folder, which holds "
                            "one folder per split (eth, hotel, univ, zara1, zara2)")
    if not split.is_dir():
        splits = sorted(f.name for f in root.iterdir() if (f / "train").is_dir())
        raise TrajCVAEError(f"--split {args.split}: no such folder in --root {root}; give one of its splits ("
                            f"{', '.join(splits) or 'none: no folder there has a train folder'})")
    folds = [f.strip() for f in args.holdout.split(",") if f.strip()]
    for fold in folds:  # every fold checked before the first run starts
        cross_scene_files(split, fold)
    if args.seeds < 1:
        raise SystemExit("error: --seeds must be >= 1")
    check_count(args.threads, "--threads")
    check_count(args.k, "-k")
    load_config(args.config, args.set)  # a bad --config or --set is refused before the first run
    own = {"train.seed": "--seeds", "train.num_threads": "--threads"}  # each run's, set by the script
    given = next((o for o in args.set if o.partition("=")[0].strip() in own), None)
    if given is not None:
        flag = own[given.partition("=")[0].strip()]
        raise SystemExit(f"error: --set {given}: the script sets it for each run; use {flag}")
    runs = []
    for fold in folds:
        for seed in range(args.seeds):
            run = run_fold(split, fold, args.config, args.set, seed,
                           Path(args.out) / fold / f"seed{seed}", args.threads, args.k)
            changes = " ".join(args.set) or "(config as is)"
            print(f"{fold} held out of {args.split}'s train/val, seed {seed}, {changes}: "
                  f"minADE/minFDE@{args.k} {run['min_ade']:.4f}/{run['min_fde']:.4f} on {run['windows']} windows "
                  f"(epoch {run['best_epoch']}, {run['train_seconds']:.0f} s)", flush=True)
            runs.append(run)
    table = summary_table(runs)
    write_text(Path(args.out) / "summary.md", table + "\n")
    print(table)


if __name__ == "__main__":
    from command_line import run
    run(main)
