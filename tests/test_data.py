import numpy as np
import pandas as pd
import pytest

from trajcvae.tracks import read_tracks
from trajcvae.errors import DataError
from trajcvae.tracks import time_steps

from .conftest import ETH_UCY, write

needs_eth_ucy = pytest.mark.skipif(not ETH_UCY.is_dir(), reason="../shared/datasets/eth_ucy is not beside the project")


@needs_eth_ucy
def test_reads_real_eth_ucy_files():
    df = read_tracks([ETH_UCY / "eth" / "test" / "biwi_eth.txt", ETH_UCY / "hotel" / "test"])
    raw = np.loadtxt(ETH_UCY / "eth" / "test" / "biwi_eth.txt")
    eth = df[df.scene == "biwi_eth"]
    assert len(eth) == len(raw)  # every row accounted for
    assert set(df.scene) == {"biwi_eth", "biwi_hotel"}
    assert eth.agent_id.dtype == np.int64
    first = eth[(eth.agent_id == int(raw[0, 1])) & (eth.frame == raw[0, 0])]
    np.testing.assert_allclose(first[["x", "y"]].to_numpy()[0], raw[0, 2:4])
    assert time_steps(df).step == {"biwi_eth": 10.0, "biwi_hotel": 10.0}


def test_csv_header_any_order_and_case_extra_columns(tmp_path):
    f = write(tmp_path / "a.csv", "Y,X,Agent_ID,Frame,speed\n1.5,2.5,7,0,9\n1.6,2.6,7,10,9\n")
    df = read_tracks([f])
    assert list(df[["frame", "agent_id", "x", "y"]].iloc[0]) == [0, 7, 2.5, 1.5]
    assert df.scene.iloc[0] == "a"  # the file's stem


def test_scene_column_and_directories(tmp_path):
    (tmp_path / "d").mkdir()
    write(tmp_path / "d" / "one.csv", "scene,frame,agent_id,x,y\nA,0,1,0,0\nB,0,1,0,0\n")
    write(tmp_path / "d" / "two.txt", "0 1 0 0\n10 1 1 0\n")
    df = read_tracks([tmp_path / "d"])
    assert sorted(df.scene.unique()) == ["A", "B", "two"]
    assert len(df) == 4


def test_string_agent_ids_are_kept(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,ped_a,0,0\n10,ped_a,1,0\n")
    assert list(read_tracks([f]).agent_id) == ["ped_a", "ped_a"]


@pytest.mark.parametrize("text,expected", [
    ("frame,agent,x,y\n0,1,0,0\n", "missing column(s) agent_id"),
    ("frame,agent_id,x,y\n0,1,0,0\n10,1,abc,0\n", "line 3: column 'x' value 'abc' is not a number"),
    ("frame,agent_id,x,y\n0,1,0,nan\n", "line 2: column 'y' value 'nan' is not finite"),
    ("frame,agent_id,x,y\n0,1,inf,0\n", "line 2: column 'x' value 'inf' is not finite"),
    ("frame,agent_id,x,y\n0,1,0,\n", "line 2: column 'y' value nan is missing"),
    ("frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n0,1,5,5\n", "line 4: duplicate (scene, frame, agent_id)"),
    ("", "empty file"),
    ("\n\n", "empty file"),
    ("frame,agent_id,x,y\n", "empty file"),
    ("0 1 0\n", "headerless files must be 'frame agent_id x y'"),
])
def test_bad_input_gives_one_line_error(tmp_path, text, expected):
    f = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError) as e:
        read_tracks([f])
    msg = str(e.value)
    assert expected in msg and str(f) in msg and "\n" not in msg


def test_binary_file_is_refused(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(DataError, match="not a text file"):
        read_tracks([f])


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_tracks([tmp_path / "nope.csv"])


def test_frames_out_of_order_are_sorted(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n20,1,2,0\n0,1,0,0\n10,1,1,0\n")
    assert list(read_tracks([f]).frame) == [0, 10, 20]


def test_time_step_is_the_most_common_difference(track_table):
    s = time_steps(read_tracks(track_table))
    assert s.step == {"s": 10.0}
    assert s.gaps == 1 and s.segments == 3  # agent 2 is split in two by its missing frame
    assert time_steps(read_tracks(track_table), time_step=5).step == {"s": 5.0}


def test_dataframe_input_is_validated():
    with pytest.raises(DataError, match="missing column"):
        read_tracks(pd.DataFrame({"frame": [0], "x": [0.0], "y": [0.0]}))
