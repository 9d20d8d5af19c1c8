"""Make the README's gallery (docs/gallery/*.png) with one command, from the repository root:

    python benchmarks/make_gallery.py [--model results/eth_ucy/zara1/seed0/best.pt] \
        [--data ../shared/datasets/eth_ucy/zara1/test] [--demo-model runs/demo/best.pt] [--out docs/gallery]

Demo (synthetic plaza, data/demo/test.csv; the demo model is trained first when missing, ~1-2 min):
the most spread-out prediction with its density, and the crowd at the test scene's busiest frame.
ETH/UCY (--model on --data): the 6 worst windows by minADE@20, the crowd at the busiest frame, and the
training curves of the model's run folder (its metrics.csv). Each image is checked to stay < 300 KB.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trajcvae import TrajCVAE  # noqa: E402
from trajcvae.config import check_output  # noqa: E402
from trajcvae.errors import TrajCVAEError  # noqa: E402
from trajcvae.tracks import read_tracks  # noqa: E402
from trajcvae.visualize import SceneTracks, plot_training, visualize  # noqa: E402

ETH_UCY = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "eth_ucy"  # beside the project, from any folder

MAX_BYTES = 300_000


def most_spread_window(model: Path, data: Path, k: int = 20) -> tuple[str, str, float]:
    """(scene, agent, t0) of the test window whose K final positions are the most spread out: where the
    model sees several ways to go, so the density has more than one mode."""
    predictor = TrajCVAE.load(model)
    w = predictor.make_windows([data], every_window=True)
    ends = predictor.sample(w, k=k, seed=0)[:, :, -1]  # (N, K, 2)
    spread = np.linalg.norm(ends - ends.mean(1, keepdims=True), axis=-1).mean(1)  # (N,)
    i = int(np.argmax(spread))
    return str(w.scene[i]), str(w.agent_id[i]), float(w.t0[i])


def busiest(data: Path) -> tuple[str, float]:
    tracks = SceneTracks(read_tracks([data]))
    scene = tracks.scenes[0]
    return scene, tracks.busiest_frame(scene)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("results/eth_ucy/zara1/seed0/best.pt"),
                    help="ETH/UCY checkpoint; its folder's metrics.csv gives the training curves")
    ap.add_argument("--data", type=Path, default=ETH_UCY / "zara1" / "test",
                    help="the ETH/UCY split the model is tested on")
    ap.add_argument("--demo-model", type=Path, default=Path("runs/demo/best.pt"),
                    help="demo checkpoint (trained with `trajcvae demo` into its folder when missing)")
    ap.add_argument("--out", type=Path, default=Path("docs/gallery"))
    args = ap.parse_args()

    # Every input is checked before the demo model trains or a picture is drawn: a refusal leaves --out as it was.
    if not args.model.is_file():
        raise TrajCVAEError(f"--model {args.model}: no such checkpoint (train one with `trajcvae benchmark eth-ucy` "
                            "or `trajcvae train`)")
    TrajCVAE.load(args.model)  # a file that is no checkpoint: its own line
    if not (args.model.parent / "metrics.csv").is_file():
        raise TrajCVAEError(f"--model {args.model}: its folder has no metrics.csv, which the training curves are "
                            "drawn from; give the best.pt of a run folder")
    if not args.data.exists():
        raise TrajCVAEError(f"--data {args.data}: no such file or folder (give the ETH/UCY split the model is "
                            "tested on, e.g. ../shared/datasets/eth_ucy/zara1/test)")
    eth_scene, eth_frame = busiest(args.data)  # tracks the library cannot read: its own line
    check_output(args.out, "--out", folder=True)
    if not args.demo_model.is_file():
        from trajcvae.demo import run_demo

        print(f"training the demo model into {args.demo_model.parent} ...")
        run_demo(args.demo_model.parent, progress=False)

    demo_data = ROOT / "data" / "demo" / "test.csv"
    out = args.out
    written = []
    scene, agent, t0 = most_spread_window(args.demo_model, demo_data)
    written.append(visualize(args.demo_model, [demo_data], out / "demo_agent_density.png", scene=scene,
                             agent=agent, t0=t0, density="final", size="700x600"))
    scene, frame = busiest(demo_data)
    written.append(visualize(args.demo_model, [demo_data], out / "demo_crowd.png", scene=scene,
                             scene_frame=frame, k=10, size="800x700"))
    written.append(visualize(args.model, [args.data], out / "eth_ucy_worst.png", grid=6, worst=True,
                             size="1050x700"))
    written.append(visualize(args.model, [args.data], out / "eth_ucy_crowd.png", scene=eth_scene, scene_frame=eth_frame,
                             density="final", size="800x700"))
    written.append(plot_training(args.model.parent, out / "eth_ucy_curves.png", size="1000x650"))
    for path in written:
        kb = path.stat().st_size / 1000
        print(f"{path} ({kb:.0f} KB)")
        if path.stat().st_size > MAX_BYTES:
            sys.exit(f"error: {path}: {kb:.0f} KB is over the {MAX_BYTES // 1000} KB the gallery allows; lower its "
                     "size")


if __name__ == "__main__":
    from command_line import run
    run(main)
