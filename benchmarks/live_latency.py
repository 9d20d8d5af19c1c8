"""Load, latency and memory of `trajcvae serve`, on 127.0.0.1, bounded: it stops by itself.

    python benchmarks/live_latency.py                       # 10, 50, 200 agents; 300 requests each; 1 h memory
    python benchmarks/live_latency.py --requests 100 --memory-minutes 10 --json live.json
    python benchmarks/live_latency.py --calibrate scene --agents 10,50 --layouts rows --memory-minutes 0

Starts `python -m trajcvae serve pedestrian -k 20 --threads 1` (with `--calibrate`, if given) as a child
process on a free port, then:

1. **Latency and throughput**: for each agent count and answer layout (`?layout=rows`, one object per
   future position, the default; `agents`, one per agent with nested lists), one client posts `--requests`
   updates in a row (after 20 unmeasured ones) to a scene of its own: every agent walks its own straight line, one detection each
   per update, 0.4 s apart. Latency is the client's wall time per request (sending, inference, the answer's
   bytes received; its JSON is not parsed), throughput the requests (and agent updates) per second of that
   closed loop.
2. **Replay**: a recorded file (`--replay`, by default univ's students001 test file, up to 60-odd
   people at once) posted frame by frame to one scene, 0.4 s apart in the data: arrivals, departures and
   missed detections, as from a tracker; latency per update as above.
3. **Memory**: `--memory-minutes` of updates (0.4 s apart, sent with no waiting) of 20 agents walking
   circles, so the agent set is stable; the server's resident memory (VmRSS) is read at the start, at
   every tenth of the run and at the end, with each tenth's median latency: an update's cost grows with
   the history the scene memory reads, up to its horizon (1000 steps, 400 s), then stays.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's trajcvae, which the server runs too

from trajcvae.atomic import write_text  # noqa: E402
from trajcvae.config import check_calibrate, check_count, check_output, read_paths  # noqa: E402
from trajcvae.errors import TrajCVAEError, as_written  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """The process's resident memory (Linux's /proc; NaN elsewhere)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return float("nan")
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def lines(n: int, i: int) -> list[dict]:
    """n agents on straight lines at step i (0.4 s apart), 1.3 m/s, spread over a 20 m plaza."""
    a = np.arange(n)
    heading = 2 * np.pi * a / max(n, 1)
    x = (a % 10) * 2.0 + 1.3 * 0.4 * i * np.cos(heading)
    y = (a // 10) * 2.0 + 1.3 * 0.4 * i * np.sin(heading)
    return [{"agent_id": str(j), "x": float(x[j]), "y": float(y[j])} for j in range(n)]


def circles(n: int, i: int) -> list[dict]:
    """n agents walking circles of 4 m radius at 1.3 m/s: the same agents for ever."""
    a = np.arange(n)
    angle = 1.3 * 0.4 * i / 4.0 + 2 * np.pi * a / n
    x, y = (a % 5) * 10.0 + 4 * np.cos(angle), (a // 5) * 10.0 + 4 * np.sin(angle)
    return [{"agent_id": f"c{j}", "x": float(x[j]), "y": float(y[j])} for j in range(n)]


def latency(client: httpx.Client, agents: int, requests: int, layout: str = "rows", warmup: int = 20) -> dict:
    scene = f"load{agents}"
    times, server = [], {"predict": [], "json": []}
    start = time.perf_counter()
    for i in range(warmup + requests):
        if i == warmup:
            start = time.perf_counter()
        body = json.dumps({"time": 0.4 * i, "detections": lines(agents, i)})
        t = time.perf_counter()
        r = client.post(f"/v1/scenes/{scene}/observations?layout={layout}", content=body,
                        headers={"content-type": "application/json"})
        elapsed = time.perf_counter() - t
        r.raise_for_status()
        if i >= warmup:
            times.append(elapsed)
            for part in r.headers["server-timing"].split(", "):
                name, dur = part.split(";dur=")
                server[name].append(float(dur))
    wall = time.perf_counter() - start
    client.delete(f"/v1/scenes/{scene}")
    ms = np.array(times) * 1000
    return {"agents": agents, "layout": layout, "requests": requests, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max()), "requests_per_s": requests / wall,
            "server_predict_p50_ms": float(np.median(server["predict"])),
            "server_json_p50_ms": float(np.median(server["json"])),
            "agent_updates_per_s": requests * agents / wall, "answer_kib": len(r.content) / 1024}


def replay(client: httpx.Client, rows: np.ndarray, path: Path) -> dict:
    """Every frame of a recorded ETH/UCY file's `rows` (frame agent_id x y, 25 frame ids per second) posted in
    turn, with the detections of that frame, as a tracker would: agents arrive, leave and are missed."""
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    frames, first = np.unique(rows[:, 0], return_index=True)
    times, agents = [], []
    for f, now in zip(frames, np.split(rows, first[1:])):  # each frame's rows, in the file's order
        body = json.dumps({"time": float(f) / 25.0, "detections": [
            {"agent_id": str(int(a)), "x": float(x), "y": float(y)} for _, a, x, y in now]})
        t = time.perf_counter()
        r = client.post("/v1/scenes/replay/observations", content=body, headers={"content-type": "application/json"})
        times.append(time.perf_counter() - t)
        r.raise_for_status()
        agents.append(len(now))
    client.delete("/v1/scenes/replay")
    ms = np.array(times) * 1000
    return {"file": path.name, "updates": len(frames), "agents_mean": float(np.mean(agents)),
            "agents_max": int(np.max(agents)), "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max())}


def memory(client: httpx.Client, pid: int, minutes: float, agents: int = 20) -> dict:
    updates = int(minutes * 60 / 0.4)
    samples, latency_ms, times = [(0.0, rss_mib(pid))], [], []
    start = time.perf_counter()
    for i in range(updates):
        t = time.perf_counter()
        r = client.post("/v1/scenes/memory/observations", json={"time": 0.4 * i, "detections": circles(agents, i)})
        times.append(time.perf_counter() - t)
        r.raise_for_status()
        if (i + 1) % max(updates // 10, 1) == 0:
            samples.append((0.4 * (i + 1) / 60, rss_mib(pid)))
            latency_ms.append((0.4 * (i + 1) / 60, float(np.median(times) * 1000)))  # this tenth's median
            times = []
    return {"agents": agents, "updates": updates, "replayed_minutes": minutes,
            "wall_s": time.perf_counter() - start, "rss_mib": samples, "p50_ms": latency_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=as_written(int), default=300, help="measured requests per agent count")
    ap.add_argument("--agents", default="10,50,200")
    ap.add_argument("--layouts", default="rows,agents", help="the answers' layouts (?layout=), each measured")
    ap.add_argument("--k", type=as_written(int), default=20)
    ap.add_argument("--memory-minutes", type=as_written(float), default=60.0, help="replayed minutes (0: skip)")
    ap.add_argument("--replay", default=str(ROOT.parent / "shared/datasets/eth_ucy/univ/test/students001.txt"),
                    help="a recorded ETH/UCY file replayed frame by frame ('': skip)")
    ap.add_argument("--calibrate", default="none", help="the server's --calibrate (scene: draws fitted to each "
                    "scene's past, which the straight walkers and the replay build as they go)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    check_count(args.requests, "--requests")
    check_count(args.k, "--k")
    for n in args.agents.split(","):
        check_count(int(n) if n.strip().isdigit() else n, "--agents (comma-separated counts)")
    if not args.layouts or not set(args.layouts.split(",")) <= {"rows", "agents"}:
        raise TrajCVAEError(f"--layouts must be rows, agents or rows,agents (got {args.layouts!r})")
    if not (args.memory_minutes >= 0 and np.isfinite(args.memory_minutes)):
        raise TrajCVAEError(f"--memory-minutes must be a number of minutes >= 0 (got {args.memory_minutes:g})")
    check_calibrate(args.calibrate)
    if args.json is not None:  # before the hour of measuring, not after it
        check_output(args.json, "--json", inputs=read_paths(args.replay))
    from command_line import eth_ucy_table

    rows = eth_ucy_table(args.replay, "--replay").to_numpy() if args.replay else None  # read before any work
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    server = subprocess.Popen([sys.executable, "-m", "trajcvae", "serve", "pedestrian", "-k", str(args.k),
                               "--port", str(port), "--threads", "1", "--calibrate", args.calibrate],
                              env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(600):
                if server.poll() is not None:  # it refused something: its own line
                    lines = server.stderr.read().decode(errors="replace").strip().splitlines() or ["no reason given"]
                    raise TrajCVAEError(f"trajcvae serve: {lines[-1].removeprefix('error: ')}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise TrajCVAEError("trajcvae serve did not answer /healthz within a minute")
            result = {"k": args.k, "calibrate": args.calibrate, "cpus": os.cpu_count(),
                      "load_average": os.getloadavg(),
                      "latency": [latency(client, int(n), args.requests, layout) for n in args.agents.split(",")
                                  for layout in args.layouts.split(",")]}
            for row in result["latency"]:
                print(f"{row['agents']:4d} agents, {row['layout']:6s}: p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
                      f"{row['requests_per_s']:.1f} requests/s ({row['agent_updates_per_s']:.0f} agent updates/s), "
                      f"answer {row['answer_kib']:.0f} KiB; in the server (p50): predict "
                      f"{row['server_predict_p50_ms']:.1f} ms, "
                      f"answer JSON {row['server_json_p50_ms']:.1f} ms", flush=True)
            if args.replay:
                result["replay"] = r = replay(client, rows, Path(args.replay))
                print(f"replay of {r['file']}: {r['updates']} updates of {r['agents_mean']:.1f} agents on average "
                      f"(at most {r['agents_max']}): p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms", flush=True)
            if args.memory_minutes > 0:
                result["memory"] = memory(client, server.pid, args.memory_minutes)
                m = result["memory"]
                print(f"memory: {m['updates']} updates ({m['replayed_minutes']:g} min replayed in {m['wall_s']:.0f} s),"
                      " RSS MiB " + ", ".join(f"{t:.0f} min: {r:.0f}" for t, r in m["rss_mib"])
                      + "; p50 ms per tenth " + ", ".join(f"{t:.0f} min: {v:.0f}" for t, v in m["p50_ms"]))
            result["load_average_after"] = os.getloadavg()
    finally:
        server.terminate()
        server.wait(10)
    if args.json:
        write_text(args.json, json.dumps(result, indent=2))  # (its missing folders made)


if __name__ == "__main__":
    from command_line import run
    run(main)
