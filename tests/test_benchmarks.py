"""The benchmark scripts' selection logic (not their timings): benchmarks/ is not a package, so load by path."""
import importlib.util
from pathlib import Path

import pytest

from .conftest import ETH_UCY

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
@pytest.mark.parametrize("holdout,key", [("hotel", "biwi_hotel"), ("students", "students")])
def test_cross_scene_files_hold_out_one_group_and_never_read_test(holdout, key):
    cs = load_script("cross_scene")
    split = ETH_UCY / "eth"
    tr, va, held = cs.cross_scene_files(split, holdout)
    assert tr and va and held
    assert all(key not in f.name for f in tr + va) and all(key in f.name for f in held)
    assert {f.parent.name for f in tr} == {"train"} and {f.parent.name for f in va} == {"val"}
    assert {f.parent.name for f in held} == {"train", "val"}  # the held-out group's own train + val files
    # Together they are exactly the split's train and val files: nothing from test, nothing lost.
    everything = sorted((split / "train").glob("*.txt")) + sorted((split / "val").glob("*.txt"))
    assert sorted(tr + va + held) == sorted(everything)


def test_cross_scene_refuses_an_unknown_group(tmp_path):
    cs = load_script("cross_scene")
    with pytest.raises(SystemExit, match="--holdout must be one of"):
        cs.cross_scene_files(tmp_path, "nowhere")
