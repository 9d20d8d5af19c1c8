"""Pictures: every command writes a real image of the requested size and format, samples are drawn where
they are, and unknown scenes/agents/frames fail with one line naming the valid range."""

import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from trajcvae import TrajCVAE
from trajcvae.cli import app
from trajcvae.errors import TrajCVAEWarning
from trajcvae.plots import DPI, SAMPLE_COLOR, density_grid, density_points, draw_density, kernel_width, plot_windows
from trajcvae.tracks import read_tracks
from trajcvae.visualize import ModelFutures, SceneTracks, TableFutures, grid_windows, save_figure

runner = CliRunner()
RED = np.array([int(SAMPLE_COLOR[i:i + 2], 16) for i in (1, 3, 5)])


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def rgb(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=int)  # (H, W, 3)


def gif_frames(path) -> int:
    with Image.open(path) as im:
        return im.n_frames


def sample_pixels(img: np.ndarray) -> np.ndarray:
    """(row, col) of pixels drawn in exactly the sample colour (opaque endpoints; paths are translucent)."""
    return np.argwhere(np.abs(img - RED).max(-1) <= 6)


def ok_png(path, size=None) -> np.ndarray:
    assert path.stat().st_size > 1000
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert size is None or im.size == size, im.size
    return rgb(path)


@pytest.fixture(scope="module")
def test_csv(sim_files):
    return sim_files["test"]


@pytest.fixture(scope="module")
def preds(trained, test_csv, tmp_path_factory):
    """A predictions table from the CLI's own `predict --windows`."""
    out = tmp_path_factory.mktemp("preds") / "preds.csv"
    r = run("predict", trained, test_csv, "-k", 4, "--windows", "--out", out)
    assert r.exit_code == 0, r.output
    return out


def test_train_leaves_curves_and_val_predictions(trained):
    for name in ("curves.png", "val_predictions.png"):
        img = ok_png(trained.parent / name)
        assert (img < 250).any()  # something is drawn
    assert len(sample_pixels(rgb(trained.parent / "val_predictions.png"))) > 0


def test_samples_are_drawn_where_they_are(tmp_path):
    """Every endpoint has a sample-coloured pixel under it, and no sample-coloured pixel lies elsewhere."""
    rng = np.random.default_rng(0)
    obs = np.stack([np.linspace(-4, 0, 8), np.zeros(8)], -1)  # (T, 2)
    ends = rng.normal([6.0, 0.0], [1.0, 3.0], (5, 2))  # (K, 2)
    samples = np.linspace(0, 1, 12)[None, :, None] * ends[:, None, :]  # (K, P, 2) straight to the ends
    fig = plot_windows(obs[None], samples[None], cols=1, size=4)
    fig.canvas.draw()  # fixes the layout, so the transform below is the one saved
    px = fig.axes[0].transData.transform(ends)  # display pixels, origin bottom-left
    height = fig.get_size_inches()[1] * DPI
    rows_cols = np.stack([height - px[:, 1], px[:, 0]], -1)
    save_figure(fig, tmp_path / "w.png")
    red = sample_pixels(ok_png(tmp_path / "w.png", (400, 400)))
    assert len(red)
    dist = np.linalg.norm(red[:, None, :] - rows_cols[None], axis=-1)  # (pixels, K)
    assert (dist.min(0) <= 2.5).all()  # each endpoint is drawn
    assert (dist.min(1) <= 6).all()  # and nothing else in that colour


def test_a_grid_of_agents_with_long_ids_keeps_every_title_apart_and_whole():
    """Agent ids as long as a tracker's UUIDs: each window's title is broken onto lines that stay within its
    column, so neighbouring titles never run into each other nor off the figure, and the id is kept whole
    (one line, to copy into --agent)."""
    import matplotlib.pyplot as plt

    from trajcvae.visualize import _label

    ids = ["3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b", "0c9e4d2a-7b1f-4a3e-9d8c-5e6f7a8b9c0d", "7"]
    obs = np.stack([np.linspace(-4, 0, 8), np.zeros(8)], -1)[None].repeat(6, 0)  # (N, T, 2)
    samples = np.linspace(0, 1, 12)[None, None, :, None] * np.array([6.0, 1.0]) + np.zeros((6, 3, 1, 1))
    fut = samples[:, 0] + 0.5  # known futures: the minADE/minFDE line is in the titles too
    titles = [_label("tracker_output_2026-12-03", a, 1700000013.2) for a in ids * 2]
    fig = plot_windows(obs, samples, fut, titles=titles)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    width = fig.get_size_inches()[0] * DPI
    for i, box in enumerate(boxes):
        assert 0 <= box.x0 and box.x1 <= width, (titles[i], box)
        assert not [j for j, other in enumerate(boxes) if j != i and box.overlaps(other)], fig.axes[i].get_title()
    for ax, agent in zip(fig.axes, ids * 2):
        assert [line for line in ax.get_title().split("\n") if f"agent {agent}" in line], ax.get_title()
    plt.close(fig)
    # One window of an id longer than a line: its title, centred on the axes (right of the figure's centre,
    # past the y label), stays within the figure too.
    long_id = "pedestrian_with_a_very_long_identifier_" + "x" * 100
    fig = plot_windows(obs[:1], samples[:1], fut[:1], titles=[_label("s", long_id, 100.0)])
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent(fig.canvas.get_renderer())
    assert 0 <= box.x0 and box.x1 <= fig.get_size_inches()[0] * DPI, box
    plt.close(fig)


def test_a_crowds_kernel_is_half_scotts_width_of_its_widest_agents_futures():
    """`kernel_width`: over "final" steps, each agent's futures' last points (here 0, 9, 18 and 27 m along x:
    variances 101.25 and 0, so a spread of sqrt(101.25 / 2)), half Scott's width for 4 points in 2-D; over
    "all" steps, all 12 of its points; an agent with only two futures that reach anywhere spreads no kernel."""
    k, p = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")  # (K, P)
    walker = np.stack([3.0 * k * (p + 1), np.zeros_like(k, float)], -1)  # (K, P, 2): future k goes 3k m a step
    few = np.full((4, 3, 2), np.nan)
    few[:2] = [[[0.0, 0.0]] * 3, [[50.0, 0.0]] * 3]  # two futures 50 m apart, the others not finite
    samples = np.stack([walker, few])
    assert kernel_width(samples, "final") == pytest.approx(0.5 * np.sqrt(101.25 / 2) * 4 ** (-1 / 6))
    assert kernel_width(samples, "all") == pytest.approx(6.556969, rel=1e-6)
    assert kernel_width(samples[1:], "final") is None


def test_the_curves_are_scaled_to_the_epochs_after_the_first_where_there_are_more_than_three():
    """A CVAE's epoch 1 often sits far off the rest (100 against -5): with more than three epochs each panel
    is scaled to the later ones (the first point off its top), but where the first is the best epoch; with
    three, to all of them."""
    import matplotlib.pyplot as plt

    from trajcvae.plots import CURVE_COLUMNS, plot_curves
    metrics = pd.DataFrame({c: np.r_[100.0, np.linspace(-5, -6, 5)] for c in CURVE_COLUMNS}).assign(epoch=range(1, 7))
    fig = plot_curves(metrics)
    assert all(ax.get_ylim() == pytest.approx((-6.08, -4.92)) for ax in fig.axes)
    plt.close(fig)
    fig = plot_curves(metrics.iloc[:3])
    assert all(ax.get_ylim()[1] > 100 for ax in fig.axes)
    plt.close(fig)
    fig = plot_curves(metrics, best=1)  # the best epoch the first (a short KL anneal): its point stays in view
    assert [ax.get_ylim()[1] > 100 for ax in fig.axes] == [False, False, False, True]  # where best.pt is picked
    plt.close(fig)


def test_a_long_title_breaks_after_a_hyphen_keeping_it_and_an_image_lies_top_row_up():
    """`fit_title` breaks a UUID too wide for a line after one of its hyphens, which stays at the line's end
    (no character is lost); `_draw_image` puts an image's pixel (0, 0) at the top left, where `_image_axes`
    has v = 0 (v downwards): its top row is at v = 0, its bottom row at v = 1."""
    import matplotlib.pyplot as plt

    from trajcvae.plots import _draw_image, _image_axes, fit_title
    assert fit_title("run 3f2b9c1e-7d4a-4b8e-9f6c-2a1d5e8b7c3f", 100) == "run\n3f2b9c1e-7d4a-4b8e-\n9f6c-2a1d5e8b7c3f"
    fig, ax = plt.subplots()
    image = np.zeros((2, 4), np.uint8)
    image[0] = 255  # its top row white
    _draw_image(ax, image, (4, 2))
    _image_axes(ax, (4, 2))
    fig.canvas.draw()

    def value_at(u: float, v: float):  # the image's value under a pointer at pixel (u, v)
        x, y = ax.transData.transform((u, v))
        event = type("Event", (), {"x": x, "y": y, "inaxes": ax, "xdata": u, "ydata": v})()
        return ax.images[0].get_cursor_data(event)

    assert (value_at(1, 0), value_at(1, 1)) == (255, 0)
    plt.close(fig)


def test_density_shows_two_modes():
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.normal([5, 3], 0.4, (40, 2)), rng.normal([5, -3], 0.4, (40, 2))])  # (M, 2)
    X, Y, Z = density_grid(pts)
    at = lambda x, y: Z[np.abs(Y[:, 0] - y).argmin(), np.abs(X[0] - x).argmin()]  # noqa: E731
    assert at(5, 3) > 5 * at(5, 0) and at(5, -3) > 5 * at(5, 0)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert draw_density(ax, np.zeros((30, 2)))  # a standing agent: singular KDE, histogram fallback
    assert not draw_density(ax, np.zeros((2, 2)))
    plt.close(fig)


def test_the_density_leaves_the_background_white_where_nothing_is_predicted():
    """Its lowest level is above zero: only where futures go is shaded, elsewhere the picture stays white."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 3), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    pts = np.random.default_rng(1).normal([5, 3], 0.4, (40, 2))
    assert draw_density(ax, pts)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)  # (H, W, 3), row 0 at the top
    h = img.shape[0]

    def at(x, y):  # the pixel at data coordinates (x, y)
        u, v = ax.transData.transform((x, y))
        return img[h - 1 - int(v), int(u)]

    assert (at(5, 3) < 250).any()  # the mode is shaded
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert at(x0 + 0.02 * (x1 - x0), y0 + 0.02 * (y1 - y0)).tolist() == [255, 255, 255]  # a corner far from it


def test_a_crowd_views_density_stays_on_each_agents_futures_in_a_scene_a_kilometre_wide():
    """Thirty agents spread over 1 km, each with futures a few metres long: the density is shaded where
    they go, not over blobs tens of metres wide sized by the whole scene; a scene of walkers and waiting
    agents 20 m apart is drawn as before."""
    rng = np.random.default_rng(2)

    def scene(extent: float) -> np.ndarray:  # (N, K, P, 2) futures fanning out from each agent's place
        start = rng.uniform(-extent / 2, extent / 2, (30, 1, 1, 2))
        heading = rng.normal([1.2, 0.0], 0.3, (30, 20, 1, 2))
        return start + heading * np.arange(1, 13)[None, None, :, None] * 0.4

    wide = scene(1000.0)
    X, Y, Z = density_grid(*density_points(wide, "all"), width=kernel_width(wide, "all"))
    shaded = np.c_[X[Z >= 0.04 * Z.max()], Y[Z >= 0.04 * Z.max()]]
    from scipy.spatial import cKDTree
    assert cKDTree(wide.reshape(-1, 2)).query(shaded)[0].max() < 3.0  # metres from a predicted point
    near = scene(20.0)
    near[8:] = near[8:, :, :1] + rng.normal(0, 0.01, near[8:].shape)  # and 22 waiting agents, futures tight
    plain, given = density_grid(near.reshape(-1, 2)), density_grid(near.reshape(-1, 2), width=kernel_width(near, "all"))
    assert all(np.array_equal(a, b) for a, b in zip(plain, given))


def test_a_k_set_s_density_is_weighted_by_its_weights():
    """A future of weight 0.9 and nine of 0.011 each: the density is where the weight is, not one blob per
    future (their line widths say the same)."""
    ends = np.array([[5.0, 3.0]] + [[4.6 + 0.1 * i, -3.0 + 0.05 * i] for i in range(9)])  # (K, 2)
    samples = np.repeat(ends[:, None], 12, axis=1) * np.linspace(0.1, 1, 12)[None, :, None]  # (K, P, 2)
    weights = np.array([0.9] + [0.1 / 9] * 9)
    for steps in ("final", "all"):
        pts, w = density_points(samples, steps, weights)
        assert len(w) == len(pts) and np.isclose(w.sum(), 1 if steps == "final" else 12)
    X, Y, Z = density_grid(*density_points(samples, "final", weights))
    at = lambda x, y: Z[np.abs(Y[:, 0] - y).argmin(), np.abs(X[0] - x).argmin()]  # noqa: E731
    assert at(5, 3) > 3 * at(5, -2.8)
    X, Y, Z = density_grid(density_points(samples, "final")[0])  # unweighted: the nine make the heavier mode
    assert at(5, 3) < at(5, -2.8)


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_visualize_one_agent_formats(tmp_path, trained, test_csv, suffix, magic):
    out = tmp_path / f"one{suffix}"
    r = run("visualize", trained, test_csv, "--out", out, "-k", 5, "--density", "--size", "640x480")
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(magic)
    if suffix == ".png":
        assert len(sample_pixels(ok_png(out, (640, 480)))) > 3
    elif suffix == ".svg":  # 640 x 480 px at 100 dpi = 460.8 x 345.6 pt
        assert b'width="460.8pt" height="345.6pt"' in out.read_bytes()
    else:
        assert b"/MediaBox [ 0 0 460.8 345.6 ]" in out.read_bytes() and b"CreationDate" not in out.read_bytes()
    assert not list(tmp_path.glob(".*tmp*"))  # no temp file left behind
    again = tmp_path / f"again{suffix}"  # the same picture, the same bytes (an SVG's ids too)
    assert run("visualize", trained, test_csv, "--out", again, "-k", 5, "--density", "--size", "640x480").exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_python_draws_the_picture_of_the_cli_from_a_loaded_model_and_a_size_as_a_pair(trained, test_csv, tmp_path):
    from trajcvae import TrajCVAE
    from trajcvae.visualize import visualize

    run("visualize", trained, test_csv, "--out", tmp_path / "cli.png", "-k", 5, "--grid", 2, "--size", "640x480")
    model = TrajCVAE.load(trained)
    got = visualize(model, [test_csv], tmp_path / "api.png", k=5, grid=2, size=(640, 480))
    assert got == tmp_path / "api.png"
    ok_png(got, (640, 480))
    assert got.read_bytes() == (tmp_path / "cli.png").read_bytes()
    assert model.config.data.max_gap == 0.8  # a max_gap of its own leaves the caller's model as it was
    visualize(model, [test_csv], tmp_path / "gap.png", k=5, max_gap=1.2, fps=25)
    assert model.config.data.max_gap == 0.8
    # density=True is the CLI's --density alone: all steps shaded.
    run("visualize", trained, test_csv, "--out", tmp_path / "d.png", "-k", 5, "--density", "--size", "320x240")
    shaded = visualize(model, [test_csv], tmp_path / "api_d.png", k=5, density=True, size=(320, 240))
    assert shaded.read_bytes() == (tmp_path / "d.png").read_bytes()


def test_python_takes_a_loaded_model_and_the_predictions_dataframe_where_the_cli_takes_their_files(
        trained, test_csv, tmp_path):
    """predict_to_file takes a loaded model as visualize and evaluate do (a device other than its own is
    refused); visualize draws the DataFrame model.predict returns as it draws that table's file."""
    from trajcvae import TrajCVAE
    from trajcvae.errors import TrajCVAEError
    from trajcvae.predict import predict_to_file
    from trajcvae.visualize import visualize

    model = TrajCVAE.load(trained)
    predict_to_file(trained, [test_csv], tmp_path / "named.csv", k=3, log=[].append)
    predict_to_file(model, [test_csv], tmp_path / "loaded.csv", k=3, log=[].append)
    assert (tmp_path / "named.csv").read_bytes() == (tmp_path / "loaded.csv").read_bytes()
    with pytest.raises(TrajCVAEError, match="^device='cuda': "):  # (no CUDA here, or the model is on the CPU)
        predict_to_file(model, [test_csv], tmp_path / "x.csv", device="cuda")

    table = model.predict([test_csv], k=3)
    table.to_csv(tmp_path / "table.csv", index=False)
    for given, out in ((table, "frame.png"), (tmp_path / "table.csv", "file.png")):
        visualize(given, [test_csv], tmp_path / out, grid=2)
    assert (tmp_path / "frame.png").read_bytes() == (tmp_path / "file.png").read_bytes()
    with pytest.raises(TrajCVAEError, match=r"^model \(a DataFrame\): not a predictions file .*\(missing column\(s\) "
                                            r"step\)$"):
        visualize(table.drop(columns="step"), [test_csv], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.csv").exists()
    # The lines the CLI prints come to Python as warnings, worded with its names: a table and tracks in
    # centimetres drawn as metres, and windows too early in their scene for calibrate="scene".
    pd.read_csv(test_csv).pipe(lambda d: d.assign(x=d.x * 100, y=d.y * 100)).to_csv(tmp_path / "cm.csv", index=False)
    with pytest.warns(TrajCVAEWarning, match="median speed of the tracks is .* m/s"):
        visualize(table.assign(x=table.x * 100, y=table.y * 100), [tmp_path / "cm.csv"], tmp_path / "cm.png", grid=2)
    with pytest.warns(TrajCVAEWarning, match="^calibrate='scene': .* windows had fewer than"):
        visualize(model, [test_csv], tmp_path / "fit.png", k=3, grid=2, calibrate="scene")


def test_an_agents_picture_reads_its_neighbours_and_scene_memory_as_predict_does(trained, test_csv):
    """visualize --agent draws the agent's windows as `predict --every-window` makes them, among its scene's
    other agents (it built them from the agent's own track alone: no neighbours, no scene memory), on frame
    ids of no rate and resampled at a rate alike."""
    from trajcvae.visualize import pool

    predictor = TrajCVAE.load(trained)
    for fps in (None, 25):
        tracks = predictor.read([test_csv], fps=fps)
        every = predictor.make_windows(tracks, every_window=True)
        agent = every.agent_id[len(every) // 2]
        w = pool(SceneTracks(tracks, dt=0.4, max_gap=0.8), ModelFutures(predictor, 3, 0), None, str(agent)).windows
        mine = np.flatnonzero(every.agent_id == agent)
        assert len(w) == len(mine) > 0 and np.isfinite(w.nbr).any(), fps
        for field in ("obs", "nbr", "mem", "fut"):
            np.testing.assert_array_equal(getattr(w, field), getattr(every, field)[mine], err_msg=f"{field} {fps}")


def test_worst_grid_picks_the_largest_errors(trained, test_csv, tmp_path, monkeypatch):
    """--worst ranks every window by the minADE of the draws one call gives, drawn a piece at a time and
    keeping only the ranked windows' futures (every window's at once would not fit a big input's memory)."""
    from trajcvae import predict as predict_module
    from trajcvae.metrics import min_ade_fde

    predictor = TrajCVAE.load(trained)
    tracks = SceneTracks(read_tracks([test_csv]))
    every = predictor.make_windows([test_csv], every_window=True)
    drawn = predictor.sample(every, k=6, seed=0)  # one call
    ade, _ = min_ade_fde(drawn, every.fut)
    top = np.argsort(-ade, kind="stable")[:3]
    monkeypatch.setattr(predict_module, "SAMPLE_BLOCK", 64)  # pieces of 64 windows (6 here): the same draws and ranks
    w, samples, _, heading = grid_windows(tracks, ModelFutures(predictor, 6, 0), None, 3, worst=True)
    assert len(every) > 100 and list(w.t0) == list(every.t0[top]) and list(w.agent_id) == list(every.agent_id[top])
    assert samples.shape == (3, 6, 12, 2) and "3 worst" in heading
    np.testing.assert_array_equal(samples, drawn[top])

    out = tmp_path / "grid.png"
    r = run("visualize", trained, test_csv, "--grid", 4, "--best", "-k", 4, "--out", out)
    assert r.exit_code == 0, r.output
    assert len(sample_pixels(ok_png(out))) > 10
    r = run("visualize", trained, test_csv, "--grid", 2, "--seed", 3, "-k", 4, "--out", out, "--size", "500x300")
    assert r.exit_code == 0, r.output
    ok_png(out, (500, 300))


def test_a_plain_grid_spreads_its_windows_over_the_data_and_a_seeded_one_never_repeats_one(trained, test_csv):
    """--grid without --seed/--worst/--best: the first, middle and last window of the data for 3 panels, not its
    first 3; with --seed, n different windows."""
    predictor = TrajCVAE.load(trained)
    tracks = SceneTracks(read_tracks([test_csv]))
    every = predictor.make_windows([test_csv], every_window=True)
    w, samples, _, heading = grid_windows(tracks, ModelFutures(predictor, 2, 0), None, 3)
    spread = [0, int(np.round((len(every) - 1) / 2)), len(every) - 1]
    assert list(w.t0) == list(every.t0[spread]) and list(w.agent_id) == list(every.agent_id[spread])
    assert heading == f"3 windows spread over {len(every)}, 2 futures each" and samples.shape[:2] == (3, 2)
    w, _, _, _ = grid_windows(tracks, ModelFutures(predictor, 2, 0), None, len(every), seed=5)  # all of them
    assert len(set(zip(w.scene, w.agent_id, w.t0))) == len(w) == len(every)


def test_pictures_leave_the_callers_matplotlib_backend_and_pyplot_alone(trained, test_csv, tmp_path):
    """A notebook's backend stays its own after train, visualize and an animation: the library draws on
    Figures of its own, never through pyplot (in a fresh process, where no test has chosen a backend)."""
    import subprocess
    import sys

    script = f"""
import sys, matplotlib
matplotlib.use("pdf")
from trajcvae.visualize import visualize
visualize({str(trained)!r}, [{str(test_csv)!r}], {str(tmp_path / 'a.png')!r}, k=3)
visualize({str(trained)!r}, [{str(test_csv)!r}], k=2, animate={str(tmp_path / 'a.gif')!r}, frames=2)
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.split() == ["pdf", "False"], r.stdout + r.stderr
    ok_png(tmp_path / "a.png")
    assert gif_frames(tmp_path / "a.gif") == 2


def test_scene_frame_and_animation(trained, test_csv, tmp_path):
    df = pd.read_csv(test_csv)
    frame = int(df.groupby("frame").size().idxmax())  # the busiest frame
    out = tmp_path / "crowd.png"
    r = run("visualize", trained, test_csv, "--scene-frame", frame, "-k", 3, "--out", out, "--density",
            "--density-steps", "final", "--size", "600x600")
    assert r.exit_code == 0, r.output
    assert len(sample_pixels(ok_png(out, (600, 600)))) > 10

    gif = tmp_path / "scene.gif"
    r = run("visualize", trained, test_csv, "--animate", gif, "--frames", 3, "-k", 2, "--size", "300x240")
    assert r.exit_code == 0, r.output
    with Image.open(gif) as im:  # 0.4 s steps at 1.6 times real time: 4 frames a second
        assert im.format == "GIF" and im.size == (300, 240) and im.n_frames == 3 and im.info["duration"] == 250


def test_the_default_picture_is_the_first_scenes_first_window_and_builds_no_other_scene(trained, sim_files, tmp_path,
                                                                                        monkeypatch):
    """Without --scene, --agent, --t0 or --seed, visualize draws the first window with a known future; it
    builds the windows of the scenes up to it only (of 200 scenes, it built all to draw one)."""
    from trajcvae import visualize
    table = pd.concat([pd.read_csv(sim_files[part]) for part in ("val", "test")])  # scenes val0, test0
    table.to_csv(tmp_path / "two.csv", index=False)
    built = []
    real = visualize.build_windows
    monkeypatch.setattr(visualize, "build_windows", lambda df, *a, **k: built.append(set(df["scene"])) or real(
        df, *a, **k))
    r = run("visualize", trained, tmp_path / "two.csv", "--out", tmp_path / "default.png")
    assert r.exit_code == 0 and built == [{"test0"}], (r.output, built)
    r = run("visualize", trained, tmp_path / "two.csv", "--scene", "test0", "--out", tmp_path / "scene.png")
    assert r.exit_code == 0 and np.array_equal(rgb(tmp_path / "default.png"), rgb(tmp_path / "scene.png"))
    # A scene of no window (each agent seen once), first by name, is passed over.
    once = pd.read_csv(sim_files["val"]).drop_duplicates("agent_id").assign(scene="a_once")
    pd.concat([once, table]).to_csv(tmp_path / "three.csv", index=False)
    r = run("visualize", trained, tmp_path / "three.csv", "--out", tmp_path / "passed.png")
    assert r.exit_code == 0 and np.array_equal(rgb(tmp_path / "passed.png"), rgb(tmp_path / "scene.png")), r.output


def test_a_seeded_picture_of_an_agent_picks_among_its_windows_whose_true_future_is_known(test_csv, preds):
    """--agent --seed without --t0: a random window of the agent, one whose true future the data hold (of a
    table whose later windows run past the agent's last observation, its first, whatever the seed)."""
    from trajcvae.visualize import one_window
    table = pd.read_csv(preds)
    agent = table.groupby("agent_id")["t0"].nunique().idxmax()
    first = table.loc[table["agent_id"] == agent, "t0"].min()
    tracks = pd.read_csv(test_csv)
    tracks = tracks[(tracks["agent_id"] != agent) | (tracks["frame"] <= first + 12 * 10)]  # later futures unknown
    tracks, futures = SceneTracks(read_tracks(tracks)), TableFutures(table)
    picked = {float(one_window(tracks, futures, None, str(agent), None, seed).t0[0]) for seed in range(6)}
    assert picked == {first}


def test_an_agents_drawn_history_is_its_gap_free_run_up_to_the_frame():
    """SceneTracks.history: of a track that misses frames 30 and 70, the positions at 80..120 (after its last
    gap), not those since its first gap."""
    frames = [f for f in range(0, 130, 10) if f not in (30, 70)]
    tracks = SceneTracks(read_tracks(pd.DataFrame({"frame": frames, "agent_id": 1, "x": [f / 10 for f in frames],
                                                   "y": 0.0})))
    scene = tracks.scenes[0]
    np.testing.assert_array_equal(tracks.history(scene, tracks.agent(None, "1")[1], 120, 0)[:, 0],
                                  [8.0, 9.0, 10.0, 11.0, 12.0])


def test_a_windows_true_future_is_the_agents_next_p_positions_after_t0(test_csv):
    """SceneTracks.truth (what --worst/--best and the crowd view score against): the agent's positions at t0 + 1
    .. t0 + P steps, not from t0 itself; NaN past its track."""
    table = pd.read_csv(test_csv)
    agent = table["agent_id"].value_counts().idxmax()
    own = table[table["agent_id"] == agent].set_index("frame")
    tracks = SceneTracks(read_tracks(table))
    scene = tracks.scenes[0]
    t0 = own.index[3]
    fut = tracks.truth([scene], [agent], [t0], [tracks.step[scene]], 12)[0]
    np.testing.assert_array_equal(fut, own.loc[t0 + 10:t0 + 120, ["x", "y"]].to_numpy())
    last = tracks.truth([scene], [agent], [own.index[-2]], [tracks.step[scene]], 12)[0]
    assert np.isfinite(last[0]).all() and np.isnan(last[1:]).all()


def test_predictions_file_is_drawn(trained, test_csv, preds, tmp_path):
    table = TableFutures(pd.read_csv(preds))
    predictor = TrajCVAE.load(trained)
    w = predictor.make_windows([test_csv], every_window=True).subset(np.arange(5))
    assert table.available(w).all() and table.k == 4
    np.testing.assert_allclose(table.draw(w)[0], predictor.sample(w, k=4), atol=1e-3)  # CSV keeps 4 decimals

    for extra in ([], ["--grid", 3, "--worst"]):
        out = tmp_path / "p.png"
        r = run("visualize", preds, test_csv, "--out", out, *extra)
        assert r.exit_code == 0, r.output
        assert len(sample_pixels(ok_png(out))) > 3
    bad = tmp_path / "notpreds.csv"
    bad.write_text("scene,agent_id,x,y\ns,1,0,0\n")
    r = run("visualize", bad, test_csv)
    assert r.exit_code == 1 and "missing column(s) t0, sample, step, frame" in r.output



def _halfway_frames(test_csv, path):
    """The test tracks with a frame id halfway between each two (frame ids 5 apart: 0.2 s at 25 fps), so one
    model step is two of their frame differences."""
    rows = []
    for a, g in pd.read_csv(test_csv).groupby("agent_id"):
        f = np.arange(g.frame.min(), g.frame.max() + 1, 5)
        rows.append(pd.DataFrame({"scene": g.scene.iloc[0], "frame": f, "agent_id": a,
                                  "x": np.interp(f, g.frame, g.x), "y": np.interp(f, g.frame, g.y)}))
    pd.concat(rows).sort_values(["frame", "agent_id"]).to_csv(path, index=False)
    return path


def test_a_table_predicted_at_a_rate_is_scored_on_the_truth_evaluate_reads(trained, test_csv, tmp_path, monkeypatch):
    """A table `predict --fps` wrote from frame ids that move less than a model step at a time holds futures
    (frame - t0) / step frame ids apart: visualize reads the tracks' truth and histories at that step without
    --fps, so its grid heading scores the minADE `evaluate --fps` gives; a step no whole number of the tracks'
    frame differences is one line naming --fps."""
    import json

    import trajcvae.visualize as V

    data = _halfway_frames(test_csv, tmp_path / "halfway.csv")
    table = tmp_path / "p.csv"
    r = run("predict", trained, data, "--fps", 25, "-k", 3, "--every-window", "--out", table)
    assert r.exit_code == 0, r.output
    p = pd.read_csv(table)
    assert ((p.frame - p.t0) / p.step == 10).all()  # one step: two frame differences of the tracks
    scores = tmp_path / "e.json"
    r = run("evaluate", trained, data, "--fps", 25, "-k", 3, "--calibration", 0, "--json", scores)
    assert r.exit_code == 0, r.output
    overall = json.loads(scores.read_text())["scenes"]["overall"]
    headings = []
    real = V.plot_windows
    monkeypatch.setattr(V, "plot_windows", lambda *a, **k: headings.append(k.get("suptitle")) or real(*a, **k))
    V.visualize(table, [data], out=tmp_path / "g.png", grid=3, worst=True)
    assert f"of {overall['windows']} windows by minADE@3 (mean over all {overall['min_ade']:.2f} m)" in headings[-1]
    # Frame ids 4 apart: a step of 10 is no whole number of them.
    fours = tmp_path / "fours.csv"
    pd.read_csv(data).assign(frame=lambda d: d.frame // 5 * 4).to_csv(fours, index=False)
    _one_line_error(run("visualize", table, fours, "--out", tmp_path / "x.png"),
                    "its futures are 10 frame ids apart", "moves 4 frame ids at a time", "give --fps")


def test_a_table_drawn_over_tracks_in_other_units_without_their_scale_is_warned_of(test_csv, preds, tmp_path):
    """A table keeps no units: predicted from centimetres with --scale 0.01, its futures are in centimetres as
    the tracks are, so drawn without --scale both read as metres 100 times too fast, consistently; the
    tracks are judged against people walking and the warning names --scale."""
    cm_tracks, cm_table = tmp_path / "cm.csv", tmp_path / "cm_preds.csv"
    pd.read_csv(test_csv).assign(x=lambda d: d.x * 100, y=lambda d: d.y * 100).to_csv(cm_tracks, index=False)
    pd.read_csv(preds).assign(x=lambda d: d.x * 100, y=lambda d: d.y * 100).to_csv(cm_table, index=False)
    r = run("visualize", cm_table, cm_tracks, "--out", tmp_path / "a.png")
    assert r.exit_code == 0 and "warning: the median speed" in r.output and "--scale" in r.output, r.output
    r = run("visualize", cm_table, cm_tracks, "--scale", 0.01, "--out", tmp_path / "b.png")
    assert r.exit_code == 0 and "warning" not in r.output, r.output


def test_a_table_over_another_recordings_tracks_is_refused_and_a_few_moved_tracks_are_warned_of(test_csv, preds,
                                                                                                tmp_path, monkeypatch):
    """A table records nothing of its source: over another recording of the same names, ids and frames (every
    position 5 m off), its futures would be drawn and scored against the wrong agents. They start 5 m from
    their agents' positions at t0, where a step goes well under a metre: refused, naming the fix. One agent's
    track moved: its windows are warned of; the tracks predicted from: nothing to say."""
    tracks = pd.read_csv(test_csv)
    day2 = tmp_path / "day2" / test_csv.name  # (the same scene name: the file's stem)
    day2.parent.mkdir()
    tracks.assign(x=tracks.x + 5).to_csv(day2, index=False)
    for picture in (("--grid", 4, "--worst"), (), ("--scene-frame", pd.read_csv(preds)["t0"].iloc[0])):
        _one_line_error(run("visualize", preds, day2, *picture, "--out", tmp_path / "a.png"),
                        f"the futures in MODEL {preds} start ", "position", "at t0 in DATA",
                        "they were predicted from other tracks, or from these shifted in time; give the tracks the "
                        "predictions were made from")
    assert not (tmp_path / "a.png").exists()
    monkeypatch.setattr("trajcvae.visualize.JUDGED", 10)  # a big table: windows spread over it are judged
    _one_line_error(run("visualize", preds, day2, "--out", tmp_path / "a.png"), "(10 of the 10 windows judged over 4")
    monkeypatch.undo()
    # The same recording a step or two earlier or later (frame ids re-based): each window may pass, but not the
    # table, whose moving agents' futures start about 0, -1, 2 or 3 steps of their pace ahead of them, not 1.
    for shift in (-10, -20, 10, 20):
        tracks.assign(frame=tracks.frame + shift).to_csv(day2, index=False)
        r = run("visualize", preds, day2, "--grid", 4, "--worst", "--out", tmp_path / "a.png")
        ahead = re.search(r"start (-?[\d.]+) steps of their agent's pace ahead of its position at t0 in DATA \(the "
                          r"median over \d+ windows of steady walkers\), where futures predicted from these tracks "
                          r"start about one step ahead \(0.4-1.6\)", r.output)
        assert r.exit_code == 1 and ahead and abs(float(ahead[1]) - (1 + shift / 10)) < 0.4, (shift, r.output)
    # Noisy positions (1 m, GPS-like) blur each step's heading, not an agent's pace over four: no refusal.
    noisy, table = tmp_path / "noisy.csv", tmp_path / "noisy_preds.csv"
    rng = np.random.default_rng(0)
    tracks.assign(x=tracks.x + rng.normal(0, 1.0, len(tracks)), y=tracks.y + rng.normal(0, 1.0, len(tracks))).to_csv(
        noisy, index=False)
    assert run("predict", "pedestrian", noisy, "--every-window", "-k", 4, "--out", table).exit_code == 0
    r = run("visualize", table, noisy, "--grid", 2, "--out", tmp_path / "n.png")
    assert r.exit_code == 0 and "predictions were made from" not in r.output, r.output
    # A crowd standing with jittered positions beside walkers braking to a stop at t0: their futures rightly
    # start elsewhere along their mean pace; only steady walkers are judged by it.
    rng, rows = np.random.default_rng(1), []
    for a in range(70):
        x, y = ((2.0 * (a % 8) + rng.normal(0, 0.03, 20), 2.0 * (a // 8) + rng.normal(0, 0.03, 20)) if a < 40 else
                (np.cumsum([0.5] * 16 + [0.4, 0.25, 0.1, 0.05]), np.full(20, 30.0 + 2 * a)))
        rows += [(10 * f, a, x[f], y[f]) for f in range(20)]
    crowd = tmp_path / "crowd.csv"
    pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"]).to_csv(crowd, index=False)
    assert run("predict", "pedestrian", crowd, "-k", 4, "--out", table).exit_code == 0
    r = run("visualize", table, crowd, "--grid", 2, "--out", tmp_path / "c.png")
    assert r.exit_code == 0 and "predictions were made from" not in r.output, r.output
    monkeypatch.setattr("trajcvae.visualize.AHEAD", (-10, 10))  # without that rule: the median start's
    tracks.assign(frame=tracks.frame + 20).to_csv(day2, index=False)
    _one_line_error(run("visualize", preds, day2, "--grid", 4, "--worst", "--out", tmp_path / "a.png"),
                    f"the futures in MODEL {preds} start a median", "steps of their agents' motion from their "
                    "positions at t0 in DATA, where futures predicted from these tracks start about one")
    monkeypatch.undo()
    agent = pd.read_csv(preds)["agent_id"].iloc[0]
    moved = tracks.x + 5 * (tracks.agent_id == agent)
    tracks.assign(x=moved).to_csv(day2, index=False)
    r = run("visualize", preds, day2, "--grid", 4, "--worst", "--out", tmp_path / "b.png")
    assert r.exit_code == 0 and f"(agent {agent} in scene" in r.output and ("are these the tracks the predictions "
                                                                            "were made from?") in r.output, r.output
    r = run("visualize", preds, test_csv, "--grid", 4, "--worst", "--out", tmp_path / "c.png")
    assert r.exit_code == 0 and "warning" not in r.output, r.output


def test_a_table_over_tracks_of_another_time_base_or_sampled_sparser_than_bridged_names_the_fix(test_csv, preds,
                                                                                               tmp_path):
    """A table timed in frame ids drawn over the same tracks with a time column (its t0 read as seconds) is
    refused; a table predicted with --max-gap from tracks sampled every 2 s, drawn without it, names --max-gap."""
    timed = pd.read_csv(test_csv).assign(time=lambda d: d.frame / 25).drop(columns="frame")
    timed.to_csv(tmp_path / "timed.csv", index=False)
    _one_line_error(run("visualize", preds, tmp_path / "timed.csv", "--out", tmp_path / "a.png"),
                    "its futures are timed in frame ids but the tracks are read by their time column")
    sparse = tmp_path / "sparse" / "timed.csv"
    sparse.parent.mkdir()
    timed[timed.time % 1 == 0].to_csv(sparse, index=False)
    table = tmp_path / "sparse_preds.csv"
    r = run("predict", "pedestrian", sparse, "--max-gap", 3, "--every-window", "-k", 2, "--out", table)
    assert r.exit_code == 0, r.output
    for ranked in ((), ("--worst",)):
        _one_line_error(run("visualize", table, sparse, "--grid", 2, *ranked, "--out", tmp_path / "b.png"),
                        "its samples are 2 s apart (median), longer than the 0.8 s gap bridged here; give --max-gap 3")
    latest = tmp_path / "latest.csv"  # forecasts past the data's end: nothing to score them by
    assert run("predict", "pedestrian", test_csv, "-k", 2, "--out", latest).exit_code == 0
    _one_line_error(run("visualize", latest, test_csv, "--grid", 2, "--best", "--out", tmp_path / "b.png"),
                    "--best: no window of the data has a known true future to score: its futures lie past the data's "
                    "end", "predict with --every-window for futures the data can score")
    uneven = tmp_path / "uneven.csv"  # a camera's frame ids sampled unevenly, predicted at their rate, every window
    rng = np.random.default_rng(1)
    pd.read_csv(test_csv).assign(frame=lambda d: d.frame + rng.integers(-1, 2, len(d))).to_csv(uneven, index=False)
    at_rate = tmp_path / "uneven_preds.csv"
    assert run("predict", "pedestrian", uneven, "--fps", 25, "--every-window", "-k", 2, "--out", at_rate).exit_code == 0
    r = run("visualize", at_rate, uneven, "--grid", 2, "--worst", "--out", tmp_path / "b.png")  # (after a rate warning)
    assert r.exit_code == 1 and r.output.splitlines()[-1] == (
        "error: --worst: no window of the data has a known true future to score: its futures' times are not the "
        "tracks' as read here; give the --fps and --max-gap `predict` had"), r.output
    r = run("visualize", table, sparse, "--grid", 2, "--max-gap", 3, "--out", tmp_path / "c.png")
    assert r.exit_code == 0, r.output


def test_k_draws_the_first_k_futures_of_a_table_and_a_k_set_whole(test_csv, preds, tmp_path, monkeypatch):
    """-k 2 on a table of 4 samples per window draws (and scores) its first 2; a K-set's futures go together,
    so fewer than the table's K-set is one line."""
    import trajcvae.visualize as V

    table = pd.read_csv(preds)
    tracks = SceneTracks(read_tracks([test_csv]))
    w, samples, _, heading = grid_windows(tracks, TableFutures(table, k=2), None, 3, worst=True)
    assert samples.shape[1] == 2 and "minADE@2" in heading
    np.testing.assert_array_equal(samples, TableFutures(table).draw(w)[0][:, :2])
    headings = []
    real = V.plot_windows
    monkeypatch.setattr(V, "plot_windows", lambda *a, **k: headings.append(k.get("suptitle")) or real(*a, **k))
    V.visualize(preds, [test_csv], out=tmp_path / "g.png", grid=2, k=2)
    assert "2 futures each" in headings[-1]
    wide = tmp_path / "wide.csv"  # 24 samples a window: all drawn without -k (a model draws 20)
    pd.concat([table, table.assign(sample=table["sample"] + 4)] * 3).assign(
        sample=lambda d: d["sample"] + 8 * np.repeat(np.arange(3), len(table) * 2)).to_csv(wide, index=False)
    assert run("visualize", wide, test_csv, "--grid", 2, "--out", tmp_path / "w.png").exit_code == 0
    assert "24 futures each" in headings[-1]
    kset = tmp_path / "kset.csv"
    table.assign(weight=0.25).to_csv(kset, index=False)
    for k in (2, 5):  # a K-set is drawn whole: -k can only be its own K (a hint of "or more" then refused 5)
        _one_line_error(run("visualize", kset, test_csv, "-k", k, "--out", tmp_path / "k.png"),
                        f"-k {k}", "K-set of 4 weighted futures", "give -k 4, or leave -k out")
    # More than the table holds is no silent fewer; nor is a --max-gap that tracks of frame ids cannot bridge.
    _one_line_error(run("visualize", preds, test_csv, "-k", 5, "--out", tmp_path / "m.png"),
                    "-k 5: ", "holds 4 futures per window; give -k 4 or fewer, or leave -k out")
    _one_line_error(run("visualize", preds, test_csv, "--max-gap", 1.5, "--out", tmp_path / "m.png"),
                    "--max-gap 1.5: the frame ids have no known rate")
    # A table thinned to every other step (or cut at its start) would be scored against the truth of steps 1..6:
    # refused; one cut at its end is drawn (its first steps are steps 1..P of their own).
    for name, keep, steps in (("odd", table["step"] % 2 == 1, "1, 3, 5, 7, ..., 11"),
                              ("late", table["step"] > 1, "2, 3, 4, 5, ..., 12")):
        table[keep].to_csv(tmp_path / f"{name}.csv", index=False)
        _one_line_error(run("visualize", tmp_path / f"{name}.csv", test_csv, "--out", tmp_path / "m.png"),
                        f"MODEL {tmp_path / f'{name}.csv'}: its steps are {steps}; visualize reads futures of steps 1 "
                        "to their last")
    one = table.copy()  # in one window, a step given twice and another missing: the table's steps still 1..12
    first = (one["agent_id"] == one["agent_id"].iloc[0]) & (one["t0"] == one["t0"].iloc[0])
    one.loc[first & (one["step"] == 12), "step"] = 3
    one.to_csv(tmp_path / "one.csv", index=False)
    _one_line_error(run("visualize", tmp_path / "one.csv", test_csv, "--out", tmp_path / "m.png"),
                    "does not hold steps 1 to 12 once for each of its 4 samples")
    table[table["step"] <= 6].to_csv(tmp_path / "short.csv", index=False)
    assert run("visualize", tmp_path / "short.csv", test_csv, "--grid", 2, "--out", tmp_path / "s.png").exit_code == 0
    assert not (tmp_path / "m.png").exists()


def test_options_that_would_change_nothing_are_refused_or_said(trained, test_csv, preds, tmp_path):
    """--draws without --kset (only a K-set reads it) is refused; an animation asked for more frames than its
    scene has says how many it has."""
    from tests.helpers import cli, one_line_error

    for command in ("predict", "evaluate"):
        one_line_error(cli(command, trained, test_csv, "--draws", 5, *(["--out", tmp_path / "p.csv"] if command ==
                           "predict" else [])), "--draws 5 sets the plain draws behind a K-set: add --kset kmeans")
    assert not (tmp_path / "p.csv").exists()
    short = tmp_path / "short.csv"  # a scene of a few frames: a short animation
    tracks = pd.read_csv(test_csv)
    tracks[tracks.frame <= tracks.frame.min() + 40].to_csv(short, index=False)
    r = run("visualize", trained, short, "--animate", tmp_path / "a.gif", "--frames", 100000, "--size", "300x200")
    assert r.exit_code == 0, r.output
    frames = int(re.search(r"the animation has (\d+), every frame of scene '\w+' from frame \d+ on", r.output)[1])
    assert 1 < frames < 100000 and gif_frames(tmp_path / "a.gif") == frames


def test_visualize_draws_the_scene_fitted_futures(trained, test_csv, preds, tmp_path):
    """`--calibrate scene` draws what `predict --calibrate scene` writes, and `--futures full` what
    `predict --futures full` does; a predictions table is drawn as written, so asking to fit it or for its
    full draws is one line."""
    predictor = TrajCVAE.load(trained)
    w = predictor.make_windows([test_csv], every_window=True)
    past = predictor.scene_past(w, seed=0)
    futures = ModelFutures(predictor, 4, 0, past=past)
    some = w.subset(np.linspace(0, len(w) - 1, 48).round().astype(int))  # spread over the scene: fitted or not
    np.testing.assert_allclose(futures.draw(some)[0], predictor.sample(some, k=4, past=past), atol=1e-6)
    assert 0 < len(futures.unfitted) < len(futures.drawn) == len(some)  # both kinds are compared
    past = predictor.scene_past(w, seed=0, futures="full")  # full draws are fitted to their own levels
    full = ModelFutures(predictor, 4, 0, past=past, futures="full").draw(some)[0]
    np.testing.assert_allclose(full, predictor.sample_kset(some, k=4, kset="none", past=past, futures="full")[0],
                               atol=1e-6)
    assert not np.allclose(full, futures.draw(some)[0], atol=1e-3)
    out = tmp_path / "g.png"
    r = run("visualize", trained, test_csv, "--grid", 3, "-k", 4, "--calibrate", "scene", "--out", out)
    assert r.exit_code == 0, r.output
    assert len(sample_pixels(ok_png(out))) > 3
    # The grid's first window has no past in its scene: said in one line, as by `predict`.
    assert "warning: --calibrate scene: 1 of 3 windows had fewer than 10 finished windows" in r.output
    # The default picture is of the first window whose draws the scene's past fits (the file's first has none).
    r = run("visualize", trained, test_csv, "-k", 4, "--calibrate", "scene", "--out", out)
    assert r.exit_code == 0 and "had fewer than" not in r.output, r.output
    pd.read_csv(test_csv).query("frame <= 150").to_csv(tmp_path / "short.csv", index=False)  # no window fitted
    r = run("visualize", trained, tmp_path / "short.csv", "-k", 4, "--calibrate", "scene", "--out", out)
    assert r.exit_code == 0 and "warning: --calibrate scene: 1 of 1 windows had fewer than 10" in r.output, r.output
    _one_line_error(run("visualize", preds, test_csv, "--calibrate", "scene", "--out", out),
                    "--calibrate scene", "holds futures already")
    _one_line_error(run("visualize", preds, test_csv, "--kset", "kmeans", "--out", out),
                    "--kset kmeans", "holds futures already")
    _one_line_error(run("visualize", preds, test_csv, "--futures", "full", "--out", out),
                    "--futures full", "holds futures already", "predict --futures")
    asked, real = [], TrajCVAE.sample_kset  # the command's --futures reaches the draws of every window drawn
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TrajCVAE, "sample_kset",
                   lambda self, *a, **kw: asked.append(kw.get("futures")) or real(self, *a, **kw))
        r = run("visualize", trained, test_csv, "--grid", 2, "-k", 4, "--futures", "full", "--calibrate", "scene",
                "--out", out)  # full draws, fitted to the levels of full draws
    assert r.exit_code == 0 and asked and set(asked) == {"full"}, (r.output, asked)
    # Tracks of another scene than the table's: one line naming both, no traceback.
    other = tmp_path / "elsewhere.csv"
    pd.read_csv(test_csv).assign(scene="elsewhere").to_csv(other, index=False)
    _one_line_error(run("visualize", preds, other, "--out", out), "futures in scene", "which the data do not hold")


def test_tracker_timestamps_since_1970_are_drawn_at_their_own_times_with_their_truth(test_csv, tmp_path):
    """A time column of jittered Unix seconds: the windows at an observation's time are those of the agents
    observed at that very time (--scene-frame adds those seen half a step before: see the test above), a
    table `predict` wrote is drawn against the tracks it came from, and the true futures drawn are those
    `evaluate` scores (interpolated between observations), not only futures that land on an observation."""
    from trajcvae.visualize import _label

    df = pd.read_csv(test_csv)
    rng = np.random.default_rng(0)
    times = df.assign(time=np.round(1.7e9 + df.frame / 25 + rng.uniform(-0.05, 0.05, len(df)), 6)).drop(
        columns="frame")
    data = tmp_path / "unix.csv"
    times.to_csv(data, index=False, float_format="%.6f")
    model = TrajCVAE.load("pedestrian")
    tracks = SceneTracks(model.read([data]), None, model.config.data.dt, model.config.data.max_gap)
    at = float(times.time.iloc[len(times) // 2])
    w = tracks.windows_at(model.config.data, tracks.scenes[0], at)
    assert w is not None and (w.t0 == at).all() and len(w) == (times.time == at).sum()
    assert _label("s", 1, at).endswith(f"t0 {at:.6f}".rstrip("0"))
    # The table's windows are found again, with the truth evaluate reads.
    table = tmp_path / "p.csv"
    assert run("predict", "pedestrian", data, "-k", 3, "--windows", "--out", table).exit_code == 0
    windows = model.make_windows([data], every_window=True)
    truth = tracks.truth(windows.scene, windows.agent_id, windows.t0, windows.step, windows.fut.shape[1])
    np.testing.assert_allclose(truth, windows.fut, atol=1e-9)
    out = tmp_path / "w.png"
    r = run("visualize", table, data, "--grid", 3, "--worst", "--out", out)
    assert r.exit_code == 0, r.output
    ok_png(out)


def _stamped_walkers(path, spans, jitter, seed=0):
    """Walkers along x at 1.2 m/s, 1.5 m apart, each detection with its own timestamp: 10 Hz jittered by up to
    `jitter` s (each detection where its walker was then), walker a seen over spans[a] = (first, last) seconds
    (from 1.7e9 s)."""
    rng = np.random.default_rng(seed)
    rows = [(round(1.7e9 + t + e, 6), a, 1.2 * (t + e - lo), 1.5 * a)
            for a, (lo, hi) in enumerate(spans) for t in np.arange(lo, hi, 0.1) for e in [rng.uniform(-jitter, jitter)]]
    pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]).to_csv(path, index=False, float_format="%.6f")
    return pd.read_csv(path)


def test_scene_frame_draws_every_agent_in_view_whatever_its_clock_phase(tmp_path):
    """Loggers out of phase (2.5 Hz each, one 0.3 s after the other): at one's stamp, the other was seen 0.3 s
    before and is due 0.1 s after, so it is in view and drawn, as a prediction there keeps it as a neighbour;
    an agent whose next observation was due 0.4 s ago and never came has left, and is not drawn."""
    from trajcvae.visualize import scene_view

    rows = [(1.7e9 + t, a, 1.2 * t, 1.5 * a) for a, (lo, hi) in enumerate([(0.0, 6.0), (0.1, 6.0), (0.0, 3.3)])
            for t in np.arange(lo, hi, 0.4)]
    pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]).to_csv(tmp_path / "phases.csv", index=False)
    model = TrajCVAE.load("pedestrian")
    table = model.read([tmp_path / "phases.csv"])
    tracks = SceneTracks(table, None, model.config.data.dt, model.config.data.max_gap)
    at = 1.7e9 + 4.0  # agent 0's stamp; agent 1's last was 3.7 s, agent 2's 3.2 s
    view, title = scene_view(tracks, ModelFutures(model, 2, 0), "phases", at, strict=True)
    assert "2 agents" in title and not view.others, title
    np.testing.assert_allclose(sorted(v[-1][0] for v in view.tracks), [1.2 * 3.7, 1.2 * 4.0])


def test_animation_of_a_known_rate_steps_by_the_model_step_around_the_busiest_moment(tmp_path, monkeypatch):
    """At a known rate a GIF frame is one model step (0.4 s) of the scene, whatever the input's rate, the
    GIF is centred on the busiest step, and each frame draws every agent observed in the step up to it."""
    import trajcvae.visualize as V

    shown = []
    real = V.animate_scene
    monkeypatch.setattr(V, "animate_scene", lambda views, titles, *a, **k: shown.append((views, titles)) or
                        real(views, titles, *a, **k))
    # Walker a is seen over [1.5 a, 1.5 a + 6) s: all five only over [6, 6.1) s.
    df = _stamped_walkers(tmp_path / "tracker.csv", [(1.5 * a, 1.5 * a + 6) for a in range(5)], 0.004)
    V.visualize("pedestrian", [tmp_path / "tracker.csv"], animate=tmp_path / "a.gif", k=2, frames=5, size="300x200")
    views, titles = shown[-1]
    times = np.array([float(t.split("time ")[1].split(" s")[0]) for t in titles]) - 1.7e9
    np.testing.assert_allclose(np.diff(times), 0.4, atol=1e-6)
    assert 5.9 <= times[2] <= 6.5, titles  # the middle frame: the step that saw all five walkers
    t = df.time.to_numpy() - 1.7e9
    for view, at in zip(views, times):  # every agent observed in the step up to the frame, each once
        seen = df.agent_id[(t > at - 0.4 + 1e-6) & (t <= at + 1e-6)].nunique()
        assert len(view.tracks) + len(view.others or []) == seen > 0
    # The same walk as frame ids of a 30 fps video: 12 frame ids per GIF frame.
    video = tmp_path / "video.csv"
    rows = [(f, a, 1.2 * f / 30, 1.5 * a) for a in range(2) for f in range(0, 240)]
    pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"]).to_csv(video, index=False)
    V.visualize("pedestrian", [video], animate=tmp_path / "v.gif", fps=30, k=2, frames=4, size="300x200")
    frames = [float(t.split("frame ")[1].split()[0]) for t in shown[-1][1]]
    assert np.diff(frames).tolist() == [12.0] * 3, shown[-1][1]


def test_an_animation_of_unix_times_draws_each_agent_seen_at_a_frame_with_its_history(tmp_path):
    """A GIF's moments are computed (start + i steps): at Unix seconds they may differ from the times read by
    an ulp (0.24 us), so an agent seen at a moment is matched to its rows within a step's 1e-4, as when it was
    found, and drawn with its history (an empty one was an IndexError)."""
    from trajcvae.simulate import simulate_scene

    unix = tmp_path / "unix.csv"
    simulate_scene(n_frames=400, spawn_rate=0.35, seed=0, scene="base").assign(
        time=lambda d: 1765000000.0 + d.frame * 0.04).drop(columns="frame").to_csv(unix, index=False,
                                                                                    float_format="%.3f")
    r = run("visualize", "pedestrian", unix, "--animate", tmp_path / "a.gif", "--frames", 20, "-k", 2)
    assert r.exit_code == 0 and (tmp_path / "a.gif").is_file(), r.output


def test_scene_frame_and_t0_take_an_iso_date_time_for_an_input_of_date_times(tmp_path):
    """Tracks stamped with ISO 8601 date-times are timed in seconds since 1970: --scene-frame and --t0 take the
    time as the file writes it (with its zone, or none for UTC) as well as those seconds, and draw the same
    picture (text that is neither: test_cli's one-line mistakes)."""
    t = 1714564800.0 + np.arange(0, 8.4, 0.4)
    walk = pd.DataFrame({"time": np.repeat(t, 2), "agent_id": np.tile([1, 2], len(t)),
                         "x": np.repeat(1.2 * (t - t[0]), 2), "y": np.tile([0.0, 2.0], len(t))})
    data = tmp_path / "iso.csv"
    walk.assign(time=pd.to_datetime(walk.time, unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).to_csv(
        data, index=False)
    at = t[12]  # 2024-05-01T12:00:04.8Z
    pictures = []
    for i, when in enumerate((at, "2024-05-01T12:00:04.8Z", "2024-05-01 14:00:04.8+02:00", "2024-05-01T12:00:04.8")):
        for option in ("--scene-frame", "--t0"):
            out = tmp_path / f"{option[2:]}{i}.png"
            extra = ("--agent", 1) if option == "--t0" else ()
            r = run("visualize", "pedestrian", data, option, when, *extra, "-k", 2, "--out", out)
            assert r.exit_code == 0, r.output
            pictures.append((option, rgb(out)))
    for option, picture in pictures:
        np.testing.assert_array_equal(picture, next(p for o, p in pictures if o == option))


def test_scene_frame_between_a_trackers_timestamps_draws_every_agent_from_its_latest_observation(tmp_path):
    """Each detection with its own timestamp (10 Hz, jittered): --scene-frame T draws every agent last
    observed within half a model step before T, each predicted from that observation as `predict` does
    there; a T with none says which observations are nearest, and so does a --t0 between observations."""
    from trajcvae.visualize import scene_view
    from trajcvae.windows import build_windows

    data = tmp_path / "ros.csv"
    df = _stamped_walkers(data, [(0, 6)] * 6, 0.02)
    model = TrajCVAE.load("pedestrian")
    cfg = model.config.data
    tracks_table = model.read([data])
    tracks = SceneTracks(tracks_table, None, cfg.dt, cfg.max_gap)
    futures = ModelFutures(model, 3, 0)
    stamp = float(df[(df.agent_id == 0) & ((df.time - 1.7e9 - 3).abs() < 0.05)].time.iloc[0])
    for at in (stamp, 1.7e9 + 3.0):  # an agent's own stamp, and a round time between stamps
        view, title = scene_view(tracks, futures, "ros", at, strict=True)
        assert len(view.tracks) == 6 and "6 agents" in title and not view.others
        ref = build_windows(tracks_table[tracks_table.frame <= at], cfg, mode="latest")  # predict's, cut at T
        w = tracks.windows_at(cfg, "ros", at, within=0.2)
        np.testing.assert_allclose(w.t0, ref.t0)
        np.testing.assert_allclose(w.obs, ref.obs, atol=1e-9)
        np.testing.assert_allclose([v[-1] for v in view.tracks], ref.obs[:, -1], atol=1e-9)
    out = tmp_path / "x.png"
    first = df.time.min()
    _one_line_error(run("visualize", "pedestrian", data, "--scene-frame", first - 1, "--out", out),
                    f"--scene-frame {first - 1:.6f}".rstrip("0").rstrip("."), "nearest observations are at time "
                    f"{first:.6f}".rstrip("0").rstrip("."))
    own = df[df.agent_id == 0].time.to_numpy()
    i = int(np.searchsorted(own, stamp))
    text = [f"{v:.6f}".rstrip("0").rstrip(".") for v in (own[i - 1], own[i])]
    _one_line_error(run("visualize", "pedestrian", data, "--agent", 0, "--t0", round(stamp - 0.01, 3), "--out", out),
                    "agent 0", "no observation", f"nearest: times {text[0]} and {text[1]} s")
    # Frame ids of no known rate: a --scene-frame between them names the nearest too.
    ids = tmp_path / "ids.csv"
    ids.write_text("frame,agent_id,x,y\n" + "".join(f"{f},1,{f / 20},0\n" for f in range(0, 300, 10)))
    _one_line_error(run("visualize", "pedestrian", ids, "--scene-frame", 135, "--out", out),
                    "--scene-frame 135: no agent in scene 'ids' at frame 135 (the nearest: frames 130 and 140; frames "
                    "0..290, a model step 10 frames)")


def test_futures_past_a_cameras_horizon_are_scored_on_the_steps_they_all_reach_before_it(tmp_path, monkeypatch):
    """A predictions table from a homography input leaves future points past the camera's horizon empty:
    visualize scores every window on the steps all its futures reach before it, ranks them all for --worst,
    and says how many windows had points past the horizon; no title says nan."""
    import trajcvae.visualize as V

    rows = []  # metres: walkers 0-2 walk up towards y = 10 m (the camera's horizon), 3-5 walk along x
    for a in range(6):
        for f in range(30):
            x, y = (1.5 * a, 2.0 + 0.4 * min(f, 18)) if a < 3 else (0.5 * f, 1.0 + a * 0.3)
            rows.append((f * 10, a, x, y))
    m = pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"])
    m = m[m.y < 9.3]
    to_pixels = np.array([[50, 0, 100], [0, 50, 50], [0, -0.1, 1.0]])  # the ground's horizon: y = 10 m
    np.savetxt(tmp_path / "H.txt", np.linalg.inv(to_pixels))
    uvw = np.c_[m.x, m.y, np.ones(len(m))] @ to_pixels.T
    data = tmp_path / "pixels.csv"
    m.assign(x=uvw[:, 0] / uvw[:, 2], y=uvw[:, 1] / uvw[:, 2]).to_csv(data, index=False)
    table = tmp_path / "preds.csv"
    with pytest.warns(TrajCVAEWarning, match="future points fall past the homography's horizon"):
        p = TrajCVAE.load("pedestrian").predict([data], k=20, every_window=True, homography=tmp_path / "H.txt")
    p.to_csv(table, index=False)
    past = p[p.x.isna()].groupby(["agent_id", "t0"]).ngroups
    assert past > 0  # the case at hand

    titles, drawn = [], []
    real_save, real_windows = V.save_figure, V.plot_windows
    monkeypatch.setattr(V, "save_figure", lambda fig, *a: titles.extend(
        [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]) or
        real_save(fig, *a))
    monkeypatch.setattr(V, "plot_windows", lambda obs, samples, fut, *a, **k: drawn.append((samples, fut)) or
                        real_windows(obs, samples, fut, *a, **k))
    V.visualize(table, [data], out=tmp_path / "g.png", homography=tmp_path / "H.txt", grid=3, worst=True)
    samples, fut = drawn[-1]
    err = np.linalg.norm(samples - fut[:, None], axis=-1)  # (3, K, P), NaN past the horizon
    known = np.isfinite(err)
    reach = np.where(known.any(-1), known.shape[-1] - 1 - np.argmax(known[..., ::-1], -1), 99)  # (3, K)
    shared = np.arange(err.shape[-1]) <= reach.min(-1)[:, None, None]  # the steps all of a window's futures reach
    ade = np.nanmin(np.nanmean(np.where(shared, err, np.nan), -1), -1)
    assert (np.diff(ade) <= 1e-9).all() and np.isnan(samples).any((1, 2, 3)).any()  # ranked with the others
    assert f"{past} of {p.groupby(['agent_id', 't0']).ngroups} windows have futures past the camera's horizon" \
        in titles[0], titles
    n = len(titles)
    V.visualize(table, [data], out=tmp_path / "one.png", homography=tmp_path / "H.txt", agent="0", t0=170)
    assert "minADE" in titles[-1] and "futures past the horizon" in titles[-1]  # the window's panel
    V.visualize(table, [data], out=tmp_path / "crowd.png", homography=tmp_path / "H.txt", scene_frame=170)
    assert "mean minADE" in titles[-1] and "have futures past the camera's horizon" in titles[-1] and len(titles) > n
    assert not [t for t in titles if "nan" in t], titles


def test_the_marked_best_epoch_is_the_one_best_pt_holds():
    """Epochs before the KL weight is full are never picked for best.pt, so the curves never mark one."""
    from trajcvae.plots import best_row

    metrics = pd.DataFrame({"epoch": [1, 2, 3, 4], "beta": [0.33, 0.67, 1.0, 1.0],
                            "val_min_ade": [0.55, 0.50, 0.61, 0.60]})
    assert int(best_row(metrics)["epoch"]) == 4
    assert int(best_row(metrics.assign(beta=1.0))["epoch"]) == 2

def test_names_holding_dollar_signs_are_drawn_as_written_not_as_formulas():
    """matplotlib reads text between two '$' as a formula: an agent 'pay$1$' lost its '$'s, and '$\\frac$' (no
    formula) ended every picture of it, and `train`'s val_predictions.png, in a traceback. Titles, headings and
    names are drawn as written; a run's epochs are whole numbers on the curves' axis, a one-epoch run's too."""
    import io

    from trajcvae.plots import plot_curves, plot_reliability

    rng = np.random.default_rng(0)
    obs, samples = rng.normal(size=(2, 8, 2)), rng.normal(size=(2, 3, 12, 2))
    fig = plot_windows(obs, samples, titles=["agent 'pay$1$'", "agent '$\\frac$'"], suptitle="scene 'cam$\\alpha$'")
    fig.savefig(io.BytesIO(), format="png")
    shown = [ax.title for ax in fig.axes[:2]] + [fig._suptitle]
    assert [t._preprocess_math(t.get_text()) for t in shown] == [("agent 'pay$1$'", False),
                                                                  ("agent '$\\frac$'", False),
                                                                  ("scene 'cam$\\alpha$'", False)]
    fig = plot_reliability({"$\\frac$": [0.5, 0.5]}, [0.25, 0.75], title="run '$x^2$'")
    fig.savefig(io.BytesIO(), format="png")
    assert fig.axes[0].title._preprocess_math(fig.axes[0].title.get_text()) == ("run '$x^2$'", False)
    metrics = pd.DataFrame({c: [1.0] for c in ("epoch", "beta", "train_nll", "val_nll", "train_kl", "val_kl",
                                               "train_elbo", "val_elbo", "val_min_ade", "val_min_fde")})
    fig = plot_curves(metrics, title="run '$\\frac$'")
    fig.savefig(io.BytesIO(), format="png")
    assert all(float(t).is_integer() for t in fig.axes[2].get_xticks())
    # A crowd view's title (a scene named by its folders and a UUID) is broken onto lines within the figure.
    from trajcvae.plots import SceneView, plot_scene

    name = "site_north/camera_03_overhead/0a0ef009-9d44-4399-99e6-50004d345f34_tracks"
    fig = plot_scene(SceneView(4.0, [obs[0]], samples[:1]), title=f"scene '{name}' · time 4 s: 1 agent x 3 futures")
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent()
    assert "\n" in fig.axes[0].title.get_text() and 0 <= box.x0 and box.x1 <= fig.bbox.width


def test_a_grids_legend_names_what_any_of_its_windows_draws():
    """The legend sits on the first window: neighbours (or a truth) drawn only in another window are named too."""
    rng = np.random.default_rng(0)
    nbr = np.full((2, 1, 8, 2), np.nan)
    nbr[1, 0] = rng.normal(size=(8, 2))
    fig = plot_windows(rng.normal(size=(2, 8, 2)), rng.normal(size=(2, 3, 12, 2)), nbr=nbr)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["3 predicted futures", "observed",
                                                                           "neighbours"]


def test_plot_training(trained, tmp_path):
    out = tmp_path / "c.svg"
    r = run("plot-training", trained.parent, "--out", out)
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"<?xml")
    out = tmp_path / "c.png"
    r = run("plot-training", trained.parent / "metrics.csv", "--out", out, "--size", "800x500")
    assert r.exit_code == 0, r.output
    ok_png(out, (800, 500))
    r = run("plot-training", tmp_path)
    assert r.exit_code == 1 and "no metrics.csv" in r.output and "runs below it" not in r.output
    for split in ("eth", "hotel"):  # a benchmark's folder: the runs below it are named
        (tmp_path / "bench" / split / "seed0").mkdir(parents=True)
        (tmp_path / "bench" / split / "seed0" / "metrics.csv").write_bytes((trained.parent / "metrics.csv")
                                                                           .read_bytes())
    _one_line_error(run("plot-training", tmp_path / "bench"), "no metrics.csv here", "; runs below it: "
                    f"{tmp_path / 'bench' / 'eth' / 'seed0'}, {tmp_path / 'bench' / 'hotel' / 'seed0'}")
    _one_line_error(run("plot-training", trained.parent, "--out", tmp_path), f"--out {tmp_path}: is a folder; give a "
                    "file name")  # (not its name's "unsupported image format ''")
    # A value that is no number is named; a run stopped before its KL weight was full has no best.pt to mark.
    metrics = pd.read_csv(trained.parent / "metrics.csv")
    (tmp_path / "bad").mkdir()
    metrics.astype({"beta": object}).assign(beta=["abc"] + list(metrics.beta[1:])).to_csv(
        tmp_path / "bad" / "metrics.csv", index=False)
    _one_line_error(run("plot-training", tmp_path / "bad"), "row 1, column beta: 'abc' is not a number")
    (tmp_path / "link.png").symlink_to(tmp_path / "bad" / "metrics.csv")  # the picture would write over it
    _one_line_error(run("plot-training", tmp_path / "bad", "--out", tmp_path / "link.png"), "is "
                    f"{tmp_path / 'bad' / 'metrics.csv'} itself, an input of this command")
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "config.toml").write_text((trained.parent / "config.toml").read_text())
    metrics.assign(beta=0.5).to_csv(tmp_path / "cut" / "metrics.csv", index=False)
    from trajcvae.plots import best_row
    from trajcvae.visualize import plot_training

    assert plot_training(tmp_path / "cut", tmp_path / "cut.png").exists()
    assert best_row(metrics.assign(beta=0.5), beta=1.0) is None
    # A row cut short (a copy broken off) and one run's epochs twice (two files joined) are no run's record:
    # they were drawn, with "val minADE nan" in the title and 4 epochs for 2.
    (tmp_path / "short").mkdir()
    text = (trained.parent / "metrics.csv").read_text().splitlines()
    (tmp_path / "short" / "metrics.csv").write_text("\n".join(text[:-1] + [text[-1].rsplit(",", 3)[0]]) + "\n")
    _one_line_error(run("plot-training", tmp_path / "short"), f"row {len(text) - 1} has {len(text[0].split(',')) - 3} "
                    f"of its {len(text[0].split(','))} fields (cut short?)")
    (tmp_path / "twice").mkdir()
    (tmp_path / "twice" / "metrics.csv").write_text("\n".join(text + text[1:]) + "\n")
    _one_line_error(run("plot-training", tmp_path / "twice"), f"epoch 1 is in rows 1 and {len(text)}: not one run's "
                    "metrics")
    _one_line_error(run("plot-training", tmp_path / "nowhere"), "nowhere: no such run folder or metrics.csv")
    (tmp_path / "blank").mkdir()  # an epoch left empty (a hand's edit): named, not a traceback
    (tmp_path / "blank" / "metrics.csv").write_text("\n".join(text[:1] + [","+ text[1].split(",", 1)[1]] + text[2:]))
    _one_line_error(run("plot-training", tmp_path / "blank"), "row 1, column epoch: empty")


def test_the_curves_mark_the_epoch_best_pt_holds_also_for_a_run_shorter_than_its_kl_anneal(trained, tmp_path,
                                                                                          monkeypatch):
    """A run of fewer epochs than its KL anneal (the demo's --epochs 2) picks best.pt among its last epochs:
    the curves name and mark the epoch best.pt holds, not "no best.pt yet"; without a best.pt beside the
    metrics, the epoch it would hold is named as such."""
    import shutil

    import matplotlib.pyplot as plt
    import torch

    import trajcvae.visualize as V

    said = []
    monkeypatch.setattr(V, "plot_curves", lambda metrics, title, best=None: said.append((title, best)) or
                        plt.figure())
    held = torch.load(trained, weights_only=True)["epoch"]
    run = tmp_path / "short"
    run.mkdir()
    shutil.copy(trained, run / "best.pt")
    shutil.copy(trained.parent / "config.toml", run / "config.toml")
    pd.read_csv(trained.parent / "metrics.csv").assign(beta=0.5).to_csv(run / "metrics.csv", index=False)
    V.plot_training(run, tmp_path / "a.png")
    assert said[-1][1] == held and ", best.pt: val minADE " in said[-1][0] and said[-1][0].endswith(
        f" m at epoch {held}")
    (run / "best.pt").unlink()
    pd.read_csv(trained.parent / "metrics.csv").to_csv(run / "metrics.csv", index=False)
    V.plot_training(run, tmp_path / "b.png")
    assert said[-1][0].endswith("(no best.pt beside it)") and said[-1][1] is not None
    (run / "best.pt").write_bytes(b"not a checkpoint")  # there, but unreadable: said so, not "no best.pt"
    V.plot_training(run, tmp_path / "c.png")
    assert said[-1][0].endswith("(best.pt unreadable: not a trajcvae checkpoint (not a file written by "
                                "torch.save))"), said[-1][0]
    # An older run's config.toml (a flag since adopted, at its value then) still gives its full KL weight: a
    # run stopped before it has no epoch best.pt would hold yet.
    (run / "best.pt").unlink()
    (run / "config.toml").write_text((trained.parent / "config.toml").read_text().replace(
        "[kset]\n", "[kset]\nown_decoder = false\n"))
    pd.read_csv(trained.parent / "metrics.csv").assign(beta=0.5).to_csv(run / "metrics.csv", index=False)
    V.plot_training(run, tmp_path / "d.png")
    assert said[-1][1] is None, said[-1]


def _one_line_error(r, *parts):
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    for p in parts:
        assert p in r.output, r.output


def test_unknown_scene_agent_frame_name_the_valid_range(trained, test_csv, tmp_path):
    df = pd.read_csv(test_csv)
    scene = str(df.scene.iloc[0])
    ids = f"agents {df.agent_id.min()}..{df.agent_id.max()}"
    frames = f"frames {df.frame.min()}..{df.frame.max()}"
    out = tmp_path / "x.png"
    _one_line_error(run("visualize", trained, test_csv, "--scene", "nope", "--out", out),
                    "--scene 'nope': no such scene", f"(scenes: {scene})")
    _one_line_error(run("visualize", trained, test_csv, "--agent", 999, "--out", out),
                    f"--agent 999: no such agent in scene '{scene}'", ids)
    agent = int(df.agent_id.iloc[0])
    own = df[df.agent_id == agent].frame
    _one_line_error(run("visualize", trained, test_csv, "--agent", agent, "--t0", 99999, "--out", out),
                    "--t0 99999", f"agent {agent}", f"frames {own.min()}..{own.max()}")
    r = run("visualize", trained, test_csv, "--agent", agent, "--t0", -1e300, "--out", out)  # in short, not 300 digits
    _one_line_error(r, "--t0 -1e+300", f"agent {agent}")
    assert len(r.output) < 300, r.output
    _one_line_error(run("visualize", trained, test_csv, "--scene-frame", 99999, "--out", out),
                    "--scene-frame 99999", frames)
    _one_line_error(run("visualize", trained, test_csv, "--animate", tmp_path / "a.gif", "--scene-frame", 5),
                    "--scene-frame 5", f"(the nearest: frame {df.frame.min()}; ", frames)
    # An agent seen once has no window: said of it, not of the file ("no agent has 2 consecutive positions").
    last = int(df.frame.max())
    once = pd.DataFrame({"frame": [last], "agent_id": [9999], "x": [0.0], "y": [0.0], "scene": [scene]})
    pd.concat([df, once], ignore_index=True).to_csv(tmp_path / "once.csv", index=False)
    _one_line_error(run("visualize", trained, tmp_path / "once.csv", "--agent", 9999, "--out", out),
                    f"--agent 9999: agent 9999 in scene '{scene}' has no window (it needs a position and one a model "
                    f"step before it); agent 9999 has frames {last}..{last}")
    padded = df.assign(agent_id=df.agent_id.map(lambda a: f"{a:03d}"))  # ids kept as written: named so
    padded.to_csv(tmp_path / "padded.csv", index=False)
    _one_line_error(run("visualize", trained, tmp_path / "padded.csv", "--agent", 999, "--out", out),
                    f"(agents {', '.join(sorted(padded.agent_id.unique())[:8])}, ...")
    # An id read as the file's are: 1.0 (ETH/UCY's way of writing 1, and a float column's) is the agent 1, but
    # "001" is not the agent "1".
    assert run("visualize", trained, test_csv, "--agent", f"{agent}.0", "--out", out).exit_code == 0
    _one_line_error(run("visualize", trained, tmp_path / "padded.csv", "--agent", agent, "--out", out),
                    f"--agent {agent}: no such agent")
    from trajcvae.visualize import id_range  # integer ids beyond 2**53 (a Parquet file's) as the integers they are

    assert id_range(np.array([9007199254740997, 9007199254740993], dtype=np.int64)) == \
        "9007199254740993..9007199254740997"


def test_a_predictions_table_is_drawn_on_the_device_asked_for_only_where_there_is_one(tmp_path):
    """A table's futures are drawn, not sampled, yet --device cuda on a machine without CUDA is refused, as it
    is with a model (where CUDA is, the table's picture needs none and is drawn)."""
    import torch

    tracks, table = tmp_path / "t.csv", tmp_path / "p.csv"
    pd.DataFrame([(f, 1, 0.05 * f, 0.0) for f in range(0, 300, 10)], columns=["frame", "agent_id", "x", "y"]).to_csv(
        tracks, index=False)
    assert run("predict", "pedestrian", tracks, "-k", 2, "--out", table).exit_code == 0
    r = run("visualize", table, tracks, "--device", "cuda", "--out", tmp_path / "a.png")
    if torch.cuda.is_available():
        assert r.exit_code == 0, r.output
    else:
        _one_line_error(r, "--device cuda: CUDA is not available on this machine")
        assert not (tmp_path / "a.png").exists()


def test_an_animation_plays_the_scene_at_the_same_pace_whatever_the_models_step(tmp_path):
    """Each GIF frame is one model step: a model of 0.1 s steps plays 16 frames a second, as the 0.4 s recipe
    plays 4 (1.6 times real time), not a 10 Hz scene at 0.4 times real time."""
    import copy

    from trajcvae import TrajCVAE
    from trajcvae.visualize import visualize
    fast = copy.deepcopy(TrajCVAE.load("pedestrian"))
    fast.config.data.dt, fast.config.data.max_gap = 0.1, 0.2
    rows = [(round(0.1 * i, 1), a, 0.12 * i, 1.5 * a) for a in range(3) for i in range(60)]
    pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]).to_csv(tmp_path / "t.csv", index=False)
    visualize(fast, [tmp_path / "t.csv"], animate=tmp_path / "a.gif", frames=3, k=2, size="300x240")
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == 3 and im.info["duration"] in (60, 62, 63, 70), im.info  # 62.5 ms in GIF's 10 ms
    fast.config.data.dt, fast.config.data.max_gap = 0.01, 0.02  # 160 frames a second: more than GIFs hold
    rows = [(round(0.01 * i, 2), a, 0.012 * i, 1.5 * a) for a in range(3) for i in range(600)]
    pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]).to_csv(tmp_path / "t.csv", index=False)
    visualize(fast, [tmp_path / "t.csv"], animate=tmp_path / "a.gif", frames=3, k=2, size="300x240")
    with Image.open(tmp_path / "a.gif") as im:
        assert im.info["duration"] == 20, im.info  # 50 frames a second, not a 0 ms delay browsers play at 100 ms


def test_an_animation_without_a_future_in_it_is_refused_not_written(tmp_path):
    """A predictions table from `predict` holds each agent's futures from its latest frame only; a GIF of the
    busiest frames, before any of them, would show tracks alone and pass for one of futures. It is refused,
    naming where the table's futures are, and no GIF is written; started there, it is drawn."""
    tracks, table, gif = tmp_path / "t.csv", tmp_path / "p.csv", tmp_path / "a.gif"
    rows = [(f, a, 0.03 * (f - 100 * a), 1.5 * a) for a in range(3) for f in range(100 * a, 100 * a + 300, 10)]
    pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"]).to_csv(tracks, index=False)
    assert run("predict", "pedestrian", tracks, "-k", 2, "--out", table).exit_code == 0
    r = run("visualize", table, tracks, "--animate", gif, "--frames", 4)
    _one_line_error(r, "--animate: the predictions file has no futures in the 4 frames from frame 180 to frame 210",
                    "(t0 290..490 in the file)", "--scene-frame")
    assert not gif.exists()
    r = run("visualize", table, tracks, "--animate", gif, "--frames", 4, "--scene-frame", 290)
    assert r.exit_code == 0 and gif.read_bytes()[:3] == b"GIF", r.output


@pytest.mark.parametrize("failure, code, said", [(KeyboardInterrupt, 130, "interrupted: "),
                                                 (MemoryError, 1, "error: out of memory")])
def test_an_animation_that_fails_as_its_first_frame_is_drawn_says_why_and_leaves_no_file(tmp_path, monkeypatch,
                                                                                      failure, code, said):
    """Ctrl-C or no memory while the first frame is drawn: that is what is said, not an error of a GIF of no
    frames in its place, and no GIF or temp file is left."""
    import trajcvae.plots

    tracks = tmp_path / "t.csv"
    rows = [(f, a, 0.03 * f, 1.5 * a) for a in range(3) for f in range(0, 300, 10)]
    pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"]).to_csv(tracks, index=False)

    def draw_scene(*args, **kwargs):
        raise failure()

    monkeypatch.setattr(trajcvae.plots, "draw_scene", draw_scene)
    r = run("visualize", "pedestrian", tracks, "--animate", tmp_path / "a.gif", "--frames", 3, "-k", 2)
    lines = r.output.strip().splitlines()
    assert r.exit_code == code and lines[-1].startswith(said) and "Traceback" not in r.output, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_video_frame_under_the_crowd_view_is_drawn_in_its_pixels(test_csv, tmp_path):
    """--background puts an image (a video frame) under the --scene-frame picture, drawn in the tracks' pixels
    (pixel (0, 0) the image's top-left one, v downwards); tracks not in pixels, other pictures, and files
    that are no image are refused in one line, and the image is never overwritten."""
    from trajcvae.plots import SceneView, plot_scene
    from trajcvae.visualize import in_units

    df = pd.read_csv(test_csv)
    frame = int(df.groupby("frame").size().idxmax())
    pixels = tmp_path / "pixels.csv"
    df.assign(x=df.x * 20, y=df.y * 20).to_csv(pixels, index=False)  # 20 pixels a metre
    teal = (10, 200, 120)
    Image.fromarray(np.full((200, 300, 3), teal, np.uint8)).save(tmp_path / "frame.png")
    out = tmp_path / "over.png"
    r = run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "-k", 3,
            "--background", tmp_path / "frame.png", "--out", out)
    assert r.exit_code == 0, r.output
    img = ok_png(out, (700, 566))  # the image's shape, 7 inches wide, an inch for the title and labels
    assert (np.abs(img - teal).max(-1) <= 3).mean() > 0.3
    # Drawn in pixels: a future 1 m along x ends 20 pixels along u, and the axes span the image.
    view = SceneView(0.0, [np.array([[0.0, 0.0], [1.0, 1.0]])], np.array([[[[1.0, 0.0], [2.0, 0.5]]]]))
    ax = plot_scene(in_units(view, {"scale": 0.05}), background=np.zeros((200, 300, 3), np.uint8)).axes[0]
    assert ax.get_xlim() == (-0.5, 299.5) and ax.get_ylim() == (199.5, -0.5)
    assert np.allclose(ax.collections[-1].get_offsets(), [[40.0, 10.0]])  # the endpoint, in pixels
    for args, message in [
        ([pixels, "--scale", 0.05, "--background", tmp_path / "frame.png"], "or an --animate GIF: add one of them"),
        ([pixels, "--scale", 0.05, "--background", tmp_path / "frame.png", "--grid", 2], "add one of them"),
        ([test_csv, "--scene-frame", frame, "--background", tmp_path / "frame.png"],
         "the tracks are in metres, not in the image's pixels; give tracks in pixels with --homography"),
        ([pixels, "--scale", 0.05, "--scene-frame", frame, "--background", tmp_path / "none.png"], "no such file"),
        ([pixels, "--scale", 0.05, "--scene-frame", frame, "--background", pixels], "not an image that can be read"),
    ]:
        _one_line_error(run("visualize", "pedestrian", *args, "--out", tmp_path / "no.png"), message)
        assert not (tmp_path / "no.png").exists() and not (tmp_path / "a.gif").exists()
    _one_line_error(run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "--background",
                        tmp_path / "frame.png", "--out", tmp_path / "frame.png"), "an input of this command")
    assert (rgb(tmp_path / "frame.png") == teal).all()
    # A thumbnail (or another camera's frame) that the agents stand outside of is warned of.
    Image.fromarray(np.full((20, 30, 3), teal, np.uint8)).save(tmp_path / "thumb.png")
    r = run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "-k", 3,
            "--background", tmp_path / "thumb.png", "--out", out)
    assert r.exit_code == 0 and "stand outside its 30x20 pixels: is it the video's frame at full size" in r.output


def test_a_folder_of_a_videos_frames_puts_each_frame_under_its_moment(test_csv, tmp_path):
    """--background FOLDER (MOT's img1/000300.jpg): each picture, and each frame of an --animate GIF, is drawn
    over the image of its own frame id; a frame without an image, a folder without frames, and tracks timed in
    seconds (no frame ids to match) are refused in one line. One image under a GIF stays under every frame."""
    df = pd.read_csv(test_csv)
    frame = int(df.groupby("frame").size().idxmax())
    pixels = tmp_path / "pixels.csv"
    df.assign(x=df.x * 20, y=df.y * 20).to_csv(pixels, index=False)
    img1 = tmp_path / "img1"
    img1.mkdir()
    colour = {f: (f // 10 % 8 * 30, 100, 200 - f // 10 % 8 * 20) for f in range(0, int(df.frame.max()) + 1, 10)}
    for f, c in colour.items():
        Image.fromarray(np.full((200, 300, 3), c, np.uint8)).save(img1 / f"{f:06d}.png")

    def shows(img: np.ndarray, c) -> float:
        return float((np.abs(img - np.array(c)).max(-1) <= 3).mean())

    out = tmp_path / "over.png"
    r = run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "-k", 2,
            "--background", img1, "--out", out)
    assert r.exit_code == 0, r.output
    assert shows(rgb(out), colour[frame]) > 0.3
    gif = tmp_path / "a.gif"
    r = run("visualize", "pedestrian", pixels, "--scale", 0.05, "--animate", gif, "--frames", 3, "-k", 2,
            "--scene-frame", frame - 10, "--background", img1)
    assert r.exit_code == 0, r.output
    with Image.open(gif) as im:
        for i, f in enumerate((frame - 10, frame, frame + 10)):
            im.seek(i)
            assert shows(np.asarray(im.convert("RGB"), dtype=int), colour[f]) > 0.3
    still = tmp_path / "still.gif"
    r = run("visualize", "pedestrian", pixels, "--scale", 0.05, "--animate", still, "--frames", 2, "-k", 2,
            "--background", img1 / f"{frame:06d}.png")
    assert r.exit_code == 0 and still.exists(), r.output
    # At 30 frame ids a second, moments are 12 ids apart and fall between frames: each is drawn over the latest
    # frame at or before it, the last one too where it is past the video's last frame. (Started 20 ids before
    # the last frame: moments last - 20, last - 8 (between frames) and last + 4 (past the video's last frame).)
    r = run("visualize", "pedestrian", pixels, "--scale", 0.05, "--fps", 30, "--animate", gif, "--frames", 40,
            "-k", 2, "--scene-frame", max(colour) - 20, "--background", img1)
    assert r.exit_code == 0, r.output
    with Image.open(gif) as im:
        assert im.n_frames == 3
        im.seek(1)
        assert shows(np.asarray(im.convert("RGB"), dtype=int), colour[max(colour) - 10]) > 0.3
        im.seek(im.n_frames - 1)
        assert shows(np.asarray(im.convert("RGB"), dtype=int), colour[max(colour)]) > 0.3
    (img1 / f"{frame:06d}.png").unlink()
    _one_line_error(run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "--background",
                        img1, "--out", tmp_path / "no.png"), f"no image of frame {frame} or of the step before it")
    Image.fromarray(np.zeros((100, 150, 3), np.uint8)).save(img1 / f"{frame:06d}.png")  # a thumbnail among them
    _one_line_error(run("visualize", "pedestrian", pixels, "--scale", 0.05, "--animate", gif, "--frames", 2,
                        "--scene-frame", frame - 10, "--background", img1), "one video's frames are of one size")
    Image.fromarray(np.zeros((200, 300, 3), np.uint8)).save(img1 / f"cam2_{frame:06d}.jpg")
    _one_line_error(run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "--background",
                        img1, "--out", tmp_path / "no.png"), f"two images of frame {frame}")
    (img1 / f"cam2_{frame:06d}.jpg").unlink()
    before = (img1 / f"{frame - 10:06d}.png").read_bytes()  # a picture written over one of the frames
    _one_line_error(run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "--background",
                        img1, "--out", img1 / f"{frame - 10:06d}.png"), "is in the --background folder")
    assert (img1 / f"{frame - 10:06d}.png").read_bytes() == before
    (tmp_path / "empty").mkdir()
    _one_line_error(run("visualize", "pedestrian", pixels, "--scale", 0.05, "--scene-frame", frame, "--background",
                        tmp_path / "empty", "--out", tmp_path / "no.png"), "a folder without images named by frame")
    timed = tmp_path / "timed.csv"
    df.assign(x=df.x * 20, y=df.y * 20, frame=df.frame / 25).rename(columns={"frame": "time"}).to_csv(timed,
                                                                                                      index=False)
    _one_line_error(run("visualize", "pedestrian", timed, "--scale", 0.05, "--scene-frame", (frame + 10) / 25,
                        "--background", img1, "--out", tmp_path / "no.png"), "matched by frame id, and these tracks")
    assert not (tmp_path / "no.png").exists()


def test_background_images_of_any_depth_and_size_are_drawn_as_they_look(tmp_path):
    """A 16-bit frame is stretched from its darkest to its brightest value (not clipped to white); a large
    one is drawn reduced but still spans its own pixels."""
    from trajcvae.visualize import read_background

    deep = np.full((40, 60), 200 * 256, np.uint16)
    deep[:, ::10] = 120 * 256  # a darker grid
    Image.fromarray(deep).save(tmp_path / "deep.png")
    b = read_background(tmp_path / "deep.png")
    assert b.size == (60, 40) and set(np.unique(b.image)) == {0, 255}
    Image.fromarray(np.zeros((30, 9000, 3), np.uint8)).save(tmp_path / "wide.png")
    b = read_background(tmp_path / "wide.png")
    assert b.size == (9000, 30) and b.image.shape[1] <= 4096


@pytest.mark.parametrize("args,message", [
    (["--worst"], "add --grid N"),
    (["--grid", 2, "--worst", "--best"], "exclude each other"),
    (["--grid", 2, "--scene-frame", 100], "exclude each other"),
    (["--grid", 2, "--agent", 1], "do not combine with --grid"),
    (["--out", "x.jpg"], "unsupported image format '.jpg'"),
    (["--animate", "x.mp4"], "name it *.gif"),
    (["--animate", "a.gif", "--out", "p.png"],
     "--out p.png: an --animate GIF is written to a.gif alone; give --out or --animate, not both"),
    (["--size", "big"], "expected WIDTHxHEIGHT"),
    (["--density", "--density-steps", "some"], "expected one of all, final"),
    (["--frames", 5], "--frames 5 counts the frames of an animation: add --animate"),
    (["--frames", 40], "--frames 40 counts the frames of an animation: add --animate"),
    (["--density-steps", "final"], "--density-steps final says what the density is made of: add --density"),
    (["--density", "--density-steps", "final", "-k", 2], "a window's density of final positions needs 3 futures or "
     "more, and it has 2: draw more (-k), or shade all steps (--density-steps all)"),
    (["--density", "--density-steps", "final", "-k", 2, "--grid", 2], "needs 3 futures or more, and it has 2"),
])
def test_bad_options_are_one_line(trained, test_csv, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a case that stopped failing would write its fig.png there, not into the project
    _one_line_error(run("visualize", trained, test_csv, *args), message)
    assert list(tmp_path.iterdir()) == []


def test_too_many_futures_for_a_picture_are_refused_in_the_command_lines_words(trained, test_csv, monkeypatch,
                                                                             tmp_path):
    """visualize samples its window through the Python API's sample(), whose other fix (windows.subset) is no
    option of the command."""
    import trajcvae.predict as predict_module

    monkeypatch.setattr(predict_module, "free_memory", lambda: 300_000)  # under twice 500 futures of 12 steps
    r = run("visualize", trained, test_csv, "-k", 500)
    _one_line_error(r, "-k 500: 1 window of 500 futures needs about", "use a smaller -k")
    assert "windows.subset" not in r.output
    # A GIF holds every frame until it is written: frames too many or too large for the memory are refused
    # before the first is drawn (40 frames of 8000x8000 pixels need 13 GiB), and leave no file.
    monkeypatch.setattr(predict_module, "free_memory", lambda: 2 ** 27)  # 128 MiB; the frames need 88 MB
    r = run("visualize", trained, test_csv, "--animate", tmp_path / "a.gif", "--frames", 4, "--size", "2000x2000")
    _one_line_error(r, "--animate: 4 frames of 2000x2000 pixels, held until the GIF is written, need about",
                    "give a smaller --size or fewer --frames")
    assert not (tmp_path / "a.gif").exists()


@pytest.mark.parametrize("option,value", [("grid", 2.5), ("frames", 2.5), ("grid", "3")])
def test_the_apis_counts_are_whole_numbers(test_csv, tmp_path, option, value):
    from trajcvae.errors import TrajCVAEError
    from trajcvae.visualize import visualize

    extra = {"animate": tmp_path / "a.gif"} if option == "frames" else {}
    with pytest.raises(TrajCVAEError, match=f"^{option} must be a whole number"):
        out = {} if extra else {"out": tmp_path / "x.png"}  # (an animation's GIF is its only output)
        visualize("pedestrian", [test_csv], **out, **{option: value}, **extra)


def test_help_lists_picture_commands():
    r = run("--help")
    assert "visualize" in r.output and "plot-training" in r.output


def test_a_reliability_diagram_draws_each_split_and_a_mean_only_over_several():
    """The mean over one split is that split's curve: drawn on top, it hid the split's own under it."""
    from trajcvae.plots import plot_reliability

    def curves(coverage):
        return [line.get_label() for line in plot_reliability(coverage, [0.5, 0.9]).axes[0].lines]

    assert curves({"eth": [0.4, 0.8], "mean": [0.4, 0.8]}) == ["calibrated", "eth"]
    assert curves({"eth": [0.4, 0.8], "hotel": [0.6, 0.9], "mean": [0.5, 0.85]}) == ["calibrated", "eth", "hotel",
                                                                                      "mean"]
