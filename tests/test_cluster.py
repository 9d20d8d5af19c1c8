"""The k-means selection: K cluster means of N prior draws (a test-time strategy beside plain sampling)."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from trajcvae.cli import app
from trajcvae.cluster import kmeans_futures
from trajcvae.errors import TrajCVAEError
from trajcvae.metrics import min_ade_fde
from trajcvae.predict import TrajCVAE


def test_two_groups_give_their_two_means():
    # Six futures (P = 2 steps): three close to a path along +x, three close to a path along +y.
    right = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    up = torch.tensor([[0.0, 1.0], [0.0, 2.0]])
    shift = torch.tensor([0.1, -0.1, 0.0]).reshape(3, 1, 1)
    x = torch.cat([right + shift, up + shift]).unsqueeze(0)  # (1, 6, 2, 2)
    c = kmeans_futures(x, 2)
    assert c.shape == (1, 2, 2, 2)
    found = sorted(c[0].tolist())
    torch.testing.assert_close(torch.tensor(found), torch.stack(sorted([up, right], key=lambda t: t.tolist())))
    torch.testing.assert_close(kmeans_futures(x, 6), x)  # nothing to condense: the draws themselves


def test_selection_turns_and_scales_with_the_window():
    # Clustering in the agent frame is valid only because k-means commutes with rotation and scale.
    x = torch.randn(3, 40, 12, 2, generator=torch.Generator().manual_seed(0))
    a = 0.7
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    torch.testing.assert_close(kmeans_futures(2.5 * x @ rot.T, 5), 2.5 * kmeans_futures(x, 5) @ rot.T,
                               atol=1e-4, rtol=1e-4)


def test_sample_with_cluster_from(trained, sim_files):
    m = TrajCVAE.load(trained)
    w = m.make_windows([sim_files["test"]], every_window=True)
    plain = m.sample(w, k=5, seed=3)
    km = m.sample(w, k=5, seed=3, cluster_from=200)
    assert km.shape == plain.shape and np.isfinite(km).all()
    np.testing.assert_array_equal(km, m.sample(w, k=5, seed=3, cluster_from=200))  # seeded
    # Five cluster means of 200 draws cover the draws better than five draws do (best-of-5 against each draw).
    pool = m.sample(w, k=200, seed=3)  # the same 200 draws: same seed, same noise
    def cover(futs):  # mean over windows and draws of the distance to the nearest of `futs`
        d = np.linalg.norm(pool[:, :, None] - futs[:, None], axis=-1).mean(-1)  # (N, 200, 5)
        return d.min(-1).mean()
    assert cover(km) < cover(plain)
    with pytest.raises(TrajCVAEError, match="--cluster-from must be at least -k = 5"):
        m.sample(w, k=5, cluster_from=4)
    assert min_ade_fde(km, w.fut)[0].shape == (len(w),)


def test_cli_predict_and_evaluate_cluster_from(tmp_path, trained, sim_files):
    runner = CliRunner()
    out = tmp_path / "p.csv"
    r = runner.invoke(app, ["predict", str(trained), str(sim_files["test"]), "-k", "4", "--cluster-from", "3",
                            "--out", str(out)])
    assert r.exit_code == 1 and "--cluster-from must be at least -k = 4 (got 3)" in r.output
    assert not out.exists()  # refused before anything was written
    r = runner.invoke(app, ["predict", str(trained), str(sim_files["test"]), "-k", "4", "--cluster-from", "50",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert pd.read_csv(out)["sample"].nunique() == 4
    js = tmp_path / "e.json"
    r = runner.invoke(app, ["evaluate", str(trained), str(sim_files["test"]), "-k", "4", "--cluster-from", "50",
                            "--json", str(js)])
    assert r.exit_code == 0 and "k-means of 50 draws" in r.output, r.output
    assert json.loads(js.read_text())["cluster_from"] == 50
