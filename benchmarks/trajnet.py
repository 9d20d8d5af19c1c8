"""TrajNet++'s protocol on ETH/UCY scenes: write a recorded ETH/UCY file as a TrajNet++ test file (each scene
record's 9 observed samples, the futures removed) and its test_private file (the futures kept), predict the test
file with `trajcvae predict --primary --out X.ndjson` as a submission, and score that file against the futures
as TrajNet++'s evaluator scores one, beside `trajcvae evaluate --primary` on the private file.

    python benchmarks/trajnet.py --source ../shared/datasets/eth_ucy/zara1/test/crowds_zara01.txt \
        --out /tmp/trajnet

Scenes, as TrajNet++'s dataset tool cuts them: 21 samples 0.4 s apart (frame ids 10 apart) of one primary
pedestrian, observed for the first 9 and predicted for 12; each pedestrian's track cut into such scenes one
after the other (none overlaps another of its own). The test file keeps every pedestrian's samples in each
scene's observed frames. The scores, by TrajNet++'s definitions (its evaluator's, written here anew): ADE/FDE
of prediction 0 (its single guess), top-3 (of predictions 0-2, the one of least ADE: its ADE and FDE), and
the best of all K (minADE and minFDE, each its own minimum, as `evaluate` reports them).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from trajcvae import TrajCVAE
from trajcvae.errors import TrajCVAEError

SAMPLES, OBSERVED, STEP = 21, 9, 10  # a TrajNet++ scene: 21 samples, 9 observed; ETH/UCY frame ids per sample


def scenes_of(tracks: pd.DataFrame) -> list[dict]:
    """TrajNet++ scene records: each pedestrian's track cut into runs of 21 samples a step apart."""
    records = []
    for agent, g in tracks.groupby("agent_id", sort=True):
        f = g["frame"].to_numpy()
        i = 0
        while i + SAMPLES <= len(f):
            if f[i + SAMPLES - 1] - f[i] == (SAMPLES - 1) * STEP:
                records.append({"id": len(records), "p": int(agent), "s": int(f[i]),
                                "e": int(f[i + SAMPLES - 1]), "fps": 2.5, "tag": [1, []]})
                i += SAMPLES
            else:
                i += 1
    return records


def write_ndjson(path: Path, tracks: pd.DataFrame, records: list[dict]) -> None:
    rows = tracks.sort_values(["frame", "agent_id"])
    path.write_text("".join(json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id), "x": round(r.x, 2),
                                                  "y": round(r.y, 2)}}) + "\n" for r in rows.itertuples())
                    + "".join(json.dumps({"scene": r}) + "\n" for r in records))


def score(prediction: Path, tracks: pd.DataFrame, records: list[dict]) -> dict[str, float]:
    """TrajNet++'s scores of a prediction file: its scenes paired with the records in order."""
    truth = tracks.set_index(["agent_id", "frame"])[["x", "y"]]
    lines = [json.loads(line) for line in prediction.read_text().splitlines()]
    scenes = [i for i, line in enumerate(lines) if "scene" in line] + [len(lines)]
    assert len(scenes) - 1 == len(records), "a prediction file pairs its scenes with the test file's, in order"
    out = {"ade": [], "fde": [], "top3_ade": [], "top3_fde": [], "min_ade": [], "min_fde": []}
    for record, lo, hi in zip(records, scenes[:-1], scenes[1:]):
        assert lines[lo]["scene"]["id"] == record["id"]
        tracks_ = [line["track"] for line in lines[lo + 1:hi]]
        k = max(t["prediction_number"] for t in tracks_) + 1
        frames = [record["s"] + (OBSERVED + j) * STEP for j in range(SAMPLES - OBSERVED)]
        paths = np.full((k, len(frames), 2), np.nan)
        for t in tracks_:
            paths[t["prediction_number"], frames.index(t["f"])] = t["x"], t["y"]
        true = truth.loc[[(record["p"], f) for f in frames]].to_numpy()
        d = np.linalg.norm(paths - true, axis=-1)  # (K, 12)
        ade, fde = d.mean(1), d[:, -1]
        best3 = int(np.argmin(ade[:3]))
        for key, value in (("ade", ade[0]), ("fde", fde[0]), ("top3_ade", ade[best3]), ("top3_fde", fde[best3]),
                           ("min_ade", ade.min()), ("min_fde", fde.min())):
            out[key].append(value)
    return {key: float(np.mean(v)) for key, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, required=True, help="an ETH/UCY text file (frame agent_id x y)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/trajnet"))
    ap.add_argument("--model", default="pedestrian")
    args = ap.parse_args()
    from command_line import eth_ucy_table, trajcvae

    tracks = eth_ucy_table(args.source)
    tracks[["x", "y"]] = tracks[["x", "y"]].round(2)  # as TrajNet++ files write them
    records = scenes_of(tracks)
    if not records:
        raise TrajCVAEError(f"--source {args.source}: no pedestrian has {SAMPLES} samples {STEP} frame ids apart "
                            "in a row: no TrajNet++ scene to cut")
    sampler = TrajCVAE.load(args.model).sampler  # (checked before anything is written)
    if sampler is None or sampler.k != 20:
        raise TrajCVAEError(f"--model {args.model}: " + ("has no learned K-set sampler, which --kset learned needs "
                            "(kset.epochs = 0 or --draws 0 in its benchmark)" if sampler is None else
                            f"its learned K-set sampler makes {sampler.k} futures, and -k 20 --kset learned asks 20"))
    args.out.mkdir(parents=True, exist_ok=True)
    observed = np.zeros(len(tracks), bool)
    for r in records:
        observed |= tracks["frame"].between(r["s"], r["s"] + (OBSERVED - 1) * STEP).to_numpy()
    name = args.source.stem
    test, private = args.out / f"test_{name}.ndjson", args.out / f"test_private_{name}.ndjson"
    write_ndjson(test, tracks[observed], records)
    write_ndjson(private, tracks, records)
    print(f"{name}: {len(records)} scenes; {test}, {private}")
    for mode in (["-k", "20"], ["-k", "20", "--kset", "learned"], ["-k", "3", "--kset", "kmeans"],
                 ["-k", "1", "--kset", "kmeans"]):
        pred = args.out / f"pred_{name}_{'_'.join(mode[1:]).replace('--kset_', '')}.ndjson"
        trajcvae("predict", args.model, str(test), "--primary", "--out", str(pred), *mode, show=False)
        s = score(pred, tracks, records)
        trajcvae("evaluate", args.model, str(private), "--primary", "--calibration", "0", "--json",
                 str(args.out / "e.json"), *mode, show=False)
        e = json.loads((args.out / "e.json").read_text())["scenes"]["overall"]
        print(f"{' '.join(mode):20s} prediction 0 {s['ade']:.3f}/{s['fde']:.3f}  top-3 {s['top3_ade']:.3f}/"
              f"{s['top3_fde']:.3f}  min@K {s['min_ade']:.3f}/{s['min_fde']:.3f}  (evaluate --primary on the "
              f"private file: {e['min_ade']:.3f}/{e['min_fde']:.3f}, {int(e['windows'])} windows)", flush=True)


if __name__ == "__main__":
    from command_line import run
    run(main)
