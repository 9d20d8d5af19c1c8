"""Samples -> pictures. Pure functions: arrays in, matplotlib Figures (or an Animation) out, never shown: each
Figure is its own, outside pyplot, so the caller's backend and open figures are left alone.

Every picture uses the same code of colours: observed history solid blue, true future dashed green,
the K sampled futures thin translucent red with opaque endpoints (a K-set's wider and more opaque the
more weight it carries), other agents grey, and (optionally) a kernel density of the predicted positions in
purple underneath.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator

from .metrics import known_min_ade_fde

SAMPLE_COLOR = "#d62728"  # the predicted futures (tests look for this colour)
HISTORY_COLOR = "#1f77b4"
TRUTH_COLOR = "#2ca02c"
OTHER_COLOR = "0.6"  # neighbours and agents without a prediction
DENSITY_CMAP = "Purples"  # no red in it, so SAMPLE_COLOR pixels always mean "a sample is here"
DPI = 100  # figure sizes below are in inches; pixels = inches * DPI
TITLE_SIZE = 9  # points, of each panel's title
# Which way positions in metres run (a `Windows`' or the tracks' `orient`) -> the axes' labels; "image": y
# grows down the image (SDD's and MOT's pixels, scaled), so the picture is drawn y-down, as the video is.
AXIS_LABELS = {"xy": ("x (m)", "y (m)"), "east_north": ("east of the scene's first position (m)", "north (m)"),
               "image": ("x (m, rightwards in the image)", "y (m, downwards in the image)")}


@dataclass
class SceneView:
    """One frame of a scene: what `draw_scene` needs."""

    frame: float
    tracks: list[np.ndarray]  # per predicted agent, its positions up to the frame: (T_i, 2)
    samples: np.ndarray  # (N, K, P, 2) futures of those agents
    fut: np.ndarray | None = None  # (N, P, 2) true futures, NaN where unknown
    others: list[np.ndarray] | None = None  # histories (T_i, 2) of agents present but not predicted
    weights: np.ndarray | None = None  # (N, K) a K-set's weights, or None for plain draws


def _subplots(size: tuple[float, float], rows: int = 1, cols: int = 1, **kwargs):
    """A Figure of `size` inches with its axes (`Figure.subplots`) on an Agg canvas of its own, made without
    pyplot: nothing is registered with, or switches, the process's backend."""
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, **kwargs)


def _finite(a: np.ndarray | None) -> bool:
    return a is not None and bool(np.isfinite(a).all())


def density_points(samples: np.ndarray, steps: str,
                   weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Positions the density is estimated from, and their weights: samples (..., K, P, 2) -> (M, 2), "all"
    steps or "final"; a K-set's weights (..., K) -> (M,), each future's on each of its points (None: equal)."""
    if steps not in ("all", "final"):
        raise ValueError(steps)
    pts = samples[..., -1, :] if steps == "final" else samples
    w = None if weights is None else np.broadcast_to(weights[..., None], pts.shape[:-1]) if steps == "all" else weights
    return pts.reshape(-1, 2), None if w is None else np.asarray(w, dtype=np.float64).reshape(-1)


def kernel_width(samples: np.ndarray, steps: str) -> float | None:
    """The kernel a crowd view's density needs, from its agents' own spreads: the widest over agents of
    half Scott's width of each agent's futures (samples (N, K, P, 2), "all" steps or "final"), so that
    standing agents' tight futures do not shrink it for the walkers; None if no agent's futures spread."""
    if not len(samples):
        return None
    pts = samples[:, :, -1] if steps == "final" else samples.reshape(len(samples), -1, 2)  # (N, M, 2)
    n = np.isfinite(pts).all(-1).sum(1)  # (N,)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an agent without a finite point
        spread = np.sqrt(np.nanmean(np.nanvar(pts, axis=1), axis=-1))  # (N,)
    width = 0.5 * spread * np.maximum(n, 1) ** (-1 / 6)
    width = width[(n >= 3) & (width > 0)]
    return float(width.max()) if len(width) else None


def density_grid(points: np.ndarray, weights: np.ndarray | None = None, grid: int = 120,
                 width: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A Gaussian KDE of `points` (M, 2), each of its weight (M,) where given, on a grid around them: X, Y, Z
    each (grid, grid); None if < 3 points (or no weight). `width` (`kernel_width`): the widest kernel the
    points' own agents ask for; where the KDE of all points would be more than 10 times wider (agents far
    apart: a scene 1 km wide), a histogram on a finer grid smoothed by `width` instead, so that each agent's
    futures are not blurred over tens of metres."""
    finite = np.isfinite(points).all(1)
    pts, w = points[finite], None if weights is None else weights[finite]
    if len(pts) < 3 or (w is not None and not w.sum() > 0):
        return None
    lo, hi = pts.min(0), pts.max(0)
    pad = 0.15 * max(float((hi - lo).max()), 1.0)
    xs = np.linspace(lo[0] - pad, hi[0] + pad, grid)
    ys = np.linspace(lo[1] - pad, hi[1] + pad, grid)
    X, Y = np.meshgrid(xs, ys)
    from scipy.stats import gaussian_kde
    try:
        # Scott's rule sizes the kernel from the spread of all points, which blurs two separate modes
        # into one blob; half of it keeps the modes of a multimodal prediction apart.
        kde = gaussian_kde(pts.T, weights=w)
        kde.set_bandwidth(kde.scotts_factor() * 0.5)
        if width is not None and np.sqrt(np.linalg.eigvalsh(kde.covariance).max()) > 10 * width:
            cells = int(min(1000, max(grid, np.ceil(float((hi - lo).max() + 6 * width) / (width / 1.5)))))
            xs = np.linspace(lo[0] - 3 * width, hi[0] + 3 * width, cells)
            ys = np.linspace(lo[1] - 3 * width, hi[1] + 3 * width, cells)
            X, Y = np.meshgrid(xs, ys)
            return X, Y, _smoothed_histogram(pts, w, xs, ys, (width / (ys[1] - ys[0]), width / (xs[1] - xs[0])))
        Z = kde(np.vstack([X.ravel(), Y.ravel()])).reshape(X.shape)
    except (np.linalg.LinAlgError, ValueError):
        # All points on a line or a single spot (e.g. an agent standing still): the KDE's covariance is
        # singular, so smooth a 2-D histogram instead.
        Z = _smoothed_histogram(pts, w, xs, ys, 2.0)
    return X, Y, Z


def _smoothed_histogram(pts: np.ndarray, w: np.ndarray | None, xs: np.ndarray, ys: np.ndarray,
                        sigma) -> np.ndarray:
    """A 2-D histogram of `pts` (weights `w`) on the grid of cells `xs` x `ys`, smoothed by a Gaussian of
    `sigma` cells (one, or (rows, columns)): (len(ys), len(xs))."""
    from scipy.ndimage import gaussian_filter

    H, _, _ = np.histogram2d(pts[:, 1], pts[:, 0], bins=(len(ys), len(xs)), range=[[ys[0], ys[-1]], [xs[0], xs[-1]]],
                             weights=w)
    return gaussian_filter(H, sigma=sigma)


def draw_density(ax, points: np.ndarray, weights: np.ndarray | None = None, levels: int = 9,
                 alpha: float = 0.75, width: float | None = None) -> bool:
    """Filled contours of `density_grid(points, weights, width=width)` under everything else; False if there
    is nothing to draw."""
    field = density_grid(points, weights, width=width)
    if field is None:
        return False
    X, Y, Z = field
    top = float(Z.max())
    if not np.isfinite(top) or top <= 0:
        return False
    # The lowest level is above zero so the background stays white where nothing is predicted.
    ax.contourf(X, Y, Z, levels=np.linspace(0.04 * top, top, levels), cmap=DENSITY_CMAP, alpha=alpha, zorder=0)
    return True


def _density_handle() -> Patch:
    return Patch(color=matplotlib.colormaps[DENSITY_CMAP](0.6), alpha=0.75, label="density of predicted positions")


def _draw_samples(ax, starts: np.ndarray, samples: np.ndarray, label: str | None, alpha: float = 0.35,
                  weights: np.ndarray | None = None) -> None:
    """Sampled futures: starts (N, 2), samples (N, K, P, 2); thin translucent paths, opaque endpoints.
    With a K-set's weights (N, K), each path's width, opacity and endpoint grow with its weight (relative
    to the agent's heaviest future)."""
    N, K, P, _ = samples.shape
    paths = np.concatenate([np.broadcast_to(starts[:, None, None, :], (N, K, 1, 2)), samples], axis=2)
    width, size, colors = 1.0, 9.0, SAMPLE_COLOR
    if weights is not None:
        rel = (weights / np.maximum(weights.max(1, keepdims=True), 1e-12)).reshape(-1)  # (N * K,) in [0, 1]
        width, size = 0.4 + 3.6 * rel, 3.0 + 30.0 * rel
        colors = [matplotlib.colors.to_rgba(SAMPLE_COLOR, 0.12 + 0.83 * r) for r in rel]
        alpha = None
        label = f"{label}, width by weight" if label else label
    # One LineCollection for all N * K paths: a crowd frame has hundreds of them.
    ax.add_collection(LineCollection(paths.reshape(N * K, P + 1, 2), colors=colors, alpha=alpha,
                                     linewidths=width, zorder=2, label=label))
    ax.autoscale_view()
    ends = samples[..., -1, :].reshape(-1, 2)
    ax.scatter(ends[:, 0], ends[:, 1], s=size, color=SAMPLE_COLOR, zorder=4, linewidths=0)


def plain(text: str) -> str:
    """`text` drawn as written: matplotlib reads text between two '$' as a formula (an agent 'pay$1$' would
    lose its '$'s, and '$\\frac$' fail to draw)."""
    return text.replace("$", r"\$")


def _axes_style(ax, title: str | None, legend: bool, extra_handles: list | None = None, orient: str = "xy") -> None:
    """Equal axes in metres, running as `orient` says (`AXIS_LABELS`), `title` broken onto lines at most 86% of `ax`'s
    column of its figure wide (80% in a figure of one column; `fit_title`), so neighbouring titles never meet, nor pass
    the figure's edge, however long an agent id or a scene's name, and a legend."""
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(AXIS_LABELS[orient][0])
    ax.set_ylabel(AXIS_LABELS[orient][1])
    if orient == "image" and not ax.yaxis_inverted():
        ax.invert_yaxis()
    if title:
        spec = ax.get_subplotspec()  # None for axes placed by hand: the figure's width
        cols = 1 if spec is None else spec.get_gridspec().ncols
        # Centred on the axes, which the column's y label pushes right of the column's centre.
        title = fit_title(title, (0.86 if cols > 1 else 0.8) * 72 * ax.figure.get_figwidth() / cols)
        ax.set_title(plain(title), fontsize=TITLE_SIZE)
    if legend:
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(handles=handles + (extra_handles or []), fontsize=7, loc="best")


def fit_title(title: str, width: float, fontsize: float = TITLE_SIZE) -> str:
    """`title` with each line broken so that none is wider than `width` points at `fontsize`: between its
    " · "-separated parts where that is enough, else at spaces, else after hyphens (a UUID's), else anywhere."""
    prop, measure = FontProperties(size=fontsize), TextToPath()

    def fits(text: str) -> bool:
        return measure.get_text_width_height_descent(text, prop, ismath=False)[0] <= width

    def wrap(text: str, seps: tuple[str, ...]) -> list[str]:
        if fits(text):
            return [text]
        if not seps:  # one word wider than the line: cut it where it reaches the width
            lines = [""]
            for ch in text:
                lines[-1:] = [lines[-1] + ch] if not lines[-1] or fits(lines[-1] + ch) else [lines[-1], ch]
            return lines
        parts, joint = text.split(seps[0]), seps[0]
        if joint == "-":  # a hyphen stays at the end of the line it breaks
            parts, joint = [p + "-" for p in parts[:-1]] + parts[-1:], ""
        lines, line = [], None
        for part in parts:
            if line is not None and fits(line + joint + part):
                line += joint + part
                continue
            if line is not None:
                lines += wrap(line, seps[1:])
            line = part
        return lines + wrap(line, seps[1:])

    return "\n".join(out for line in title.split("\n") for out in wrap(line, (" · ", " ", "-")))


def draw_window(ax, obs: np.ndarray, samples: np.ndarray, fut: np.ndarray | None = None,
                nbr: np.ndarray | None = None, title: str | None = None, legend: bool = True,
                density: str | None = None, weights: np.ndarray | None = None, orient: str = "xy") -> None:
    """One agent on `ax`: obs (T, 2), samples (K, P, 2), fut (P, 2) or None (NaN rows = unknown), nbr (M, T, 2)
    or None, a K-set's weights (K,) or None, in metres running as `orient` says (`AXIS_LABELS`). `density` "all" or
    "final" shades a KDE of the sampled positions (all steps or the last one; a K-set's weighted by its weights). When
    the whole true future is known, minADE/minFDE of the window are added to the title (over the points the futures
    have: `known_min_ade_fde`). The title is broken onto lines to fit `ax`'s column (`_axes_style`)."""
    extra = []
    if density and draw_density(ax, *density_points(samples, density, weights)):
        extra.append(_density_handle())
    if nbr is not None:
        first = True
        for track in nbr:
            if np.isfinite(track).any():
                ax.plot(track[:, 0], track[:, 1], color=OTHER_COLOR, lw=1, label="neighbours" if first else None)
                last = track[np.isfinite(track).all(1)][-1]
                ax.plot(*last, "o", color=OTHER_COLOR, ms=3)
                first = False
    t0 = obs[-1]
    _draw_samples(ax, t0[None], samples[None], f"{len(samples)} predicted future{'s' * (len(samples) != 1)}",
                  weights=None if weights is None else weights[None])
    ax.plot(obs[:, 0], obs[:, 1], "-o", color=HISTORY_COLOR, ms=3, lw=2, label="observed", zorder=5)
    if fut is not None and np.isfinite(fut).any():
        path = np.vstack([t0, fut])
        ax.plot(path[:, 0], path[:, 1], "--", color=TRUTH_COLOR, lw=2, label="true future", zorder=5)
        if _finite(fut):
            ade, fde = known_min_ade_fde(samples[None], fut[None])
            past = int(np.isnan(samples).any((1, 2)).sum())  # futures with points past a camera's horizon
            if np.isfinite(ade[0]):
                scores = f"minADE {ade[0]:.2f} m  minFDE {fde[0]:.2f} m"
                scores += f" ({past} of {len(samples)} futures past the horizon)" if past else ""
                title = f"{title}\n{scores}" if title else scores
    _axes_style(ax, title, legend, extra, orient)


def plot_windows(obs: np.ndarray, samples: np.ndarray, fut: np.ndarray | None = None,
                 nbr: np.ndarray | None = None, titles: list[str] | None = None, cols: int = 3,
                 size: float = 3.5, density: str | None = None, suptitle: str | None = None,
                 weights: np.ndarray | None = None, orient: str = "xy") -> Figure:
    """A grid of windows: obs (N, T, 2), samples (N, K, P, 2), fut (N, P, 2), nbr (N, M, T, 2), a K-set's
    weights (N, K), in metres running as `orient` says (`AXIS_LABELS`)."""
    n = len(obs)
    cols = max(1, min(cols, n))
    rows = int(np.ceil(n / cols))
    fig, axes = _subplots((size * cols, size * rows), rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        draw_window(ax, obs[i], samples[i], None if fut is None else fut[i], None if nbr is None else nbr[i],
                    None if titles is None else titles[i], legend=i == 0, density=density,
                    weights=None if weights is None else weights[i], orient=orient)
    legend = axes.flat[0].get_legend()
    if legend is not None and n > 1:  # the first window's legend names what any window draws
        shown = dict(zip((t.get_text() for t in legend.get_texts()), legend.legend_handles))
        for ax in axes.flat[1:n]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                shown.setdefault(label, handle)
        axes.flat[0].legend(handles=list(shown.values()), labels=list(shown), fontsize=7, loc="best")
    if suptitle:
        fig.suptitle(plain(suptitle), fontsize=10)
    return fig


def draw_scene(ax, view: SceneView, title: str | None = None, legend: bool = True,
               density: str | None = None, density_alpha: float = 0.75, orient: str = "xy") -> None:
    """Every agent of a scene at one frame, each with its K futures (the crowd view), in metres running as
    `orient` says (`AXIS_LABELS`)."""
    extra = []
    if density and len(view.samples) and draw_density(ax, *density_points(view.samples, density, view.weights),
                                                      alpha=density_alpha,
                                                      width=kernel_width(view.samples, density)):
        extra.append(_density_handle())
    for i, track in enumerate(view.others or []):
        ax.plot(track[:, 0], track[:, 1], "-", color=OTHER_COLOR, lw=1, label="not predicted" if i == 0 else None)
        ax.plot(*track[-1], "o", color=OTHER_COLOR, ms=4)
    if len(view.samples):
        starts = np.array([t[-1] for t in view.tracks])  # (N, 2)
        k = view.samples.shape[1]
        _draw_samples(ax, starts, view.samples, f"{k} predicted future{'s' * (k != 1)} per agent", alpha=0.25,
                      weights=view.weights)
        for i, track in enumerate(view.tracks):
            ax.plot(track[:, 0], track[:, 1], "-", color=HISTORY_COLOR, lw=1.5, zorder=5,
                    label="observed" if i == 0 else None)
        ax.plot(starts[:, 0], starts[:, 1], "o", color=HISTORY_COLOR, ms=4, zorder=6)
        if view.fut is not None:
            first = True
            for s, f in zip(starts, view.fut):
                if np.isfinite(f).any():
                    path = np.vstack([s, f])
                    ax.plot(path[:, 0], path[:, 1], "--", color=TRUTH_COLOR, lw=1.5, zorder=5,
                            label="true future" if first else None)
                    first = False
    _axes_style(ax, title, legend, extra, orient)


def plot_scene(view: SceneView, title: str | None = None, size: tuple[float, float] = (7.0, 7.0),
               density: str | None = None, background: np.ndarray | None = None,
               background_size: tuple[int, int] | None = None, orient: str = "xy") -> Figure:
    """The crowd view (in metres running as `orient` says); over `background` (an image: (h, w, 3 or 4)
    colours, or (h, w) grey), with the view in its pixels: pixel (0, 0) is the image's top-left one, v grows
    downwards, and the axes span the image's `background_size` (W, H; default its own shape: a reduced image
    still spans its file's pixels). The figure takes the image's shape, `size`'s width kept."""
    if background is not None:
        w, h = background_size or (background.shape[1], background.shape[0])
        size = image_figsize(size[0], (w, h))
    fig, ax = _subplots(size)
    if background is not None:
        _draw_image(ax, background, (w, h))
    draw_scene(ax, view, title, density=density, density_alpha=0.75 if background is None else 0.4, orient=orient)
    if background is not None:
        _image_axes(ax, (w, h))
    return fig


def image_figsize(width: float, size: tuple[int, int]) -> tuple[float, float]:
    """A figure `width` inches wide for a picture over an image of `size` (W, H) pixels: the image's shape,
    plus an inch for the title and the axis labels."""
    return width, width * size[1] / size[0] + 1.0


def _draw_image(ax, image: np.ndarray, size: tuple[int, int]) -> None:
    """An image under everything else, spanning `size` (W, H) pixels: pixel (0, 0) its top-left one."""
    grey = {"cmap": "gray", "vmin": 0, "vmax": 255} if image.ndim == 2 else {}
    ax.imshow(image, extent=(-0.5, size[0] - 0.5, size[1] - 0.5, -0.5), zorder=0, **grey)


def _image_axes(ax, size: tuple[int, int]) -> None:
    """Axes spanning an image of `size` (W, H) pixels, v downwards, labelled in pixels."""
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(-0.5, size[0] - 0.5)
    ax.set_ylim(size[1] - 0.5, -0.5)
    ax.set_xlabel("u (pixels)")
    ax.set_ylabel("v (pixels)")


def animate_scene(views: list[SceneView], titles: list[str], limits: tuple[tuple[float, float], ...],
                  size: tuple[float, float] = (6.0, 6.0), density: str | None = None,
                  backgrounds: list[tuple[np.ndarray, tuple[int, int]]] | None = None, orient: str = "xy"
                  ) -> tuple[Figure, Callable[[int], None]]:
    """The scene over time: one `SceneView` per animation frame, drawn into fixed `limits` ((x0, x1), (y0, y1))
    so the view does not jump (y downwards for `orient` "image"); over `backgrounds` (per frame, an image and the (W, H)
    pixels it spans, the views in those pixels, as `plot_scene`'s). Returns the figure and `draw(i)`, which draws frame
    i into it: save each frame once it is drawn (matplotlib's FuncAnimation would draw every frame twice)."""
    fig, ax = _subplots(size)

    def draw(i: int) -> None:
        ax.clear()
        if backgrounds:
            _draw_image(ax, *backgrounds[i])
        draw_scene(ax, views[i], titles[i], legend=True, density=density,
                   density_alpha=0.4 if backgrounds else 0.75, orient=orient)
        ax.set_aspect("equal", adjustable="box")  # fixed limits: the box, not the data, gives way
        ax.set_xlim(*limits[0])
        ax.set_ylim(*(limits[1][::-1] if orient == "image" and not backgrounds else limits[1]))
        if backgrounds:
            _image_axes(ax, backgrounds[i][1])

    return fig, draw


def plot_reliability(coverage: dict[str, list[float]], levels, size: tuple[float, float] = (5.0, 5.0),
                     title: str = "calibration of plain sampling") -> Figure:
    """Reliability diagram: for each named curve, the share of truths inside the p highest-density region
    against p. On the diagonal, the probabilities are honest; below it, too sharp; above it, too wide. The mean
    over one split is that split's curve: it is drawn once, under the split's name."""
    fig, ax = _subplots(size)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="calibrated")
    if len(coverage) == 2 and "mean" in coverage:
        coverage = {name: cov for name, cov in coverage.items() if name != "mean"}
    for name, cov in coverage.items():
        bold = name in ("mean", "overall")
        ax.plot(levels, cov, marker="o", markersize=3, linewidth=2.2 if bold else 1.2,
                color="black" if bold else None, label=plain(name))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("p (highest-density region of the predicted endpoints)")
    ax.set_ylabel("share of true endpoints inside it")
    ax.set_title(plain(title))
    ax.legend(fontsize=8, loc="upper left")
    return fig


CURVES = [  # panel title, [(metrics column, label)]
    ("NLL (nats / window)", [("train_nll", "train"), ("val_nll", "val")]),
    ("KL(q || p) (nats / window)", [("train_kl", "train"), ("val_kl", "val")]),
    ("ELBO (nats / window, higher is better)", [("train_elbo", "train"), ("val_elbo", "val")]),
    ("validation best-of-K error (m)", [("val_min_ade", "val minADE"), ("val_min_fde", "val minFDE")]),
]


CURVE_COLUMNS = ["epoch"] + [c for _, lines in CURVES for c, _ in lines]  # what `plot_curves` reads


def _robust_ylim(ax, values: np.ndarray, keep: np.ndarray | None = None) -> None:
    """Epoch 1 of a CVAE often sits far off the rest (NLL 100 vs -5); scale to the later epochs so the
    curve's shape stays readable, leaving the first point off the top of the panel, unless `keep` (E,) says
    it is to be seen (the best epoch's, on the panel best.pt is picked on)."""
    v = values[:, 1:] if values.shape[1] > 3 and not (keep is not None and keep[0]) else values
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return
    lo, hi = float(v.min()), float(v.max())
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    ax.set_ylim(lo - pad, hi + pad)


def best_row(metrics: pd.DataFrame, beta: float | None = None) -> pd.Series | None:
    """The epoch `train` would pick for best.pt from metrics alone: the best val minADE among the epochs
    trained with the run's full KL weight `beta` (default: the largest recorded); None before any such epoch
    was validated. (A run shorter than its KL anneal picks among its last epochs; best.pt says which.)"""
    if "beta" in metrics:
        full = metrics[metrics["beta"] >= (metrics["beta"].max() if beta is None else beta) - 1e-9]
    else:
        full = metrics
    full = full[full["val_min_ade"].notna()]
    return None if full.empty else full.loc[full["val_min_ade"].idxmin()]


def plot_curves(metrics: pd.DataFrame, title: str | None = None, size: tuple[float, float] = (10, 7),
                best: int | None = None) -> Figure:
    """Training curves from a run's metrics.csv: NLL, KL, ELBO (train and val), val minADE/minFDE per epoch.
    The epoch `best` (the one best.pt holds) is marked."""
    fig, axes = _subplots(size, 2, 2, sharex=True)
    epoch = metrics["epoch"].to_numpy()
    for ax, (name, cols) in zip(axes.flat, CURVES):
        values = np.array([metrics[c].to_numpy(dtype=float) for c, _ in cols])  # (C, E)
        for (col, label), v in zip(cols, values):
            ax.plot(epoch, v, "-o", ms=2.5, lw=1.5, label=label)
        if best is not None:
            ax.axvline(best, color="0.5", ls=":", lw=1, label=f"best epoch ({best})")
        picked = best is not None and cols[0][0] == "val_min_ade"  # the panel best.pt is picked on
        _robust_ylim(ax, values, epoch == best if picked else None)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
    if len(epoch) and epoch.min() == epoch.max():  # one epoch: a span with whole numbers in it
        axes[1][0].set_xlim(epoch.min() - 1, epoch.max() + 1)
    if title:
        fig.suptitle(plain(title), fontsize=10)
    return fig
