"""Your own tracks, nine ways: write one recorded ETH/UCY file as the kinds of data users bring, predict each
with the built-in pedestrian model, and draw the same crowd moment from each (the pictures of docs/your-data.md).

    python benchmarks/your_data.py --source ../shared/datasets/eth_ucy/zara1/test/crowds_zara01.txt \
        --out /tmp/your-data --gallery docs/gallery

The kinds: tracker output at 10 Hz with timestamps in seconds; frame ids of a 25 fps video (one row per
frame); image pixels with a homography; UTM coordinates; GPS longitudes and latitudes (made and read back
by Karney's geodesics, `geographiclib`, not by trajcvae's projection); a Stanford Drone Dataset annotations
file (boxes in pixels at 30 fps, with labels); a MOTChallenge ground-truth file (boxes in pixels of a camera
looking down at an angle, standing on the ground the homography maps, at the 30 fps of its seqinfo.ini); a
TrajNet++ ndjson file; a robot's log as `rostopic echo -p` writes it (columns of ROS's names, times in
nanoseconds since 1970, read with --columns). Each is made from the same tracks (interpolated
where it is sampled faster), so each prediction is printed with its largest distance, in metres, from the
prediction on the original file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from trajcvae import TrajCVAE
from trajcvae.errors import TrajCVAEError, as_written
from trajcvae.units import from_metres, to_metres

ETH_UCY = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "eth_ucy"  # beside the project, from any folder

# A homography of a camera looking down at an angle: pixels (u, v, 1) -> metres.
H = np.array([[0.021, 0.002, -3.0], [-0.001, 0.025, -1.5], [0.00002, 0.00001, 1.0]])
UTM = np.array([500_000.0, 5_000_000.0])
GPS = (47.3769, 8.5417)  # latitude, longitude of the source's (0, 0): Zurich
FPS = 25.0  # ETH/UCY frame ids: 10 per 0.4 s step
T0 = 1_700_000_000  # seconds since 1970 of the robot log's first stamp
ROS_COLUMNS = ("time_ns=%time,agent_id=field.child_frame_id,x=field.pose.pose.position.x,"  # nav_msgs/Odometry's
               "y=field.pose.pose.position.y")


def resampled(df: pd.DataFrame, hz: float) -> pd.DataFrame:
    """Each track linearly interpolated at `hz` samples per second: a `time` column in seconds."""
    parts = []
    for agent, g in df.groupby("agent_id"):
        t = g["frame"].to_numpy() / FPS
        ts = np.round(np.arange(t[0], t[-1] + 1e-9, 1.0 / hz), 6)
        parts.append(pd.DataFrame({"time": ts, "agent_id": agent, "x": np.interp(ts, t, g["x"]),
                                   "y": np.interp(ts, t, g["y"])}))
    return pd.concat(parts, ignore_index=True).sort_values(["time", "agent_id"]).reset_index(drop=True)


def gps_degrees(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points x metres east and y north of GPS, along geodesics of the WGS84 ellipsoid: (lon, lat)."""
    from geographiclib.geodesic import Geodesic

    p = [Geodesic.WGS84.Direct(*GPS, np.degrees(np.arctan2(e, n)), np.hypot(e, n)) for e, n in zip(x, y)]
    return np.array([q["lon2"] for q in p]), np.array([q["lat2"] for q in p])


def gps_metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The inverse of `gps_degrees`: (N, 2) metres east and north of GPS."""
    from geographiclib.geodesic import Geodesic

    p = [Geodesic.WGS84.Inverse(*GPS, la, lo) for lo, la in zip(lon, lat)]
    s, az = np.array([q["s12"] for q in p]), np.radians([q["azi1"] for q in p])
    return np.stack([s * np.sin(az), s * np.cos(az)], axis=1)


def floor(path: Path, size: tuple[int, int]) -> None:
    """What the homography's camera sees of the ground, as a stand-in for a video frame: 1 m squares of a
    chequered floor, each pixel coloured by the square its ground point falls in."""
    from PIL import Image

    u, v = np.meshgrid(np.arange(size[0], dtype=float), np.arange(size[1], dtype=float))
    xy = to_metres(np.stack([u.ravel(), v.ravel()], axis=1), {"homography": H.tolist()})
    light = ((np.floor(xy[:, 0]) + np.floor(xy[:, 1])) % 2 == 0).reshape(u.shape)
    Image.fromarray(np.where(light[..., None], [200, 196, 186], [150, 146, 138]).astype(np.uint8)).save(path)


def write_all(df: pd.DataFrame, out: Path) -> dict[str, tuple[Path, list[str], float]]:
    """The nine files; for each, its `predict` options and the seconds per unit of its time column."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    tracker = resampled(df, 10.0)
    tracker.round(3).to_csv(out / "tracker_10hz.csv", index=False)
    files["tracker"] = (out / "tracker_10hz.csv", [], 1.0)
    video = resampled(df, FPS)
    video.assign(frame=np.round(video.pop("time") * FPS).astype(int))[["frame", "agent_id", "x", "y"]] \
        .round(3).to_csv(out / "video_25fps.csv", index=False)
    files["video"] = (out / "video_25fps.csv", ["--fps", "25"], 1 / FPS)
    np.savetxt(out / "H.txt", H)
    uv = from_metres(tracker[["x", "y"]].to_numpy(), {"homography": H.tolist()})
    tracker.assign(x=uv[:, 0], y=uv[:, 1]).round(2).to_csv(out / "pixels_10hz.csv", index=False)
    files["pixels"] = (out / "pixels_10hz.csv", ["--homography", str(out / "H.txt")], 1.0)
    df.assign(x=df.x + UTM[0], y=df.y + UTM[1]).to_csv(out / "utm.csv", index=False)
    files["utm"] = (out / "utm.csv", [], 1 / FPS)
    lon, lat = gps_degrees(df.x.to_numpy(), df.y.to_numpy())
    df.drop(columns=["x", "y"]).assign(lon=lon, lat=lat).to_csv(out / "gps.csv", index=False, float_format="%.10f")
    files["gps"] = (out / "gps.csv", [], 1 / FPS)
    sdd = resampled(df, 30.0)
    px = 25.0  # pixels per metre of the drone's view
    rows = [f'{a} {x * px - 8:.2f} {y * px - 15:.2f} {x * px + 8:.2f} {y * px + 15:.2f} {round(t * 30)} 0 0 0 '
            f'"{"Pedestrian" if a % 5 else "Biker"}"' for t, a, x, y in sdd.itertuples(index=False)]
    (out / "sdd" / "zara" / "video0").mkdir(parents=True, exist_ok=True)
    (out / "sdd" / "zara" / "video0" / "annotations.txt").write_text("\n".join(rows) + "\n")
    files["sdd"] = (out / "sdd" / "zara" / "video0" / "annotations.txt",
                    ["--scale", str(1 / px), "--classes", "Pedestrian,Biker"], 1 / 30.0)
    mot = resampled(df, 30.0)
    feet = from_metres(mot[["x", "y"]].to_numpy(), {"homography": H.tolist()})  # each box stands on its agent
    rows = [f"{round(t * 30)},{a},{u - 10:.2f},{v - 50:.2f},20,50,1,1,1" for (t, a), (u, v)
            in zip(mot[["time", "agent_id"]].itertuples(index=False), feet)]
    (out / "mot" / "zara01" / "gt").mkdir(parents=True, exist_ok=True)
    (out / "mot" / "zara01" / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
    (out / "mot" / "zara01" / "seqinfo.ini").write_text("[Sequence]\nname=zara01\nframeRate=30\n")
    files["mot"] = (out / "mot" / "zara01" / "gt" / "gt.txt", ["--homography", str(out / "H.txt")], 1 / 30.0)
    floor(out / "mot" / "zara01" / "floor.png", (960, 600))
    with open(out / "trajnet.ndjson", "w") as f:
        f.write(json.dumps({"scene": {"id": 0, "p": int(df.agent_id.iloc[0]), "s": int(df.frame.min()),
                                      "e": int(df.frame.max()), "fps": 2.5, "tag": [1, []]}}) + "\n")
        for r in df.sort_values(["frame", "agent_id"]).itertuples(index=False):
            f.write(json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id), "x": float(r.x),
                                          "y": float(r.y)}}) + "\n")
    files["trajnet"] = (out / "trajnet.ndjson", [], 1 / FPS)
    ns = T0 * 10 ** 9 + np.round(tracker.time.to_numpy() * 10).astype(np.int64) * 100_000_000  # 10 Hz stamps
    pd.DataFrame({"%time": ns, "field.header.frame_id": "map", "field.child_frame_id": tracker.agent_id,
                  "field.pose.pose.position.x": tracker.x.round(3), "field.pose.pose.position.y": tracker.y.round(3),
                  "field.pose.pose.position.z": 0.0}).to_csv(out / "ros_log.csv", index=False)
    files["ros"] = (out / "ros_log.csv", ["--columns", ROS_COLUMNS], 1.0)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(ETH_UCY / "zara1" / "test" / "crowds_zara01.txt"),
                    help="the recorded ETH/UCY text file (frame agent_id x y) written nine ways (default: zara1's "
                    "test file, ../shared/datasets/eth_ucy/zara1/test/crowds_zara01.txt from the project's root)")
    ap.add_argument("--out", default="/tmp/trajcvae-your-data",
                    help="folder for the nine files and their predictions (default: /tmp/trajcvae-your-data)")
    ap.add_argument("--gallery", default=None, help="folder for the pictures (default: --out)")
    ap.add_argument("--until", type=as_written(float), default=3000, help="use the source's frames up to this one")
    ap.add_argument("--at", type=as_written(float), default=None, help="frame id (at 25 fps) of the crowd picture "
                    "(default: the frame with the most agents seen for 8 steps, 12 steps before --until)")
    a = ap.parse_args()
    from command_line import eth_ucy_table, trajcvae

    src = eth_ucy_table(a.source)
    if not np.isfinite(a.until):
        raise TrajCVAEError(f"--until must be a frame id (got {a.until:g})")
    src = src[src.frame <= a.until].reset_index(drop=True)
    if not len(src):
        raise TrajCVAEError(f"--until {a.until:.12g}: before every frame id of {a.source} (give a later one)")
    seen = src.groupby("agent_id").frame.transform("min")
    if a.at is None:
        ok = src[(src.frame - seen >= 70) & (src.frame <= a.until - 120)]
        if not len(ok):
            raise TrajCVAEError(f"--until {a.until:g}: no agent of {a.source} is seen for 8 steps by 12 steps before "
                                "it (give a later frame id)")
        a.at = float(ok.groupby("frame").size().idxmax())
    elif not src.frame.min() <= a.at <= src.frame.max():
        raise TrajCVAEError(f"--at {a.at:.12g}: outside the frame ids used, {src.frame.min():g} to {src.frame.max():g}")
    elif not ((abs(src.frame - a.at) <= 10) & (src.frame - seen >= 70)).any():
        raise TrajCVAEError(f"--at {a.at:.12g}: no agent of {a.source} is seen there for 8 steps (give a later frame "
                            "id)")
    out, gallery = Path(a.out), Path(a.gallery or a.out)
    files = write_all(src, out)
    model = TrajCVAE.load("pedestrian")
    ref = model.predict(src, k=20, seed=0)
    ref = ref.assign(t0=ref.t0 / FPS).set_index(["agent_id", "t0", "sample", "step"])[["x", "y"]]
    for name, (path, opts, spu) in files.items():
        cmd = [sys.executable, "-m", "trajcvae", "predict", "pedestrian", str(path), *opts, "-k", "20",
               "--out", str(out / f"{name}_pred.csv")]
        print("$", " ".join(cmd[2:]))
        trajcvae(*cmd[3:])
        pred = pd.read_csv(out / f"{name}_pred.csv")
        xy = gps_metres(pred.lon.to_numpy(), pred.lat.to_numpy()) if name == "gps" else pred[["x", "y"]].to_numpy()
        if "--homography" in opts:
            xy = to_metres(xy, {"homography": H.tolist()})
        elif "--scale" in opts:
            xy = xy * float(opts[opts.index("--scale") + 1])
        elif name == "utm":
            xy = xy - UTM
        t0 = pred.t0 - T0 if name == "ros" else pred.t0
        got = pd.DataFrame(xy, columns=["x", "y"]).set_index(
            pd.MultiIndex.from_arrays([pred.agent_id, np.round(t0 * spu, 6), pred["sample"], pred.step]))
        both = got.join(ref.add_suffix("_ref"), how="inner")
        gap = np.hypot(both.x - both.x_ref, both.y - both.y_ref)
        print(f"  {name}: {len(both) // 240} agents as on the original, largest difference {gap.max():.4f} m")
        at = a.at / FPS + (T0 if name == "ros" else 0) if spu == 1.0 else \
            a.at * (30 / FPS if name in ("sdd", "mot") else 1)
        pic = [sys.executable, "-m", "trajcvae", "visualize", "pedestrian", str(path), *opts,
               "--scene-frame", f"{at:.12g}", "--out", str(gallery / f"your-data-{name}.png"), "--size", "700x560"]
        print("$", " ".join(pic[2:]))
        trajcvae(*pic[3:])
        if name == "mot":  # the same moment over the camera's view, in its pixels
            pic = [*pic[:-4], "--background", str(path.parents[1] / "floor.png"), "--out",
                   str(gallery / "your-data-mot-frame.png")]
            print("$", " ".join(pic[2:]))
            trajcvae(*pic[3:])


if __name__ == "__main__":
    from command_line import run
    run(main)
