"""Cross-scene validation: choose configs on a scene the model has not seen, without any test file.

    python benchmarks/cross_scene.py --holdout hotel --set data.nbr_unit=0 --out /tmp/cs/nbr0
    python benchmarks/cross_scene.py --holdout students

The splits' `val` files are later stretches of the *training* scenes, so they measure how well a config
fits those scenes; the benchmark asks how it transfers to a new one (and `eth`, the hardest split, has
nothing like its test scene in `val`). This script builds that situation from one split's `train` and
`val` files alone (default: the `eth` split, whose test scene is never read): the files of one scene
group (`--holdout`) are set aside, the model trains on the rest's `train` files and picks its epoch on the
rest's `val` files, exactly as the benchmark does, and the chosen checkpoint is then scored (minADE/minFDE@K)
on every file of the held-out group. `hotel` (raw ETH clicks, like `eth`) held out of an otherwise UCY
training set is the closest stand-in for the `eth` split; `students` stands in for `univ`.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from trajcvae import TrajCVAE
from trajcvae.config import load_config
from trajcvae.evaluate import evaluate
from trajcvae.train import train

GROUPS = {"hotel": "biwi_hotel", "eth": "biwi_eth", "students": "students", "zara": "crowds_zara",
          "uni_examples": "uni_examples"}


def cross_scene_files(split_dir: Path, holdout: str) -> tuple[list[Path], list[Path], list[Path]]:
    """(train, val, held-out) files: the split's train/val files without the held-out group, and that
    group's train + val files. Never touches the split's `test` folder."""
    if holdout not in GROUPS:
        raise SystemExit(f"--holdout must be one of {', '.join(GROUPS)} (got {holdout!r})")
    key = GROUPS[holdout]

    def pick(part: str, inside: bool) -> list[Path]:
        return sorted(f for f in (split_dir / part).glob("*.txt") if (key in f.name) == inside)

    tr, va, held = pick("train", False), pick("val", False), pick("train", True) + pick("val", True)
    if not held:
        raise SystemExit(f"{split_dir}: no train/val files of scene group {holdout!r} to hold out")
    return tr, va, held


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default="../shared/datasets/eth_ucy", help="ETH/UCY root")
    ap.add_argument("--split", default="eth", help="split whose train/val files are used (its test is not)")
    ap.add_argument("--holdout", default="hotel", help=f"scene group to hold out: {', '.join(GROUPS)}")
    ap.add_argument("--config", default="configs/eth_ucy.toml")
    ap.add_argument("--set", nargs="*", default=[], help="config overrides, section.key=value")
    ap.add_argument("--out", default="/tmp/trajcvae-cross-scene", help="run folder")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("-k", type=int, default=20)
    args = ap.parse_args()

    tr, va, held = cross_scene_files(Path(args.root) / args.split, args.holdout)
    cfg = load_config(args.config, [f"train.num_threads={args.threads}", *args.set])
    out = Path(args.out)
    t = time.time()
    result = train(tr, va, cfg, out, progress=False)
    seconds = time.time() - t  # train() has set torch's threads to --threads for the evaluation too
    scores = evaluate(TrajCVAE.load(out / "best.pt"), held, k=args.k)["scenes"]["overall"]
    report = {"split": args.split, "holdout": args.holdout, "overrides": args.set, "best_epoch": result.best_epoch,
              "val_min_ade": result.best_val_min_ade, "train_seconds": round(seconds, 1),
              "held_out_files": [f.name for f in held], **{k: scores[k] for k in ("windows", "min_ade", "min_fde")}}
    (out / "cross_scene.json").write_text(json.dumps(report, indent=2))
    print(f"{args.holdout} held out of {args.split}'s train/val {' '.join(args.set) or '(config as is)'}: "
          f"minADE/minFDE@{args.k} {scores['min_ade']:.4f}/{scores['min_fde']:.4f} on {scores['windows']} windows "
          f"(epoch {result.best_epoch}, {seconds:.0f} s)")


if __name__ == "__main__":
    main()
