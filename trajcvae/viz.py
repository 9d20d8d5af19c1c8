"""Samples -> pictures. Pure functions: arrays in, matplotlib Figures out (Agg; never shown)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .metrics import min_ade_fde  # noqa: E402

SAMPLE_COLOR = "#d62728"  # the predicted futures (tests look for this colour)
HISTORY_COLOR = "#1f77b4"
TRUTH_COLOR = "#2ca02c"


def draw_window(ax, obs: np.ndarray, samples: np.ndarray, fut: np.ndarray | None = None,
                nbr: np.ndarray | None = None, title: str | None = None, legend: bool = True) -> None:
    """One agent on `ax`: obs (T, 2), samples (K, P, 2), fut (P, 2) or None, nbr (M, T, 2) or None."""
    if nbr is not None:
        for i, track in enumerate(nbr):
            if np.isfinite(track).any():
                ax.plot(track[:, 0], track[:, 1], color="0.6", lw=1, label="neighbours" if i == 0 else None)
                ax.plot(*track[-1], "o", color="0.6", ms=3)
    t0 = obs[-1]
    for i, s in enumerate(samples):
        path = np.vstack([t0, s])
        ax.plot(path[:, 0], path[:, 1], color=SAMPLE_COLOR, alpha=0.35, lw=1,
                label=f"{len(samples)} predicted futures" if i == 0 else None)
    ax.scatter(samples[:, -1, 0], samples[:, -1, 1], s=8, color=SAMPLE_COLOR, alpha=0.7, zorder=3)
    ax.plot(obs[:, 0], obs[:, 1], "-o", color=HISTORY_COLOR, ms=3, lw=2, label="observed")
    if fut is not None:
        path = np.vstack([t0, fut])
        ax.plot(path[:, 0], path[:, 1], "--", color=TRUTH_COLOR, lw=2, label="true future")
        if title is None:
            ade, fde = min_ade_fde(samples[None], fut[None])
            title = f"minADE {ade[0]:.2f}  minFDE {fde[0]:.2f}"
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    if title:
        ax.set_title(title, fontsize=9)
    if legend:
        ax.legend(fontsize=7, loc="best")


def plot_windows(obs: np.ndarray, samples: np.ndarray, fut: np.ndarray | None = None,
                 nbr: np.ndarray | None = None, titles: list[str] | None = None, cols: int = 3,
                 size: float = 3.5) -> Figure:
    """A grid of windows: obs (N, T, 2), samples (N, K, P, 2), fut (N, P, 2), nbr (N, M, T, 2)."""
    n = len(obs)
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        draw_window(ax, obs[i], samples[i], None if fut is None else fut[i], None if nbr is None else nbr[i],
                    None if titles is None else titles[i], legend=i == 0)
    fig.tight_layout()
    return fig
