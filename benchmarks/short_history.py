"""How a model predicts for agents seen for fewer than obs_len steps (new tracks, as `predict` allows).

    python benchmarks/short_history.py --model results/eth_ucy/{eth,hotel,univ,zara1,zara2}/seed0/best.pt \
        --split-data ../shared/datasets/eth_ucy --part val --lengths 8 6 4 3 2

For each benchmark checkpoint (results/eth_ucy/SPLIT/seed0/best.pt), that split's `--part` files are cut
into full windows; each window's history is then cut to its last L positions (the earlier ones NaN, as a
track that began L steps before t0 arrives), and minADE/minFDE@K is measured with `data.fill_short_history`
off (the NaN padding reaches the model) and on (the track is extended back along its mean velocity). L =
obs_len is the uncut reference. Only inputs up to t0 change; the future is the same in every column.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from trajcvae import TrajCVAE
from trajcvae.windows import load_windows
from trajcvae.batch import WindowTensors
from trajcvae.config import check_count
from trajcvae.errors import TrajCVAEError, as_written
from trajcvae.metrics import min_ade_fde

ETH_UCY = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "eth_ucy"  # beside the project, from any folder


def cut_history(obs: torch.Tensor, length: int) -> torch.Tensor:
    """(N, T, 2) -> the same with all but the last `length` positions set to NaN."""
    out = obs.clone()
    out[:, : obs.shape[1] - length] = float("nan")
    return out


def short_history_errors(model: TrajCVAE, wt: WindowTensors, fut: np.ndarray, length: int, fill: bool,
                         k: int = 20, seed: int = 0) -> tuple[float, float]:
    """Mean minADE/minFDE@k with histories cut to `length` positions, the fill on or off."""
    was = model.config.data.fill_short_history
    model.config.data.fill_short_history = fill
    try:
        cut = dataclasses.replace(wt, obs=cut_history(wt.obs, length), fut=None)  # its offsets kept
        ade, fde = min_ade_fde(model.sample(cut, k=k, seed=seed), fut)
    finally:
        model.config.data.fill_short_history = was
    return float(ade.mean()), float(fde.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="+", required=True, help="checkpoints, results/eth_ucy/SPLIT/seedN/best.pt")
    ap.add_argument("--split-data", type=Path, default=ETH_UCY,
                    help="ETH/UCY root; each model is tested on its own split's --part files")
    ap.add_argument("--part", default="val", help="val (the default: no test file read) or test")
    ap.add_argument("--lengths", nargs="+", type=as_written(int), default=[8, 6, 4, 3, 2])
    ap.add_argument("-k", type=as_written(int), default=20)
    ap.add_argument("--threads", type=as_written(int), default=2)
    a = ap.parse_args()
    check_count(a.k, "-k")
    torch.set_num_threads(check_count(a.threads, "--threads"))
    models = {}  # every model and its data checked before the table starts
    for path in a.model:
        split = Path(path).parent.parent.name
        if not split or not (a.split_data / split / a.part).is_dir():
            raise TrajCVAEError(f"--model {path}: its split folder ({split or 'none'}) has no {a.part} folder in "
                                f"--split-data {a.split_data}: give results/eth_ucy/SPLIT/seedN/best.pt")
        models[path] = split, TrajCVAE.load(path)
        obs_len = models[path][1].config.data.obs_len
        if any(not 1 <= length <= obs_len for length in a.lengths):
            raise TrajCVAEError(f"--lengths must be between 1 and the model's {obs_len} observed steps "
                                f"(got {' '.join(map(str, a.lengths))})")
    print("| model | observed positions | fill off: minADE/minFDE | fill on: minADE/minFDE |")
    print("|---|---|---|---|")
    for split, model in models.values():
        w = load_windows([a.split_data / split / a.part], model.config.data)
        wt = WindowTensors.from_windows(w)
        for length in a.lengths:
            off, on = (short_history_errors(model, wt, w.fut, length, fill, a.k) for fill in (False, True))
            print(f"| {split} | {length} | {off[0]:.3f}/{off[1]:.3f} | {on[0]:.3f}/{on[1]:.3f} |", flush=True)


if __name__ == "__main__":
    from command_line import run
    run(main)
