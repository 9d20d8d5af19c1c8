"""Reading files into tracks: every row accounted for, every problem named in one line."""
import bz2
import gzip
import io
import json
import lzma
import re
import tarfile
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trajcvae import checks, formats, table, tracks
from trajcvae.errors import DataError, TrajCVAEError, TrajCVAEWarning
from trajcvae.checks import summarize, time_steps
from trajcvae.tracks import read_tracks

from tests.helpers import ETH_UCY, cli, one_line_error, write


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


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_agent_ids_come_back_as_written(tmp_path, suffix):
    """Ids with leading zeros stay text as written ("007", and "01" and "1" are two agents), so predictions
    join back onto the user's table; ids that are whole numbers as written (ETH/UCY's 1.0) are integers."""
    padded = pd.DataFrame({"frame": [0, 10, 0, 10, 0, 10], "agent_id": ["007", "007", "01", "01", "1", "1"],
                           "x": [0.0, 0.4, 5, 5.4, 9, 9.4], "y": 0.0})
    f = tmp_path / f"a{suffix}"
    padded.to_csv(f, index=False) if suffix == ".csv" else padded.to_parquet(f)
    assert sorted(read_tracks([f]).agent_id.unique()) == ["007", "01", "1"]
    whole = write(tmp_path / "b.txt", "0 1.0 0 0\n10 1.0 0.4 0\n0 12.0 5 0\n10 12.0 5.4 0\n")
    assert list(read_tracks([whole]).agent_id.unique()) == [1, 12]


def test_times_a_float_no_longer_resolves_to_a_thousandth_are_refused_naming_the_unit_they_fit(tmp_path):
    """Frame ids near 1e13 are 0.002 apart as float64: steps lose their length, refused by line; a time of
    5e17 (nanoseconds since 1970: 1985; as microseconds it would be the year 17,800) is asked about as
    time_ns first."""
    f = write(tmp_path / "f.csv", "frame,agent_id,x,y\n0,1,0,0\n1e13,1,0.5,0\n")
    with pytest.raises(DataError, match=r"f.csv line 3: frame 1e\+13 is too large to tell its steps apart \(numbers "
                                        r"near it are 0.00195 apart\)"):
        read_tracks([f])
    t = write(tmp_path / "t.csv", "time,agent_id,x,y\n5e17,1,0,0\n")
    with pytest.raises(DataError, match=r"are read with (--)?columns time_ns=time \(or time_ms, time_us\)"):
        read_tracks([t])


def test_ids_no_float_holds_signed_padded_or_all_written_as_missing_marks_stay_agents_of_their_own(tmp_path):
    """Two ids a float64 cannot tell apart (2**53 and 2**53 + 1), "-07" beside "-7", and ids that are all
    written as missing values' marks ("NA", "None": names, where no id is a number) are two agents each, kept
    as written, never merged into one agent's duplicate rows nor refused as missing."""
    for a, b in (("9007199254740993", "9007199254740992"), ("-07", "-7"), ("NA", "None")):
        f = write(tmp_path / "t.csv", f"frame,agent_id,x,y\n0,{a},0,0\n10,{a},0.5,0\n0,{b},3,0\n10,{b},3.5,0\n")
        assert sorted(map(str, read_tracks([f]).agent_id.unique())) == sorted([a, b])


def test_a_dataframes_integer_ids_come_back_as_the_integers_they_are():
    """Python ints in an object column (pd.DataFrame(records), a column built row by row) came back as text
    ('1'), and int64 ids beyond 2**53 too: merged back onto the caller's table, futures matched no agent."""
    given = pd.DataFrame({"time": [0.0, 0.4] * 3, "agent_id": [1, 1, 2, 2, 2 ** 60 + 1, 2 ** 60 + 1],
                          "x": [0.0, 0.5, 3.0, 3.5, 6.0, 6.5], "y": 0.0})
    for ids in (given.agent_id, given.agent_id.astype(object), given.agent_id.astype("Int64")):
        got = read_tracks(given.assign(agent_id=ids)).agent_id
        assert got.dtype == np.int64 and sorted(set(got)) == [1, 2, 2 ** 60 + 1]
    mixed = given.assign(agent_id=[1, 1, "b", "b", True, True])  # not all integers: each kept as written
    assert sorted(map(str, read_tracks(mixed).agent_id.unique())) == ["1", "True", "b"]
    flags = given.iloc[:4].assign(agent_id=pd.Series([True, True, False, False], dtype=object))  # no integers
    assert sorted(read_tracks(flags).agent_id.unique()) == ["False", "True"]
    huge = given.assign(agent_id=np.array([2 ** 63 + 1] * 2 + [2 ** 63 + 2] * 2 + [5] * 2, dtype=np.uint64))
    assert sorted(read_tracks(huge).agent_id.unique()) == ["5", str(2 ** 63 + 1), str(2 ** 63 + 2)]  # beyond int64


def test_a_signalling_nan_decimal_is_a_missing_value_named_in_its_row():
    """Decimal("sNaN") takes no comparison (pandas' isna raised decimal.InvalidOperation): missing, as NaN."""
    import decimal

    given = pd.DataFrame({"time": [0.0, 0.4, 0.8], "agent_id": [1, 1, 1], "x": [decimal.Decimal("0.5")] * 3,
                          "y": 0.0}).astype({"agent_id": object})
    for column, said in (("x", "dataframe.iloc[1]: column 'x' is empty"),
                         ("agent_id", "dataframe.iloc[1]: empty 'agent_id'")):
        bad = given.copy()
        bad.loc[1, column] = decimal.Decimal("sNaN")
        with pytest.raises(DataError, match=re.escape(said)):
            read_tracks(bad)


def test_json_records_or_columns_read_as_the_same_table(tmp_path, sim_files):
    """A JSON file of records (pandas' to_json(orient="records"), or JSON Lines), of columns (its default
    to_json()), or in pandas' other layouts with column names, named .json, reads as the CSV of the same table
    does, values keeping their JSON types; its mistakes are one line naming the row; JSON under another name
    is named as such, and a folder's JSON files are read only when named."""
    table = pd.read_csv(sim_files["test"]).rename(columns={"frame": "time"}).assign(time=lambda d: d.time / 25)
    table["agent_id"] = "p" + table.agent_id.astype(str)
    table.to_csv(tmp_path / "t.csv", index=False)
    expected = read_tracks([tmp_path / "t.csv"]).drop(columns=["_file", "_line"])
    table.to_json(tmp_path / "lines.json", orient="records", lines=True)
    write(tmp_path / "wrapped.json", '{"tracks": ' + table.to_json(orient="records") + "}")
    for orient in ("records", "columns", "split", "index", "table", "lines", "wrapped"):
        if orient not in ("lines", "wrapped"):
            table.to_json(tmp_path / f"{orient}.json", orient=orient)
        got = read_tracks([tmp_path / f"{orient}.json"])
        pd.testing.assert_frame_equal(got.drop(columns=["_file", "_line"]), expected)
        assert got.attrs["time_base"] == "seconds" and set(got.scene) == {"test0"}  # its scene column
    pd.testing.assert_frame_equal(
        read_tracks([write(tmp_path / "pretty.json", '[\n {"frame": 0, "id": 7, "x": 1.5, "y": 2},\n {"frame": 10, '
                           '"id": 7, "x": 1.9, "y": 2}\n]')])[["frame", "agent_id", "x", "y"]],
        pd.DataFrame({"frame": [0.0, 10.0], "agent_id": [7, 7], "x": [1.5, 1.9], "y": [2.0, 2.0]}))
    # A label of whole numbers beside a null stays whole numbers (not 1.0), as in a CSV.
    labelled = read_tracks([write(tmp_path / "labels.json", '[{"frame": 0, "id": 7, "x": 1, "y": 2, "class": 1}, '
                                  '{"frame": 10, "id": 7, "x": 1.4, "y": 2, "class": null}]')])
    assert labelled["class"].tolist() == ["1", ""] and labelled.agent_id.tolist() == [7, 7]
    nan_label = '[{"frame": 0, "id": 7, "x": 1, "y": 2, "class": NaN}, {"frame": 10, "id": 7, "x": 1.4, "y": 2}]'
    assert read_tracks([write(tmp_path / "nan_label.json", nan_label)])["class"].tolist() == ["", ""]
    for text, expected_error in (
            ('[{"time": 0, "agent_id": 1, "x": 1, "y": 2},\n{"time": 0.4, "agent_id": 1, "x": "oops", "y": 2}]',
             "bad.json row 2: column 'x' value 'oops' is not a number"),
            ('[{"time": 0, "agent_id": 1, "x": 1, "y": 2}, [1, 2]]', "bad.json row 2: an array, not a record; write "
                                                                    'records, [{"time": 0.4'),
            ('[[0, 1, 1, 2], [0.4, 1, 1.5, 2]]', "bad.json: an array of arrays, whose values have no column names"),
            ('{"time": [0, 1], "x": [1]}', "bad.json: its columns are of different lengths"),
            ('{"scene": "cam1", "time": [0, 1]}', "bad.json: its key 'scene' holds a string, not a column of values"),
            ('[{"time": 0, "agent_id": 1, "x": 1, "x": 2, "y": 2}]', "bad.json: a record gives 'x' twice; keep one"),
            ('[{"time": 0, "agent_id": {"id": 1}, "x": 1, "y": 2}]', "bad.json row 1: column 'agent_id' holds an "
                                                                     "object, not a value"),
            ('[{"time": 0, "agent_id": 1, "x": NaN, "y": 2}]', "bad.json row 1: column 'x' value 'NaN' is not finite"),
            ('[{"time": 0, "agent_id": NaN, "x": 1, "y": 2}]', "bad.json row 1: column 'agent_id' holds NaN, not an "
             "id (every row needs its agent's id)"),  # Python's json.dumps of a float NaN id
            ('[{"time": 0, "agent_id": 1, "scene": -Infinity, "x": 1, "y": 2}]', "bad.json row 1: column 'scene' holds "
             "-Infinity, not an id"),
            ('[{"time": 0,\n "x": 1,', "bad.json line 2: not JSON"),
            ('{"time": 0, "agent_id": 1, "x": 1, "y": 2}\n{"time": 0.4,', "bad.json line 2: not JSON"),
            ("[]", "bad.json: empty file (no rows)"),
            ("42", "bad.json: expected a JSON array of records, or an object of columns; it holds a number"),
            ('[{"t": 0, "id": 1, "px": 1, "py": 2}]', "bad.json: missing column(s) x, y (or lon, lat in degrees) "
                                                      "(have: t, id, px, py)")):
        assert expected_error in read_error(write(tmp_path / "bad.json", text))
    for name, text in (("j.txt", table.head(50).to_json(orient="records")), ("v.csv", table.to_json(orient="values")),
                       ("p.txt", table.head(50).to_json(indent=2))):
        assert read_error(write(tmp_path / name, text)).endswith(
            f"{name}: JSON, not a CSV/text table; name it {name[0]}.json to read it as JSON")
    table.head(50).to_json(tmp_path / "l.jsonl", orient="records", lines=True)  # JSON Lines, not TrajNet++'s
    assert len(read_tracks([tmp_path / "l.jsonl"])) == 50
    (tmp_path / "folder").mkdir()
    table.to_json(tmp_path / "folder" / "a.json", orient="records")
    with pytest.raises(DataError, match=r"folder: directory holds no .*, only JSON files \(a.json\), which are "
                                        r"read when named"):
        read_tracks([tmp_path / "folder"])
    (tmp_path / "folder" / "a.json").rename(tmp_path / "folder" / "a.jsonl")  # JSON Lines alike
    with pytest.raises(DataError, match=r"folder: directory holds no .*, only JSON files \(a.jsonl\), which are "
                                        r"read when named"):
        read_tracks([tmp_path / "folder"])
    table.head(50).to_csv(tmp_path / "folder" / "b.csv", index=False)  # beside tracks, it is skipped, and said
    with pytest.warns(TrajCVAEWarning, match=r"folder: skipped 1 JSON file \(a.jsonl\): a folder's JSON is "
                                             r"not read, as datasets keep maps and metadata in it; name a JSON file of "
                                             r"tracks to read it"):
        assert len(read_tracks([tmp_path / "folder"])) == 50


@pytest.mark.parametrize("text,expected", [
    ("frame,agent,x,y\n0,1,0,0\n", "missing column(s) agent_id"),
    ("frame,agent_id,x,y\n0,1,0,0\n10,1,abc,0\n", "line 3: column 'x' value 'abc' is not a number"),
    ("frame,agent_id,x,y\n0,1,0,nan\n", "line 2: column 'y' value 'nan' is not finite"),
    ("frame,agent_id,x,y\n0,1,inf,0\n", "line 2: column 'x' value 'inf' is not finite"),
    ("frame,agent_id,x,y\n0,1,0,\n", "line 2: column 'y' is empty"),
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


def test_dataframe_input_is_validated(tmp_path):
    with pytest.raises(DataError, match="missing column"):
        read_tracks(pd.DataFrame({"frame": [0], "x": [0.0], "y": [0.0]}))
    # A DataFrame in a list (train([df], ...)) is named as such, not a TypeError from inside.
    from trajcvae.config import load_config
    from trajcvae.train import train

    table = pd.DataFrame({"frame": [0, 10], "agent_id": [1, 1], "x": [0.0, 0.5], "y": [0.0, 0.0]})
    for call in (lambda: read_tracks([table]), lambda: train([table], None, load_config(None), "never_made")):
        with pytest.raises(DataError, match=r"^expected file paths or one DataFrame as the data, got a list holding "
                                            r"a DataFrame: give the DataFrame itself \(several: pd.concat them"):
            call()
    assert not Path("never_made").exists()
    # A path as bytes, or one column of a table, is named as what it is (not as the ints or floats in it); a
    # column of paths is paths.
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    assert len(read_tracks(pd.Series([str(path)]))) == 2
    for data, said in ((b"/x.csv", "bytes: give a path as text (str) or a Path"),
                       (table["x"], "Series: give the DataFrame that holds it"),
                       (np.asarray(str(path)), "ndarray: give paths as a list")):
        with pytest.raises(DataError, match=rf"^expected file paths or a DataFrame as the data, got "
                                            rf"{re.escape(said)}$"):
            read_tracks(data)


def read_error(path) -> str:
    with pytest.raises(DataError) as e:
        read_tracks([path])
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    return msg


# --- bad input: clear one-line errors -----------------------------------------------------------------

@pytest.mark.parametrize("content,expected", [
    (b'{"frame": 0, "agent_id": 1, "x": 0, "y": 0}\n', "JSON, not a CSV/text table; name it bad.json to read it as JSON"),
    (b"<html><body>404 not found</body></html>\n", "bad.csv: HTML or XML, not a CSV/text table (a web page saved "
     "in place of the data, or an XML export: export the tracks as CSV or MOT)"),
    (b"<!DOCTYPE html>\n<html lang='en'>\n", "HTML or XML, not a CSV/text table"),
    (b"<!-- saved from url=(0042)https://example.org/tracks.csv -->\n<html>\n", "HTML or XML, not a CSV/text"),
    (b"<?xml version='1.0'?>\n<annotations>\n", "HTML or XML, not a CSV/text table"),  # CVAT's XML export
    (b"<headcount>,agent_id,x,y\n1,1,0,0\n", "missing column(s) frame"),  # a header cell, not a page
    (b"\xff\xfef\x00r\x00a\x00m\x00e\x00,\x00a\x00", "NUL bytes"),  # UTF-16 text
    (b"frame,agent_id,x,y,label\n0,1,0,0,v\xe9lo\n", "line 2: not UTF-8 text (byte 0xE9); a file saved as "
     "Windows-1252 or Latin-1? Save it as UTF-8 (iconv -f cp1252 -t utf-8 bad.csv > bad-utf8.csv; on Windows, "
     "Save As in Excel or Notepad with the encoding UTF-8)"),  # Excel's é
    (b"frame,agent_id,x,y\n0,1,\xef\xbc\x91\xef\xbc\x93.4,0\n", "line 2: column 'x' value '\uff11\uff13.4' is not a "
     "number (digits of another script or width: write ASCII digits, 0-9)"),  # full-width digits
    ("frame,agent_id,x,y\n0,1,\u22121.5,0\n".encode(), "line 2: column 'x' value '\u22121.5' is not a number (a "
     "typographic dash \u2212 as its sign: write the ASCII minus, -)"),  # a word processor's minus sign
    (b"time_ms,agent_id,x,y\n0,1,0,0\n", "(have: time_ms, agent_id, x, y); read a column of another name as it with "
     "columns time_ms=time_ms"),  # not time=<column> (seconds)
    (b"frame,agent_id,gps_lon,GPS_Lat\n0,1,8.5,47.3\n", "(have: frame, agent_id, gps_lon, GPS_Lat); read a column of "
     "another name as it with columns lon=gps_lon,lat=GPS_Lat"),  # degrees under other names: not x=, y=
    (b"frame,agent_id,along,lateral\n0,1,8.5,47.3\n", "with columns x=<column>,y=<column>"),  # (no lon, no lat)
    (b"frame,agent_id,lon_m,lat_m\n0,1,8.5,47.3\n", "with columns x=<column>,y=<column>"),  # (metres, not degrees)
    (b'1 826.2 578.4 846.2 618.4 0 0 0 0 Golf Cart\n', 'bad.csv line 1: an SDD annotation whose label (Golf Cart) is '
     'not quoted: write it "Golf Cart", as SDD\'s files write labels'),  # not a header of numbers
    (b'0 100 200 110 220 0 0 0 0 "Biker"\n0 101 200 111 220 12 0 0 0 Golf Cart\n', 'line 2: 11 fields where the first '
     'row has 10 (an SDD label of words not quoted? write it as "Golf Cart")'),
    (b"frame,agent_id,x,y\n" + b"0,1,0,0\n" * (formats.SNIFF_BYTES // 8) + b"10,1,\xe9,0\n",
     f"line {formats.SNIFF_BYTES // 8 + 2}: not UTF-8 text (byte 0xE9)"),  # after 1 MiB
    (b"PK\x03\x04" + bytes(range(256)) * 8, "bad.csv: a ZIP archive; extract it first (unzip bad.csv), then give "
     "the files it holds"),
    (gzip.compress(b"frame,agent_id,x,y\n0,1,0,0\n"), "gzip-compressed; decompress it first (gunzip)"),
    (bz2.compress(b"frame,agent_id,x,y\n0,1,0,0\n"), "bzip2-compressed; decompress it first (bunzip2)"),
    (lzma.compress(b"frame,agent_id,x,y\n0,1,0,0\n"), "xz-compressed; decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd" + bytes(range(1, 60)), "zstd-compressed; decompress it first (unzstd)"),
    (b"7z\xbc\xaf\x27\x1c" + bytes(range(1, 60)), "a 7-Zip archive; extract it first (7z x bad.csv)"),
    (b"Rar!\x1a\x07\x01" + bytes(range(1, 60)), "a RAR archive; extract it first (unrar x bad.csv)"),
    (b"a.csv".ljust(257, b"\x00") + b"ustar\x0000" + bytes(250), "a tar archive; extract it first (tar -xf bad.csv)"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n", "bad.csv: a Git LFS pointer, not "
     "the data (the repository was cloned without Git LFS): fetch the data with git lfs pull"),
    (b"# exported by tracker v1.2\nframe,agent_id,x,y\n0,1,0,0\n", "line 1 is a comment (# exported by tracker "
     "v1.2), not a header or a row: delete the comment lines above the first row"),
    (b"\n% MATLAB export of a long name, longer than forty letters\n0 1 0 0\n", "line 2 is a comment (% MATLAB "
     "export of a long name, longer t ...)"),
    (b"   \n\t\n\n", "empty file"),
    (b"x" * (formats.SNIFF_BYTES + 10), "longer than 1 MiB"),  # one endless line: not a table
    (b"8000 2 993,5171 13,4613\n", "bad.csv: line 1 holds numbers with decimal commas (8000 2 993,5171 13,4613) "
     "and no header; write decimal points (1.5, not 1,5)"),  # headerless text from a European spreadsheet
    (b"8000;2;993,5171;13,4613\n", "line 1 holds numbers with decimal commas"),
    (b"0 1,00 0,00\n1 1,40 0,00\n", "line 1 holds numbers with decimal commas"),  # three columns
    (b'frame,agent_id,x,y\n"8,000",1,0,0\n', "line 2: column 'frame' value '8,000' is not a number (a thousands "
     "separator, or a decimal comma: write plain numbers with decimal points"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,1,0,7\n", "line 3: 5 fields where the first row has 4"),
    (b"frame,agent_id,x,y,speed\n0,1,0,0,a\n10,1,1,0,b,9\n", "line 3: 6 fields where the first row has 5"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,1,0,7\n20,1,nope,0\n", "line 3: 5 fields"),  # slow path too
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,1\n", "line 3: column 'y' is empty"),
    (b"frame,agent_id,X,x,y\n0,1,0,0,0\n", "column 'x' appears 2 times"),
    (b"scene,frame,agent_id,x,y\na,0,1,0,0\n ,10,1,1,0\n", "line 3: empty 'scene'"),
    (b"frame,agent_id,x,y\n0, ,0,0\n", "line 2: empty 'agent_id' (every row needs its agent's id)"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,NA,0\n", "line 3: column 'x' value 'NA' is not a number"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,-inf,0\n", "line 3: column 'x' value '-inf' is not finite"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,0,1e30\n", "line 3: column 'y' value '1e30' is beyond 1e+15"),
    (b"time,agent_id,x,y\n1.7e15,1,0,0\n1700000000000000.4,1,0.5,0\n", "line 2: time 1.7e+15 is too large to tell its "
     "steps apart (numbers near it are 0.25 apart): is it in seconds? Times since 1970 in milli-, micro- or "
     "nanoseconds (about 1e12, 1e15 or 1e18) are read with columns time_us=time"),  # microseconds
    (b"frame,agent_id,x,y\n0,1,0,0\n1e17,1,0.5,0\n", "line 3: frame 1e+17 is too large to tell its steps apart"),
    (b"0 1 0 0\n10 1 -2e9 0\n", "line 2: position (-2e+09, 0) is beyond 1e+09 in magnitude: not a position in metres"),  # headerless, ETH/UCY
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_files_give_one_line_errors(tmp_path, content, expected):  # ids: the expected message
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    assert expected in read_error(f)


@pytest.mark.parametrize("name, expected", [
    ("eth_ucy.tar.gz", "eth_ucy.tar.gz: a compressed tar archive; extract it first (tar -xf eth_ucy.tar.gz)"),
    ("tracks.xlsx", "tracks.xlsx: a spreadsheet workbook, not a CSV/text table; save its sheet of tracks as CSV"),
    ("tracks.npz", "tracks.npz: NumPy arrays (.npz), not a table; write the tracks as CSV or Parquet"),
    ("tracks.parquet", "tracks.parquet: a Git LFS pointer, not the data"),  # each reader's file is looked at first
    ("tracks.ndjson", "tracks.ndjson: a Git LFS pointer, not the data"),
])
def test_archives_workbooks_and_pointers_named_as_data_are_said_to_be_so(tmp_path, name, expected):
    packed = io.BytesIO()
    if name.endswith(".tar.gz"):
        with tarfile.open(fileobj=packed, mode="w:gz") as tar:
            tar.addfile(tarfile.TarInfo("a.csv"), io.BytesIO(b""))
    elif name.endswith((".xlsx", ".npz")):
        with zipfile.ZipFile(packed, "w") as z:
            z.writestr("xl/workbook.xml" if name.endswith(".xlsx") else "a.npy", "x")
    else:
        packed.write(b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n")
    f = tmp_path / name
    f.write_bytes(packed.getvalue())
    assert expected in read_error(f)
    text = tmp_path / "ustar.csv"  # a tar's mark is looked for where a tar has it alone
    text.write_text("frame,agent_id,x,y,scene\n0,1,0,0," + "s" * 240 + "ustar\n10,1,0.4,0," + "s" * 240 + "ustar\n")
    assert len(read_tracks([text])) == 2


def test_error_line_numbers_count_blank_lines_and_chunks(tmp_path, monkeypatch):
    """The slow path re-reads in chunks; line numbers must still be the file's own."""
    monkeypatch.setattr(formats, "SLOW_CHUNK", 3)
    rows = "".join(f"{i * 10},1,{i},0\n" for i in range(9))
    f = write(tmp_path / "a.csv", "\n\nframe,agent_id,x,y\n" + rows + "\n" + "90,1,oops,0\n")
    assert "a.csv line 14: column 'x' value 'oops' is not a number" in read_error(f)


# --- messy but readable input: documented repairs -----------------------------------------------------

def test_excel_style_csv_bom_crlf_semicolons_quotes(tmp_path):
    f = tmp_path / "excel.csv"
    f.write_bytes(b'\xef\xbb\xbf"Frame";"Agent_ID";"X";"Y"\r\n0;7;1.5;2\r\n10;7;1.6;2.1\r\n')
    df = read_tracks([f])
    assert list(df.frame) == [0, 10] and list(df.agent_id) == [7, 7] and list(df.x) == [1.5, 1.6]
    # Excel's first line naming the separator is honoured, and rows keep their line numbers.
    for sep in (b";", b",", b"\t"):
        g = tmp_path / "sep.csv"
        rows = ([b"frame", b"agent_id", b"x", b"y"], [b"0", b"7", b"1.5", b"2"], [b"10", b"7", b"1.6", b"2.1"])
        g.write_bytes(b'\xef\xbb\xbfsep=' + sep + b'\r\n' + b"".join(sep.join(r) + b"\r\n" for r in rows))
        got = read_tracks([g])
        assert list(got.x) == [1.5, 1.6] and list(got["_line"]) == [3, 4], sep
    g.write_text("sep=;\nframe;agent_id;x;y\n0;7;1.5;2\n10;7;oops;2.1\n")
    assert read_error(g).startswith(f"{g} line 4: ")
    g.write_text("sep=|\nframe|agent_id|x|y\n0|7|1.5|2\n")
    assert read_error(g) == (f"{g}: line 1 names the separator '|'; trajcvae reads commas, semicolons, tabs or "
                             "blanks: save the file with one of those")


def test_a_tab_separated_table_with_pandas_index_column_reads_as_its_csv_does(tmp_path):
    """pandas' to_csv(sep="\\t") writes its index column first, named by an empty field: the header starts
    with a tab, which stays a column."""
    table = pd.DataFrame({"frame": [0, 10, 20], "agent_id": [7, 7, 7], "x": [1.5, 1.6, 1.7], "y": [2.0, 2.1, 2.2]})
    table.to_csv(tmp_path / "a.tsv", sep="\t")
    table.to_csv(tmp_path / "a.csv")
    got = read_tracks([tmp_path / "a.tsv"])
    assert list(got.x) == [1.5, 1.6, 1.7] and list(got.frame) == list(read_tracks([tmp_path / "a.csv"]).frame)


def test_headerless_file_in_scientific_notation_is_not_a_header(tmp_path):
    f = write(tmp_path / "eth.txt", "1.0e+01\t1.0e+00\t2.5e-01\t3\n2.0e+01\t1.0e+00\t3.5e-01\t3\n")
    df = read_tracks([f])
    assert list(df.frame) == [10, 20] and df.agent_id.dtype == np.int64 and list(df.x) == [0.25, 0.35]


def test_blank_lines_leading_and_inside_are_skipped(tmp_path):
    f = write(tmp_path / "a.csv", "\n\n  \nframe,agent_id,x,y\n0,1,0,0\n\n   \n10,1,1,0\n\n")
    df = read_tracks([f])
    assert len(df) == 2 and list(df["_line"]) == [5, 8]
    assert table.where(df, 1) == f"{f} line 8"


def test_exact_repeats_are_dropped_and_counted_conflicts_are_errors(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n0,1,0,0\n10,1,1,0\n20,1,2,0\n")
    df = read_tracks([f])
    assert list(df.frame) == [0, 10, 20] and df.attrs["duplicates_dropped"] == 2
    assert "; 2 repeated rows dropped" in summarize(df).line()
    g = write(tmp_path / "b.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n10,1,1.5,0\n")
    assert f"{g} line 4: duplicate (scene, frame, agent_id) = (b, 10, 1) at another position; first seen " \
           f"at {g} line 3" in read_error(g)
    # A time column is named so; written to tenths of a second, a 25 Hz tracker's detections share their times.
    t = write(tmp_path / "t.csv", "time,agent_id,x,y\n0.0,1,0,0\n0.0,1,0.05,0\n0.1,1,0.1,0\n")
    assert read_error(t).endswith(f"{t} line 3: duplicate (scene, time, agent_id) = (t, 0, 1) at another position; "
                                  f"first seen at {t} line 2; its times are written to 1 decimal of a second: if the "
                                  "detections come faster than that, write more decimals")
    # Two files naming one scene (two `trajcvae simulate` runs: plaza0 each) clash across the files: said so.
    one, two = (write(tmp_path / f"{n}.csv", f"scene,frame,agent_id,x,y\nplaza0,0,1,{x},0\nplaza0,10,1,1,0\n")
                for n, x in (("one", 0), ("two", 5)))
    with pytest.raises(DataError) as e:
        read_tracks([one, two])
    assert str(e.value) == (f"{two} line 2: duplicate (scene, frame, agent_id) = (plaza0, 0, 1) at another "
                            f"position; first seen at {one} line 2; two files name scene 'plaza0': if they are "
                            "different recordings, give their scenes different names (their scene column)")


def test_two_files_whose_agents_take_turns_in_one_scene_are_named_and_a_scene_split_by_time_is_not(tmp_path):
    """Two cameras' files that both name scene 'plaza' and number their agents alike, stamped half a step apart,
    make each track hop between two people; the speed and jitter lines would ask for --scale or --noise. The
    reading says which files take turns. Files that split one scene by time (an agent in both), or cameras whose
    global ids place one agent alike, stay silent."""
    def camera(name, start, shift):
        rows = [f"plaza,{start + 10 * i},{a},{shift + 0.5 * i},{a}" for a in (1, 2) for i in range(30)]
        return write(tmp_path / f"{name}.csv", "scene,frame,agent_id,x,y\n" + "\n".join(rows) + "\n")

    cam1, cam2 = camera("cam1", 0, 0.0), camera("cam2", 5, 3.0)
    said = (rf"^agent 1 of scene 'plaza' \(and 1 other agent\) takes its detections from {re.escape(str(cam1))} and "
            rf"{re.escape(str(cam2))} in turn: if the files are different recordings, give their scenes different "
            r"names \(their scene column\); as read, each such track hops between two agents$")
    with pytest.warns(TrajCVAEWarning, match=said):
        read_tracks([cam1, cam2])
    later = camera("later", 300, 15.0)  # the same agents walking on, in the next file
    seen = camera("seen", 5, 0.25)  # a second camera of global ids placing the same agents half a step on
    rows = [(f"plaza,{10 * i},1,{0.5 * i},0", i // 2 % 2) for i in range(40)]  # one walker, files A A B B A A ...
    pairs = [write(tmp_path / f"pair{n}.csv", "scene,frame,agent_id,x,y\n" + "\n".join(r for r, k in rows if k == n))
             for n in (0, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_tracks([cam1, later])) == 120 and len(read_tracks([cam1, seen])) == 120
        assert len(read_tracks(pairs)) == 40


def test_a_file_named_twice_is_read_once(tmp_path):
    (tmp_path / "d").mkdir()
    f = write(tmp_path / "d" / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n")
    df = read_tracks([tmp_path / "d", f])
    assert len(df) == 2 and df.attrs["duplicates_dropped"] == 0 and df.attrs["files"] == 1


def test_numeric_and_string_ids_across_files(tmp_path):
    a = write(tmp_path / "a.csv", "scene,frame,agent_id,x,y\ns,0,1,0,0\ns,10,1,1,0\n")
    b = write(tmp_path / "b.csv", "scene,frame,agent_id,x,y\ns,0,ped,0,1\ns,10,ped,1,1\n")
    df = read_tracks([a, b])
    assert sorted(df.agent_id.unique()) == ["1", "ped"]


def test_summary_counts_files_rows_agents_scenes_gaps_and_single_frames(tmp_path):
    a = write(tmp_path / "a.csv", "scene,frame,agent_id,x,y\n"
              "s1,20,1,2,0\ns1,0,1,0,0\ns1,10,1,1,0\ns1,40,1,4,0\ns1,50,1,5,0\n"  # agent 1: one gap (30)
              "s1,0,2,0,1\ns1,10,2,1,1\n"
              "s2,0,1,0,0\n"  # single-frame agent
              "s2,0,3,0,0\ns2,10,3,1,0\ns2,20,3,2,0\ns2,40,3,4,0\ns2,60,3,6,0\ns2,60,3,6,0\n")  # two gaps, a repeat
    b = write(tmp_path / "b.txt", "0 5 0 0\n10 5 1 0\n")
    df = read_tracks([a, b])
    s = summarize(df)
    assert (s.files, s.rows, s.agents, s.scenes) == (2, 15, 5, 3)
    assert (s.gaps, s.segments, s.single_frame_agents, s.duplicates_dropped) == (3, 8, 1, 1)
    assert s.rows_sorted == 2  # agent 1's frames 0 and 10, read after its frame 20
    assert s.line() == ("read 2 files: 15 rows, 5 agents, 3 scenes; 3 gaps split tracks into 8 segments; "
                        "1 single-frame agent; 1 repeated row dropped; 2 rows out of time order sorted; a step is "
                        "10 frame ids (no --fps: one model step)")
    assert list(df.frame[(df.scene == "s1") & (df.agent_id == 1)]) == [0, 10, 20, 40, 50]  # sorted


def test_clean_files_never_take_the_slow_path(tmp_path, monkeypatch, sim_files):
    """Big files: a clean file is parsed straight into numbers, never re-read as text."""
    def boom(*a, **k):
        raise AssertionError("slow path used")

    monkeypatch.setattr(formats, "_read_slow", boom)
    df = read_tracks([sim_files["test"]])
    assert df.frame.dtype == np.float64 and df.x.dtype == np.float64 and df.agent_id.dtype == np.int64
    assert len(df) == len(pd.read_csv(sim_files["test"]))


# --- property-based: random tables, written the many ways people write them, are either read with every
# row accounted for or refused with the project's own one-line error.

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD_NUMBERS = ["abc", "nan", "NaN", "inf", "-inf", "1e999", "", "  ", "1.2.3", "NA", "null", "0x10"]

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
numeric_id = st.integers(min_value=-5, max_value=40)
text_id = st.sampled_from(["ped_a", "b", "NA", "nan", "x y", "7a", "-"])
scene_name = st.sampled_from(["s", "plaza", "NA", "nan", "1", "01", "Zara 2", "é"])


@st.composite
def tables(draw):
    """(file text, expected outcome): outcome is None when the loader must refuse the file, else the
    multiset of (scene, frame, agent_id, x, y) it must return and the number of exact repeats dropped."""
    n = draw(st.integers(min_value=1, max_value=25))
    string_ids = draw(st.booleans())
    ids = draw(st.lists(text_id if string_ids else numeric_id, min_size=1, max_size=4))
    use_scene = draw(st.booleans())
    rows = []
    for _ in range(n):
        rows.append({
            "scene": draw(scene_name) if use_scene else None,
            "frame": float(draw(st.integers(0, 200)) * draw(st.sampled_from([1, 10]))),
            "agent_id": draw(st.sampled_from(ids)),
            "x": draw(finite), "y": draw(finite),
        })
    # Exact repeats (a log written twice) and rows whose order is scrambled.
    for i in draw(st.lists(st.integers(0, n - 1), max_size=3)):
        rows.append(dict(rows[i]))
    rows = draw(st.permutations(rows))

    headerless = not use_scene and not string_ids and draw(st.booleans())
    extra = [] if headerless else draw(st.lists(st.sampled_from(["speed", "note"]), max_size=2, unique=True))
    cols = (["scene"] if use_scene else []) + ["frame", "agent_id", "x", "y"] + extra
    cols = list(draw(st.permutations(cols))) if not headerless else ["frame", "agent_id", "x", "y"]
    sep = draw(st.sampled_from([" ", "\t"])) if headerless else draw(st.sampled_from([",", ";"]))
    if sep in ",;" and any(sep in str(r["scene"]) for r in rows):
        sep = ","

    def cell(r, c):
        if c in ("frame", "x", "y"):
            return draw(st.sampled_from([repr(r[c]), f"{r[c]:.17g}", f" {r[c]!r} "]))
        if c == "agent_id":
            v = r[c]
            return v if isinstance(v, str) else draw(st.sampled_from([str(v), f"{v}.0", f" {v}"]))
        if c == "scene":
            return r[c]
        return draw(st.sampled_from(["1", "a", ""]))

    lines = [[cell(r, c) for c in cols] for r in rows]
    if headerless and any(" " in v.strip() for line in lines for v in line):
        return draw(tables())
    # Corruption: a bad number, a blank id, or the same (scene, frame, agent) at a different position.
    corrupt = draw(st.sampled_from(["none", "none", "number", "id", "clash"]))
    if corrupt == "number":
        i, c = draw(st.integers(0, len(lines) - 1)), draw(st.sampled_from(["frame", "x", "y"]))
        bad = draw(st.sampled_from(BAD_NUMBERS))
        if headerless and bad.strip() == "":
            bad = "abc"  # an empty field cannot be written in a whitespace-separated file
        lines[i][cols.index(c)] = bad
    elif corrupt == "id" and not headerless:
        lines[draw(st.integers(0, len(lines) - 1))][cols.index("agent_id")] = draw(st.sampled_from(["", "  "]))
    elif corrupt == "clash":
        i = draw(st.integers(0, len(lines) - 1))
        clash = list(lines[i])
        clash[cols.index("x")] = repr(rows[i]["x"] + 1.0)
        lines.append(clash)
    else:
        corrupt = "none"

    text = [] if headerless else [sep.join(draw(st.sampled_from([c, c.upper(), c.title()])) for c in cols)]
    text += [sep.join(line) for line in lines]
    for _ in range(draw(st.integers(0, 3))):  # blank lines anywhere, even before the header
        text.insert(draw(st.integers(0, len(text))), "")
    body = draw(st.sampled_from(["\n", "\r\n"])).join(text) + draw(st.sampled_from(["\n", ""]))
    if corrupt != "none":
        return body, None

    # What the loader must return.
    def agent(r):
        written = [line[cols.index("agent_id")].strip() for line in lines]
        if all(_is_number(v) for v in written):
            return int(float(str(r["agent_id"])))
        return str(r["agent_id"]).strip()

    key = [(r["scene"].strip() if use_scene else "data", r["frame"], agent(r), r["x"], r["y"]) for r in rows]
    distinct = Counter(key)
    if len({k[:3] for k in distinct}) < len(distinct):  # two positions for one (scene, frame, agent)
        return body, None
    return body, (sorted(distinct), len(key) - len(distinct))


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for every example of a property test (pytest's own temporary folders, cleaned by it)."""
    return tmp_path_factory.mktemp("examples")


def _write(folder: Path, text: str | bytes) -> Path:
    path = folder / "data.csv"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


@SETTINGS
@given(tables())
def test_random_tables_load_with_every_row_accounted_for_or_fail_cleanly(scratch, case):
    text, expected = case
    path = _write(scratch, text)
    try:
        df = read_tracks([path])
    except DataError as e:
        assert expected is None, f"refused a valid file: {e}\n{text}"
        assert "\n" not in str(e) and str(path) in str(e)
        return
    assert expected is not None, f"accepted a file it should refuse:\n{text}"
    rows, repeats = expected
    got = sorted(zip(df.scene.astype(str), df.frame, df.agent_id, df.x, df.y))
    assert got == rows, text  # the same values, bit for bit, every distinct row once
    assert df.attrs["duplicates_dropped"] == repeats
    s = summarize(df)
    assert s.rows + s.duplicates_dropped == len(rows) + repeats  # every row of the file accounted for
    sorted_ok = df.sort_values(["scene", "agent_id", "frame"], kind="stable")
    assert (sorted_ok.index == df.index).all()


@SETTINGS
@given(st.one_of(st.binary(max_size=300),
                 st.text(alphabet=st.sampled_from(list("0123456789.,;- \t\nabcdefgxyzAIDnai_\r\"'e+")), max_size=300)))
def test_arbitrary_bytes_load_or_raise_the_projects_error(scratch, content):
    path = _write(scratch, content)
    try:
        df = read_tracks([path])
    except DataError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        return
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    lines = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    assert 1 <= len(df) <= lines
    assert np.isfinite(df[["frame", "x", "y"]].to_numpy()).all()


cell = st.one_of(finite, st.integers(-3, 3), st.none(), st.just(float("nan")), st.just(float("inf")),
                 st.sampled_from(["1", " 2 ", "abc", "", "ped"]), st.booleans())


@SETTINGS
@given(st.lists(st.tuples(cell, cell, cell, cell), min_size=0, max_size=12),
       st.permutations(["frame", "agent_id", "x", "y"]))
def test_random_dataframes_load_or_raise_the_projects_error(rows, cols):
    df_in = pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame(columns=cols)
    try:
        df = read_tracks(df_in)
    except TrajCVAEError as e:
        assert "\n" not in str(e)
        return
    def blank(v):
        return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())

    assert len(df) + df.attrs["duplicates_dropped"] == sum(not all(blank(v) for v in r) for r in rows)
    assert np.isfinite(df[["frame", "x", "y"]].to_numpy()).all()


def test_a_tab_separated_file_keeps_its_empty_fields_in_place(tmp_path):
    """Two tabs around an empty field are an empty field, not one separator: the columns after it stay put."""
    f = write(tmp_path / "a.tsv", "frame\tagent_id\tlabel\tx\ty\n0\t1\t\t2.5\t1.5\n10\t1\tped\t2.6\t1.6\n")
    df = read_tracks([f])
    assert list(df.x) == [2.5, 2.6] and list(df.y) == [1.5, 1.6] and list(df.label) == ["", "ped"]


def test_rows_with_more_fields_than_the_header_are_refused(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,1,0.9,2.5,1.5\n10,1,0.9,2.6,1.6\n")
    with pytest.raises(DataError, match="line 2: 5 fields where the header has 4"):
        read_tracks([f])
    # A separator left at the end of every row is no field.
    assert len(read_tracks([write(tmp_path / "b.csv", "frame,agent_id,x,y\n0,1,2.5,1.5,\n10,1,2.6,1.6,\n")])) == 2


def test_a_file_read_alone_is_the_scene_its_scale_names_when_read_beside_its_namesakes(tmp_path):
    """cam1/tracks.csv read beside cam2/tracks.csv is scene cam1/tracks, and scales per scene name it so; read
    alone (a benchmark's test/ holding one camera, predict on one file) it is the same scene, in the same
    metres, not 'tracks' without a scale, nor 'tracks' of another file's scale. A key the file's path does not
    end with names no scene."""
    for cam, factor in (("cam1", 100.0), ("cam2", 1.0)):
        (tmp_path / cam).mkdir()
        write(tmp_path / cam / "tracks.csv", f"frame,agent_id,x,y\n0,1,0,0\n10,1,0,{factor}\n")
    scales = {"cam1/tracks": 0.01, "cam2/tracks": 1.0}
    both = read_tracks([tmp_path / "cam1", tmp_path / "cam2"], scale=scales)
    alone = read_tracks([tmp_path / "cam1" / "tracks.csv"], scale=scales)
    assert list(alone.scene.unique()) == ["cam1/tracks"] and alone.attrs["units"] == {"scales": {"cam1/tracks": 0.01}}
    np.testing.assert_allclose(alone[["x", "y"]], both[both.scene == "cam1/tracks"][["x", "y"]])
    with pytest.raises(DataError, match="^scene 'tracks': no scale for it in the scales given"):
        read_tracks([tmp_path / "cam1" / "tracks.csv"], scale={"cam3/tracks": 0.01, "cam2/tracks": 1.0})
    # A scale of the bare name 'tracks' beside cam1/tracks' own: the file's path names it cam1/tracks still.
    mixed = read_tracks([tmp_path / "cam1" / "tracks.csv"], scale={"tracks": 1.0, "cam1/tracks": 0.01})
    assert list(mixed.scene.unique()) == ["cam1/tracks"] and mixed.attrs["units"] == {"scales": {"cam1/tracks": 0.01}}


def test_files_of_the_same_name_in_two_folders_are_two_scenes(tmp_path):
    """Two recordings named alike (cam1/tracks.csv, cam2/tracks.csv) never share neighbours."""
    for cam in ("cam1", "cam2"):
        (tmp_path / cam).mkdir()
        write(tmp_path / cam / "tracks.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,0,1\n")
    df = read_tracks([tmp_path / "cam1", tmp_path / "cam2"])
    assert sorted(set(df.scene)) == ["cam1/tracks", "cam2/tracks"] and len(df) == 4
    for cam in ("camA", "camB"):  # a CSV named as SDD's annotations.txt is named as any CSV
        (tmp_path / "site" / cam).mkdir(parents=True)
        write(tmp_path / "site" / cam / "annotations.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,0,1\n")
    assert sorted(set(read_tracks([tmp_path / "site"]).scene)) == ["camA/annotations", "camB/annotations"]
    write(tmp_path / "site" / "camA" / "labels.txt", "0 1 0 0\n10 1 0 1\n")  # tracks, whatever their name
    write(tmp_path / "site" / "camA" / "other.txt", "0 2 0 0\n10 2 0 1\n")
    assert "labels" in set(read_tracks([tmp_path / "site"]).scene)
    # With a scene column, the files' scenes are the column's, joined as written.
    for cam in ("cam1", "cam2"):
        write(tmp_path / cam / "tracks.csv", f"scene,frame,agent_id,x,y\nhall,0,{cam[-1]},0,0\nhall,10,{cam[-1]},0,1\n")
    assert set(read_tracks([tmp_path / "cam1", tmp_path / "cam2"]).scene) == {"hall"}


def test_a_pipe_or_a_device_given_as_tracks_is_named_as_such():
    with pytest.raises(DataError, match="^/dev/null: not a regular file \\(a pipe or a device\\); write the tracks"):
        read_tracks(["/dev/null"])


def test_a_folder_is_read_for_its_tracks_not_its_hidden_copies_or_its_homography(tmp_path):
    """A notebook's .ipynb_checkpoints copy is no second scene; ETH/UCY's folder layout (tracks beside
    their H.txt) reads with --homography H.txt, and without it the matrix is named as what it likely is."""
    rows = "frame,agent_id,x,y\n0,1,100,200\n10,1,110,200\n"
    (tmp_path / "cam" / ".ipynb_checkpoints").mkdir(parents=True)
    write(tmp_path / "cam" / "tracks.csv", rows)
    write(tmp_path / "cam" / ".ipynb_checkpoints" / "tracks-checkpoint.csv", rows)
    write(tmp_path / "cam" / ".hidden.csv", rows)
    assert tracks.list_files([tmp_path / "cam"]) == [tmp_path / "cam" / "tracks.csv"]
    # A linked folder (a dataset kept on another disk) is read as one of its own; a link back up, once.
    (tmp_path / "store" / "cam2").mkdir(parents=True)
    write(tmp_path / "store" / "cam2" / "more.csv", rows)
    (tmp_path / "all").mkdir()
    (tmp_path / "all" / "cam2").symlink_to(tmp_path / "store" / "cam2")
    (tmp_path / "store" / "cam2" / "up").symlink_to(tmp_path / "all")
    assert tracks.list_files([tmp_path / "all"]) == [tmp_path / "all" / "cam2" / "more.csv"]
    write(tmp_path / "cam" / "H.txt", "0.02 0 0\n0 0.02 0\n0 0 1\n")
    df = read_tracks([tmp_path / "cam"], homography=tmp_path / "cam" / "H.txt")
    np.testing.assert_allclose(df[["x", "y"]], [[2.0, 4.0], [2.2, 4.0]])
    with pytest.raises(DataError, match="H.txt: line 1 has 3 columns and no header.*a 3x3 matrix, a homography\\? "
                                        "Give it with homography"):
        read_tracks([tmp_path / "cam"])


def test_an_empty_path_or_a_file_name_of_another_encoding_is_named_not_read(tmp_path, monkeypatch):
    """An empty path (an unset "$TRAIN") would be the current folder, read whole; a name in Latin-1 bytes (an
    old archive's) cannot name a scene: a traceback before."""
    import os

    rows = "frame,agent_id,x,y\n0,1,1,2\n10,1,1.5,2\n"
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "here.csv", rows)
    with pytest.raises(DataError, match=r"^an empty path was given as data \(an unset variable\?\)"):
        read_tracks([""])
    r = cli("predict", "pedestrian", "", "--out", tmp_path / "p.csv")
    assert r.exit_code == 2 and "an empty path (an unset variable?)" in r.output and not (tmp_path / "p.csv").exists()
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / os.fsdecode(b"caf\xe9.csv")).write_text(rows)
    with pytest.raises(DataError, match="caf\ufffd.csv: its name is not UTF-8 text .*; rename it$"):
        read_tracks([tmp_path / "old"])


def test_a_folder_read_in_part_names_the_compressed_track_files_it_skipped(tmp_path):
    rows = "frame,agent_id,x,y\n0,1,1,2\n10,1,1.5,2\n"
    (tmp_path / "cam").mkdir()
    for name in ("b.csv.gz", "c.txt.bz2"):
        (tmp_path / "cam" / name).write_bytes(gzip.compress(rows.encode()))
    (tmp_path / "cam" / "notes.pdf.gz").write_bytes(b"")  # not a track file
    with pytest.raises(DataError, match=r"cam: directory holds no .*, only 2 compressed track files \(b.csv.gz, "
                                        r"\.\.\.\); decompress them first$"):
        tracks.list_files([tmp_path / "cam"])
    write(tmp_path / "cam" / "a.csv", rows)
    with pytest.warns(TrajCVAEWarning, match=r"cam: skipped 2 compressed track files \(b.csv.gz, \.\.\.\)"):
        assert tracks.list_files([tmp_path / "cam"]) == [tmp_path / "cam" / "a.csv"]


def test_a_datasets_notes_in_its_folder_are_skipped_and_named_and_read_only_when_named(tmp_path):
    """Datasets ship a README.txt or LICENSE.txt beside their tracks: read as tracks, it stopped the read."""
    rows = "frame,agent_id,x,y\n0,1,1,2\n10,1,1.5,2\n"
    (tmp_path / "cam" / "docs").mkdir(parents=True)
    write(tmp_path / "cam" / "README.txt", "Crowd data\n\nColumns: frame, id, x, y. Units: metres.\n")
    with pytest.raises(DataError, match=r"cam: directory holds no .*files, only 1 file of notes \(README.txt\), "
                                        r"read only when named$"):
        tracks.list_files([tmp_path / "cam"])
    write(tmp_path / "cam" / "a.csv", rows)
    write(tmp_path / "cam" / "docs" / "LICENSE-CC-BY.txt", "CC BY 4.0\n")
    write(tmp_path / "cam" / "readme_first.csv", rows)  # notes are .txt: a CSV of any name is tracks
    write(tmp_path / "cam" / "history.txt", "0 2 0 0\n10 2 0 1\n")
    write(tmp_path / "cam" / "notice.txt", "0 3 0 0\n10 3 0 1\n")  # tracks, whatever their name
    for name in ("COPYING", "AUTHORS", "CHANGELOG", "CITATION", "CONTRIBUTING", "requirements", "Read_Me",
                 "licence"):
        write(tmp_path / "cam" / "docs" / f"{name}.txt", f"{name}: see https://example.org/data, version 1.2\n")
    with pytest.warns(TrajCVAEWarning, match=r"cam: skipped 10 files of notes \(README.txt, \.\.\.\), read only "
                                             r"when named$"):
        assert tracks.list_files([tmp_path / "cam"]) == [tmp_path / "cam" / n for n in
                                                          ("a.csv", "history.txt", "notice.txt", "readme_first.csv")]
    with pytest.raises(DataError, match=r"README.txt line 3: "):  # named, it is read
        read_tracks([tmp_path / "cam" / "README.txt"])


def test_a_track_table_read_from_a_sorted_dataframe_is_the_callers_to_edit():
    """A DataFrame already in the reading's order gave a table of read-only columns (views of the frame read,
    under pandas' copy on write): an edit in place failed inside pandas. It is editable, and the frame given
    stays as it was."""
    given = pd.DataFrame({"time": np.repeat([0.0, 0.4, 0.8], 2)[[0, 2, 4, 1, 3, 5]], "agent_id": [1, 1, 1, 2, 2, 2],
                          "x": np.arange(6.0), "y": 0.0})
    before = given.copy()
    table = read_tracks(given)
    table.loc[table.index[0], "x"] = 10.0
    table["y"] += 1
    assert table["x"].iloc[0] == 10.0 and (table["y"] == 1).all()
    pd.testing.assert_frame_equal(given, before)


def test_date_times_and_durations_read_under_a_unit_are_told_they_say_their_own():
    start = pd.Timestamp("2024-05-01T12:00:00Z")
    given = pd.DataFrame({"t": start + pd.to_timedelta([0.0, 0.4, 0.8], unit="s"), "agent_id": 1,
                          "x": [0.0, 0.5, 1.0], "y": 0.0})
    for times, held in ((given.t, "date-times"), (given.t - start, "durations")):
        with pytest.raises(DataError, match=rf"^dataframe: column 't' holds {held}, which say their own unit: give "
                                            r"columns time=t, not time_ms$"):
            read_tracks(given.assign(t=times), columns="time_ms=t")
        assert len(read_tracks(given.assign(t=times), columns="time=t")) == 3


def test_columns_held_in_a_dataframes_index_or_nested_are_named_with_the_fix():
    """set_index("time") or a groupby's keys put columns in the index, which is not read: the fix is
    df.reset_index(), not --columns (which names no index); nested columns are named by one level."""
    given = pd.DataFrame({"time": [0.0, 0.4, 0.8], "agent_id": 1, "x": [0.0, 0.5, 1.0], "y": 0.0})
    for indexed, columns in ((given.set_index("time"), None),
                             (given.set_index(["agent_id", "time"]), {"time": "time"})):
        with pytest.raises(DataError, match=r"; the table's index holds .*time, which is not read: give "
                                            r"df.reset_index\(\)$") as e:
            read_tracks(indexed, columns=columns)
        assert "--columns" not in str(e.value) and "with columns" not in str(e.value)
    nested = given.copy()
    nested.columns = pd.MultiIndex.from_tuples([("t", "time"), ("id", "agent_id"), ("p", "x"), ("p", "y")])
    with pytest.raises(DataError, match=r"nested \(a MultiIndex\): name each by one level, df.columns = "
                                        r"df.columns.get_level_values\(1\)$"):
        read_tracks(nested)
    nested.columns = nested.columns.get_level_values(1)
    assert len(read_tracks(nested)) == 3
    with pytest.raises(DataError, match=r"missing column\(s\) y \(have: time, agent_id, x\); read a column of "
                                        r"another name as it with columns"):  # an index of no column needed
        read_tracks(given.drop(columns="y").rename_axis("row"))


def test_a_downloaded_folders_debris_is_skipped_and_named(tmp_path):
    """A dataset as it comes: Excel's lock file of an open CSV (skipped as hidden), a zero-byte placeholder and a
    link to a disk not mounted (skipped, named: data may be missing), MOT15's det/det.txt beside gt/ (no
    seqinfo.ini there). A folder holding only an archive names it."""
    rows = "frame,agent_id,x,y\n0,1,1,2\n10,1,1.5,2\n"
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "eth_ucy.zip").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match=r"dl: directory holds no .*files; 1 archive \(eth_ucy.zip\): extract it "
                                        r"first$"):
        tracks.list_files([tmp_path / "dl"])
    cam = tmp_path / "cam"
    cam.mkdir()
    write(cam / "a.csv", rows)
    (cam / "~$a.csv").write_bytes(b"\x00" * 165)
    (cam / "b.csv").write_bytes(b"")
    (cam / "day2.csv").symlink_to(tmp_path / "not_mounted" / "day2.csv")
    with pytest.warns(TrajCVAEWarning) as said:
        assert tracks.list_files([cam]) == [cam / "a.csv"]
    link = tmp_path / "not_mounted" / "day2.csv"
    assert [str(w.message) for w in said] == [f"{cam}: skipped 1 empty file (b.csv); 1 broken link (day2.csv -> "
                                              f"{link}): a linked disk not mounted?"]
    seq = tmp_path / "MOT15" / "ADL-Rundle-6"
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    write(seq / "gt" / "gt.txt", "1,1,100,200,40,80,1,-1,-1,-1\n4,1,104,200,40,80,1,-1,-1,-1\n")
    write(seq / "det" / "det.txt", "1,-1,100,200,40,80,25.5,-1,-1,-1\n")
    with pytest.warns(TrajCVAEWarning, match=r"skipped 1 MOTChallenge detection file \(ADL-Rundle-6/det/det.txt"):
        assert tracks.list_files([tmp_path / "MOT15"]) == [seq / "gt" / "gt.txt"]
    # ByteTrack's halves of gt.txt beside it: its tracks again (each window counted twice), skipped unless named.
    for half in ("gt_train_half.txt", "gt_val_half.txt"):
        write(seq / "gt" / half, "1,1,100,200,40,80,1,-1,-1,-1\n")
    with pytest.warns(TrajCVAEWarning) as said:
        assert tracks.list_files([tmp_path / "MOT15"]) == [seq / "gt" / "gt.txt"]
    assert f"{tmp_path / 'MOT15'}: skipped 2 parts of a MOTChallenge gt.txt (ADL-Rundle-6/gt/gt_train_half.txt, " \
           "...: its tracks again, split as ByteTrack splits them); name one to read it" in map(str, [w.message
                                                                                               for w in said])
    assert tracks.list_files([seq / "gt" / "gt_val_half.txt"]) == [seq / "gt" / "gt_val_half.txt"]
    test = tmp_path / "MOT15test" / "Venice-1"  # a test sequence: its detections and frames, no gt/
    (test / "det").mkdir(parents=True)
    (test / "img1").mkdir()
    write(test / "det" / "det.txt", "1,-1,100,200,40,80,25.5,-1,-1,-1\n")
    with pytest.raises(DataError, match=r"MOT15test: directory holds no .*, only MOTChallenge detections"):
        tracks.list_files([tmp_path / "MOT15test"])
    (tmp_path / "dl" / "eth_ucy.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    with pytest.raises(DataError, match=r"dl: directory holds no .*files; 2 archives \(eth_ucy.7z, \.\.\.\): extract "
                                        r"them first$"):
        tracks.list_files([tmp_path / "dl"])


@pytest.mark.parametrize("root, parts", [
    ("tracks.parquet", ["a.parquet"]),  # a folder named as a Parquet file
    ("out", ["part-00000-1f2e.snappy.parquet", "part-00001-1f2e.snappy.parquet"]),  # Spark's, Dask's part.0
    ("out", ["a.parquet", "_SUCCESS"]),  # Spark's, Hadoop's marker of a finished write
    ("out", ["a.parquet", "_metadata"]),  # Dask's, pyarrow's
    ("out", ["scene=plaza/4f2a-0.parquet", "scene=lobby/4f2a-0.parquet"]),  # hive partitions
])
def test_a_parquet_dataset_written_in_parts_is_refused_not_read_as_a_scene_per_part(tmp_path, root, parts):
    """Spark, Dask and pyarrow write one table as a folder of parts: read part by part, its tracks were cut
    where the parts split its rows, each part a scene of its own."""
    table = pd.DataFrame({"frame": [0, 10, 20, 30], "agent_id": 1, "x": [0.0, 0.5, 1.0, 1.5], "y": 0.0})
    for i, part in enumerate(parts):
        f = tmp_path / "data" / root / part
        f.parent.mkdir(parents=True, exist_ok=True)
        table.iloc[2 * i:2 * i + 2].to_parquet(f) if f.suffix == ".parquet" else f.touch()
    write(tmp_path / "data" / "other.csv", table.to_csv(index=False))
    with pytest.raises(DataError, match=rf"^{re.escape(str(tmp_path / 'data' / root))}: a Parquet dataset \(one table "
                                        r"written in parts, .*join them into one file first"):
        tracks.list_files([tmp_path / "data"])
    single = tmp_path / "single" / "seed=1"  # Parquet files of their own, in a folder of others: scenes
    single.mkdir(parents=True)
    table.to_parquet(single / "a.parquet")
    table.iloc[:3].to_parquet(single / "b.parquet")
    assert tracks.list_files([single.parent]) == [single / "a.parquet", single / "b.parquet"]


def test_identical_files_are_named_as_copies(tmp_path, monkeypatch):
    """A browser's second download, MOTChallenge's sequence under each detector's name: read twice, their windows
    counted twice without a word."""
    rows = "frame,agent_id,x,y\n0,1,1,2\n10,1,1.5,2\n"
    for name in ("plaza.csv", "plaza (1).csv", "plaza (2).csv", "lobby.csv"):
        write(tmp_path / name, rows.replace("1.5", "1.75") if name == "lobby.csv" else rows)
    with pytest.warns(TrajCVAEWarning, match=r"plaza \(1\).csv and .*plaza \(2\).csv hold the same bytes \(and 1 "
                                             r"more copy\): the tracks are read twice, as scenes of their own; leave "
                                             r"the copies out$"):
        assert read_tracks([tmp_path]).scene.nunique() == 4
    assert tracks.copies(sorted(tmp_path.iterdir())) == {tmp_path / "plaza (2).csv": tmp_path / "plaza (1).csv",
                                                         tmp_path / "plaza.csv": tmp_path / "plaza (1).csv"}
    named = tmp_path / "named"  # copies of a file that names its scenes: one scene, the copy's rows repeats
    named.mkdir()
    for name in ("a.csv", "b.csv"):
        write(named / name, "frame,agent_id,x,y,scene\n0,1,1,2,plaza\n10,1,1.5,2,plaza\n")
    with pytest.warns(TrajCVAEWarning, match=r"the tracks are in the same scenes \(their scene column's\), so the "
                                             r"copy's rows are dropped as repeats; leave the copies out$"):
        assert len(read_tracks([named])) == 2
    read = []  # files of one size alone are read
    real = tracks.hash_bytes
    monkeypatch.setattr(tracks, "hash_bytes", lambda f, h: read.append(f.name) or real(f, h))
    assert tracks.copies([tmp_path / "lobby.csv", tmp_path / "plaza.csv"]) == {} and read == []


def test_large_raw_positions_are_judged_in_metres_after_the_scale(tmp_path):
    """UTM in millimetres (5e9) with --scale 0.001 is a position; 5e9 metres is not."""
    f = write(tmp_path / "mm.csv", "frame,agent_id,x,y\n0,1,500000000.0,5000000000.0\n10,1,500000400.0,5000000000.0\n")
    df = read_tracks([f], scale=0.001)
    np.testing.assert_allclose(df.x, [500000.0, 500000.4])
    with pytest.raises(DataError, match="is beyond 1e\\+09 in magnitude: not a position in metres"):
        read_tracks([f])


def test_two_time_columns_and_unreadable_homographies_are_named(tmp_path):
    f = write(tmp_path / "t.csv", "time,t,agent_id,x,y\n0,0,1,0,0\n")
    with pytest.raises(DataError, match="2 time columns \\(time, t\\): keep one"):
        read_tracks([f])
    f = write(tmp_path / "ids.csv", "frame,id,track_id,x,y\n0,1,5,0,0\n10,1,5,1,0\n")
    with pytest.raises(DataError, match=r"ids.csv: 2 id columns \(id, track_id\): keep one, or say which with "
                                        r"columns agent_id=track_id$"):
        read_tracks([f])
    assert list(read_tracks([f], columns="agent_id=track_id").agent_id) == [5, 5]
    with pytest.raises(DataError, match=r"missing column\(s\) agent_id, x "):  # more than the id missing: all named
        read_tracks([write(tmp_path / "ids.csv", "frame,id,track_id,y\n0,1,5,0\n")])
    # ISO 8601's basic form (no dashes or colons) is not read: the message shows the form that is.
    f = write(tmp_path / "basic.csv", "time,agent_id,x,y\n20240501T125131.5+0000,1,0,0\n")
    with pytest.raises(DataError, match=r"line 2: column 'time' value '20240501T125131.5\+0000' is not a number of "
                                        r"seconds \(.* or as ISO 8601 date-times such as 2024-05-01T12:51:31.5Z\)$"):
        read_tracks([f])
    ok = write(tmp_path / "ok.csv", "frame,agent_id,x,y\n0,1,10,20\n10,1,11,20\n")
    commas = write(tmp_path / "H.txt", "# pixels to metres\n0.5, 0, 0\n0, 0.5, 0\n0, 0, 1\n")
    assert list(read_tracks([ok], homography=commas).x) == [5.0, 5.5]
    for text, expected in [("", "expected a 3x3 matrix of 9 numbers \\(got 0\\)"),
                           ("1 0 0\n0 nan 0\n0 0 1\n", "not finite"), ("1 0 0\n0 x 0\n0 0 1\n", "'x' is not a number"),
                           ("1 0 0\n0 １ 0\n0 0 1\n", "'１' is not a number \\(digits of another script")]:
        with pytest.raises(DataError, match=expected):
            read_tracks([ok], homography=write(tmp_path / "H.txt", text))


def test_a_time_column_in_seconds_beside_a_frame_counter_is_the_clock(tmp_path):
    """A tracker's log with unix times and a 10 Hz frame counter: read in seconds, as CSV, Parquet and a
    DataFrame, not as frame ids of unknown rate (one model step per 0.1 s)."""
    log = pd.DataFrame({"frame": [7, 8, 9], "time": [1.7e9, 1.7e9 + 0.1, 1.7e9 + 0.2], "agent_id": 1,
                        "x": [0.0, 0.1, 0.2], "y": 0.0})
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet")
    for data in ([tmp_path / "log.csv"], [tmp_path / "log.parquet"], log):
        df = read_tracks(data)
        assert df.attrs["time_base"] == "seconds" and list(df.frame) == list(log.time)
    # With --fps the frame ids are the clock (a rate is given for them); beside two time columns, neither.
    for data in ([tmp_path / "log.csv"], [tmp_path / "log.parquet"], log):
        df = read_tracks(data, fps=10)
        assert df.attrs["time_base"] == "frames" and list(df.frame) == [7, 8, 9]
    log.assign(t=log.time).to_csv(tmp_path / "two.csv", index=False)
    with pytest.raises(DataError, match="2 time columns \\(time, t\\): keep one, in seconds, or give fps to read"):
        read_tracks([tmp_path / "two.csv"])
    assert read_tracks([tmp_path / "two.csv"], fps=10).attrs["time_base"] == "frames"
    # --fps beside a file with only a time column: that file is named, whatever the other files hold.
    log.drop(columns="frame").to_csv(tmp_path / "seconds.csv", index=False)
    with pytest.raises(DataError, match="^fps=10: .*seconds.csv has a time column in seconds but .*log.csv frame ids, "
                                        "which fps is for: give files of one kind at a time"):
        read_tracks([tmp_path / "log.csv", tmp_path / "seconds.csv"], fps=10)


def test_an_fps_the_time_column_beside_the_frame_ids_contradicts_is_warned_of(tmp_path):
    """--fps makes a tracker's frame counter the clock; its time column, left unread, still says how far apart
    the frame ids are: an --fps half or twice that (read at 12.5 for 25: every window twice as long, scored
    0.105/0.211 on zara1's test tracks where they are 0.192/0.339) is named with the rate the times give.
    Numbers or ISO 8601 date-times; CSV, Parquet or a DataFrame. A time column in other units (ms) says
    nothing of the rate: silent, as is the right --fps."""
    frame = np.arange(0, 40, 2)  # a frame id every 0.08 s at 25 a second: every other frame kept
    log = pd.DataFrame({"frame": frame, "time": 1.7e9 + frame / 25, "agent_id": 1, "x": 0.05 * frame, "y": 0.0})
    iso = log.assign(time=pd.to_datetime(log.time, unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet")
    iso.to_csv(tmp_path / "iso.csv", index=False)
    log.assign(time=pd.to_datetime(log.time, unit="s", utc=True)).to_parquet(tmp_path / "dates.parquet")
    for data in ([tmp_path / "log.csv"], [tmp_path / "log.parquet"], log, [tmp_path / "iso.csv"],
                 [tmp_path / "dates.parquet"]):
        for fps in (12.5, 50, 24):  # (24 for 25: 0.182/0.325 on zara1's tracks)
            with pytest.warns(TrajCVAEWarning, match=rf"fps={fps:g} reads its frame ids {1 / fps:.4g} s apart, but its "
                              r"time column puts them 0.04 s apart \(25 a second\): give fps=25, or leave fps out"):
                read_tracks(data, fps=fps)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert read_tracks(data, fps=25).attrs["time_base"] == "frames"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_tracks(log.assign(time=log.time * 1000), fps=12.5)
        # Times rounded to 0.01 s: one frame's steps at 30 a second are 0.03 or 0.04 s, their whole span exact.
        every = pd.DataFrame({"frame": np.arange(300), "agent_id": 1, "x": 0.05 * np.arange(300), "y": 0.0})
        read_tracks(every.assign(time=(1.7e9 + every.frame / 30).round(2)), fps=30)


def test_a_clock_set_back_is_warned_of_where_rows_merely_out_of_order_are_sorted(tmp_path):
    """Local times without their offset over a daylight-saving change (or a clock's step back, or two recordings
    from 0 in one file) go back an hour in the middle of a file in time order: sorted, the hour after the change
    goes among the hour before, two stretches of each track read as one (zara1's test file so, in Berlin's
    October change: agents predicted from 10 s before their last observation, 6-21 m off). The line is named.
    Rows shuffled, rows written late into their track's gap or each track's first rows written once it is sure, or a
    scene's earlier stretch in a file given after the later one's, are sorted in silence."""
    t = np.round(np.arange(0, 120, 0.4), 1)
    rows = pd.DataFrame({"time": np.repeat(t, 2), "agent_id": np.tile([1, 2], len(t)),
                         "x": np.repeat(1.2 * t, 2), "y": np.tile([0.0, 2.0], len(t))})
    stepped = rows.assign(time=np.where(rows.time >= 60, rows.time - 30.2, rows.time))
    stepped.to_csv(tmp_path / "local.csv", index=False)
    with pytest.warns(TrajCVAEWarning, match=r"local.csv line 302: the times go back 29.8 s, from 59.6 to 29.8 "
                      r"after .*local.csv line 300, and 1 more time for other agents: a clock set back .*write the "
                      r"times in UTC \(or with their offset\)"):
        read_tracks([tmp_path / "local.csv"])
    stepped.assign(time=np.where(rows.time >= 60, rows.time - 30, rows.time)).to_csv(tmp_path / "local.csv",
                                                                                    index=False)
    with pytest.warns(TrajCVAEWarning, match="a clock set back"), pytest.raises(DataError, match="duplicate .*; the "
                                                                               "clock set back .warned of above. puts"):
        read_tracks([tmp_path / "local.csv"])  # (said before the rows it puts at one time are refused)
    # A tracker that writes each track's first rows once it is sure of it (its first 3 rows after its 6th): every
    # track moves back at its own start, not all at one moment.
    starts = [pd.DataFrame({"time": np.round(10.0 * a + np.arange(0, 200, 0.4), 1), "agent_id": a,
                            "x": np.arange(0, 200, 0.4), "y": 2.0 * a}) for a in range(8)]
    confirmed = pd.concat(starts).assign(at=lambda d: d.time + 2.0 * (d.time - d.groupby("agent_id").time.transform(
        "min") < 1.1)).sort_values(["at", "agent_id"], kind="stable").drop(columns="at")
    rows.sample(frac=1.0, random_state=0).to_csv(tmp_path / "shuffled.csv", index=False)
    late = rows.index[(rows.agent_id == 1) & rows.time.between(40, 40.8)]  # 3 rows written at the end
    pd.concat([rows.drop(late), rows.loc[late]]).to_csv(tmp_path / "late.csv", index=False)
    later, earlier = rows[rows.time >= 60].assign(scene="plaza"), rows[rows.time < 60].assign(scene="plaza")
    later.to_csv(tmp_path / "b_later.csv", index=False)
    earlier.to_csv(tmp_path / "c_earlier.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_tracks([tmp_path / "shuffled.csv"]).attrs["rows_sorted"] > 100
        assert read_tracks([tmp_path / "late.csv"]).attrs["rows_sorted"] == 3
        assert read_tracks(confirmed).attrs["rows_sorted"] == 24
        assert len(read_tracks([tmp_path / "b_later.csv", tmp_path / "c_earlier.csv"])) == len(rows)


def test_a_whole_number_beyond_any_float_is_refused_in_one_short_line():
    df = pd.DataFrame({"frame": [0, 10], "agent_id": [1, 1], "x": pd.Series([0, 10 ** 400], dtype=object), "y": 0.0})
    with pytest.raises(DataError, match=r"iloc\[1\]: column 'x' value '1000.*\.\.\. \(401 characters\) is "
                                        r"beyond 1e\+15"):
        read_tracks(df)
    df["x"] = pd.Series([0, 10 ** 300], dtype=object)  # a float holds it: beyond any position all the same
    with pytest.raises(DataError, match=r"value '1000.*\.\.\. \(301 characters\) is beyond 1e\+15"):
        read_tracks(df)
    for text, kind in (("nan", "not finite"), ("-inf", "not finite")):
        df["x"] = pd.Series([0, text], dtype=object)
        with pytest.raises(DataError, match=f"value '{text}' is {kind}$"):
            read_tracks(df)


def test_the_sampling_interval_is_measured_within_each_scene():
    """An id seen in several scenes (each scene's `car`) is several tracks: no interval spans two scenes."""
    scenes = (("a", 0.0, 2), ("b", 1000.0, 1), ("c", 5000.0, 1), ("d", 9000.0, 2))
    rows = [(s, start + 0.4 * i, "car", i * 0.5, 0.0) for s, start, n in scenes for i in range(n)]
    df = read_tracks(pd.DataFrame(rows, columns=["scene", "time", "agent_id", "x", "y"]))
    assert checks.sampling_interval(df) == pytest.approx(0.4)


def test_one_path_is_one_file_and_other_data_is_named(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,0,1\n")
    assert len(read_tracks(str(f))) == len(read_tracks(f)) == 2
    for data in (np.zeros(3), {"a": 1}, [pd.DataFrame()]):
        with pytest.raises(DataError, match="expected file paths or (a|one) DataFrame"):
            read_tracks(data)


def test_an_id_column_names_the_agents_and_a_decimal_comma_is_named_as_such(tmp_path):
    """A tracker's `id` (MOT), `track_id` or `object_id` column is the agent id where there is no agent_id;
    a spreadsheet's decimal commas get a line that says so."""
    for name in ("ID", "track_id", "object_id"):
        df = read_tracks([write(tmp_path / f"{name}.csv", f"{name},frame,x,y\n7,0,1,2\n7,10,1.5,2\n")])
        assert list(df["agent_id"]) == [7, 7]
    both = read_tracks([write(tmp_path / "both.csv", "agent_id,id,frame,x,y\n7,1,0,1,2\n7,2,10,1.5,2\n")])
    assert list(both["agent_id"]) == [7, 7]  # agent_id itself wins; the other is an ignored column
    with pytest.raises(DataError, match=r"line 2: column 'x' value '1,5' is not a number \(a decimal comma: write "
                                        r"decimal points"):
        read_tracks([write(tmp_path / "comma.csv", "agent_id;frame;x;y\n7;0;1,5;2\n7;10;1,7;2\n")])


@pytest.mark.parametrize("end, warned", [("13.2345\t2.5", "2.5"), ("13.2345\t2.", "2."), ("13.2345\t2", "2"),
                                         ("13.2345\t2.5000", None), ("13.2345\t2.5000\n", None)])
def test_a_file_cut_short_mid_number_is_warned_of(tmp_path, end, warned):
    """A file still being copied or written ends mid-line: its last value, cut mid-number, would read as a
    position (2.5 of 2.5000 is right by luck; 3.4 of 3.4512 is not). It is warned of where the values before
    it all have more decimals; a whole file is read in silence, with or without a last line end."""
    rows = "\n".join(f"{10 * i}\t1\t{1.2345 + 0.4 * i:.4f}\t{2.5:.4f}" for i in range(30))
    path = write(tmp_path / "log.txt", rows + "\n300\t1\t" + end)
    if warned is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(read_tracks([path])) == 31
    else:
        with pytest.warns(TrajCVAEWarning, match=f"log.txt ends mid-line, its last value {warned} with fewer decimals "
                                                 r"than the 4 of every row before it: was it cut short \(a copy"):
            assert len(read_tracks([path])) == 31


def test_a_file_whose_last_row_is_cut_short_of_fields_is_warned_of(tmp_path):
    """A MOT tracker's file cut mid-row (`...,20,5` of `...,20,50,0.9,-1,-1,-1`) reads its last box 5 px
    high in silence: a last row with fewer fields than each row before it, with no line end, is warned of,
    before a reading that may refuse it (ground truth's class, cut off, is no class)."""
    rows = "\n".join(f"{i + 1},1,{100 + 5 * i}.0,200.0,20,50,0.9,-1,-1,-1" for i in range(30))
    path = write(tmp_path / "mot.txt", rows + "\n31,1,250.0,200.0,20,5")
    with pytest.warns(TrajCVAEWarning, match=r"mot.txt ends mid-line, its last row with 6 of the 10 fields of every "
                                             r"row before it: was it cut short"):
        assert len(read_tracks([path], fps=30)) == 31
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_tracks([write(tmp_path / "whole.txt", rows + "\n")], fps=30)) == 30
        # A CSV's last row may leave a trailing label out: whole, not warned of.
        labelled = "".join(f"{10 * i},1,{0.4 * i:.2f},2.00,ped\n" for i in range(10)) + "100,1,4.00,2.00"
        assert len(read_tracks([write(tmp_path / "lab.csv", "frame,agent_id,x,y,label\n" + labelled)])) == 11
    truth = "\n".join(f"{i + 1},1,{100 + 5 * i}.0,200.0,20,50,1,1,1" for i in range(30))
    with pytest.warns(TrajCVAEWarning, match="gt.txt ends mid-line"), \
            pytest.raises(DataError, match=r"gt.txt line 31: no class id in column 8"):
        read_tracks([write(tmp_path / "gt.txt", truth + "\n31,1,250.0,200.0,20,5")], fps=30)


def test_a_quote_left_open_in_a_csv_is_named_at_its_line_not_a_row_lost(tmp_path):
    """`"ped` without its closing quote ran the label on over the next line, whose row was lost in silence
    (a gap reported in its place). The line is named; a line break within a label's closed quotes would be
    as wrong, and is named too."""
    rows = [f'{10 * i},1,{0.5 * i:.3f},0,"ped"' for i in range(10)]
    rows[5] = rows[5][:-1]
    path = tmp_path / "q.csv"
    path.write_text("frame,agent_id,x,y,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"q.csv line 7: column 'label' value runs over a line break \(a quote"):
        read_tracks([path])
    path.write_text("frame,agent_id,x,y,label\n" + "\n".join(rows[:5] + ['50,1,2.5,0,"walking\nped"']) + "\n")
    with pytest.raises(DataError, match=r"q.csv line 7: column 'label'"):
        read_tracks([path])
    path.write_text("frame,agent_id,x,y,label\n   \n" + "\n".join(rows) + "\n")  # a blank line: read value by value
    with pytest.raises(DataError, match=r"q.csv line 8: column 'label' value runs over a line break \(a quote"):
        read_tracks([path])


def test_a_repeated_frame_at_another_y_is_a_conflict_named_at_its_first_sighting(tmp_path):
    """A row is an exact repeat only where x and y both match: the same x at another y is the same agent in two
    places, refused; however many repeats come before the clash, the first row of that frame is named."""
    g = write(tmp_path / "y.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n10,1,1,5\n")
    assert f"{g} line 4: duplicate (scene, frame, agent_id) = (y, 10, 1) at another position; first seen at " \
           f"{g} line 3" in read_error(g)
    h = write(tmp_path / "three.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n10,1,1,0\n10,1,2,0\n")
    assert f"{h} line 5: duplicate (scene, frame, agent_id) = (three, 10, 1) at another position; first seen at " \
           f"{h} line 3" in read_error(h)


def test_the_summary_counts_an_agent_id_of_two_scenes_as_two_agents(tmp_path):
    """Agent 1 of scene a and agent 1 of scene b, one after the other in the table, are two agents."""
    f = write(tmp_path / "s.csv", "scene,frame,agent_id,x,y\na,0,1,0,0\na,10,1,1,0\nb,0,1,0,0\nb,10,1,1,0\n")
    s = summarize(read_tracks([f]))
    assert (s.agents, s.scenes, s.segments) == (2, 2, 2)


def test_gaps_in_frame_ids_of_a_given_rate_are_judged_in_seconds(tmp_path):
    """With --fps, a track's steps of 10 frame ids (0.4 s at 25 fps) are no gaps, nor is a missing frame
    (0.8 s, bridged); a step of 1.2 s is one."""
    frames = [0, 10, 20, 40, 50, 80, 90]
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n" + "".join(f"{t},1,{t / 20},0\n" for t in frames))
    s = summarize(read_tracks([f], fps=25))
    assert (s.gaps, s.segments) == (1, 2) and s.rates == {"a": 2.5}


def test_a_known_rate_is_that_of_the_median_interval_not_of_the_gaps_between(tmp_path):
    """Samples 0.1 s apart with two bridged pauses of 0.5 s are 10 a second, as the summary says."""
    times = [0, 0.1, 0.2, 0.3, 0.4, 0.9, 1.0, 1.1, 1.6, 1.7, 1.8]
    f = write(tmp_path / "log.csv", "time,agent_id,x,y\n" + "".join(f"{t},1,{t},0\n" for t in times))
    s = summarize(read_tracks([f]))
    assert s.rates == {"log": pytest.approx(10.0)} and s.gaps == 0 and "log: 10 Hz" in s.line()


def test_times_of_microseconds_since_1970_are_written_in_full():
    assert checks.time_text(1700000000400000.0) == "1700000000400000"  # microseconds since 1970
    assert checks.time_text(1700000000400000000.0) == "1700000000400000000"  # nanoseconds
    assert checks.time_text(1700000000.35) == "1700000000.35"


def test_a_models_speed_record_is_its_90th_percentile_and_the_share_of_moves_under_its_band():
    """speed_record keeps the 90th percentile (the band is BAND times under and over it) and the share of the
    training moves slower than the band's bottom."""
    record = checks.speed_record(np.arange(1, 101) / 10.0)  # 0.1 .. 10 m/s
    assert record == {"p90": pytest.approx(9.01), "slow": pytest.approx(0.22)}  # under 9.01 / 4 = 2.25 m/s: 22
    assert checks.speed_band(record)[:2] == pytest.approx((9.01 / 4, 9.01 * 4))


def test_a_json_files_rows_are_named_as_rows_in_messages(tmp_path):
    f = write(tmp_path / "a.json", '[{"frame": 0, "agent_id": 1, "x": 0, "y": 0}, '
                                   '{"frame": 10, "agent_id": 1, "x": 1, "y": 0}, '
                                   '{"frame": 10, "agent_id": 1, "x": 2, "y": 0}]')
    assert f"{f} row 3: duplicate (scene, frame, agent_id) = (a, 10, 1) at another position; first seen at " \
           f"{f} row 2" in read_error(f)


@pytest.mark.parametrize("rows", [
    [f"{10 * i}\t1\t{1.2345 + 0.4 * i:.4f}\t{2.5:.{2 + i % 3}f}" for i in range(30)],  # decimals that vary
    [f"{10 * i}\t1\t{1.2345 + 0.4 * i:.4f}\t2.5000" for i in range(3)],  # too few rows to judge
])
def test_a_file_ending_without_a_line_end_is_read_in_silence_where_its_decimals_tell_nothing(tmp_path, rows):
    """The cut-short warning needs a run of rows (4 at least) whose last values all have the same decimals."""
    path = write(tmp_path / "log.txt", "\n".join(rows) + "\n300\t1\t13.2345\t2.5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_tracks([path])) == len(rows) + 1


def test_a_csv_of_motchallenge_box_columns_is_told_how_to_give_points(tmp_path):
    f = write(tmp_path / "boxes.csv", "frame,id,bb_left,bb_top,bb_width,bb_height\n1,1,100,200,16,40\n")
    assert "missing column(s) x, y (or lon, lat in degrees) (have: frame, id, bb_left, bb_top, bb_width, " \
           "bb_height); for boxes, add a point of each as x and y: its centre for a camera above" in read_error(f)


def test_a_time_column_is_asked_about_minutes_only_where_the_tracks_are_too_fast():
    """Minutes read as seconds make agents 60 times too fast, never too slow: only the too-fast warning asks."""
    def said(metres_a_step: float) -> str:
        rows = [(0.4 * i, a, metres_a_step * i, 3.0 * a) for a in range(3) for i in range(30)]
        return checks.plausibility(read_tracks(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"])), 0.4)
    assert "the time column (in seconds, not minutes?)" in said(40.0)  # 100 m/s
    assert "the time column (in seconds?)" in said(0.01)  # 0.025 m/s


# --- inputs a fuzzer found (hF1): each read right, or refused in one line naming the file and row -------------

@pytest.mark.parametrize("layout, id_, message", [
    ("mot", "1e19", "MOT id 1e+19: not a track id"),  # int64 would wrap it to -2**63
    ("mot", "9007199254740993", "MOT id 9.0072e+15: not a track id"),  # float64 would take it as 2**53
    ("sdd", "1.2", "SDD id 1.2: not a track id"),  # int64 would merge 1.2 and 1.7 into agent 1
])
def test_track_ids_of_mot_and_sdd_files_are_whole_numbers_below_2_to_the_53(tmp_path, layout, id_, message):
    if layout == "mot":
        rows = [f"{f},{i},{100 + f},200,16,40,1,1,1" for i in (id_, "2") for f in range(1, 4)]
        path = write(tmp_path / "gt.txt", "\n".join(rows) + "\n")
    else:
        rows = [f'{i} 10 20 30 40 {f} 0 0 0 "Pedestrian"' for i in (id_, "1.7") for f in range(3)]
        path = write(tmp_path / "annotations.txt", "\n".join(rows) + "\n")
    assert f"{path} line 1: {message} (a whole number from 0 to 2**53)" in read_error(path)


def test_mot_rows_whose_first_id_is_a_fraction_are_named_as_mot_rows_with_that_id(tmp_path):
    """Rows of MOT's layout whose first id is no whole number are no layout the reader knows: the line says
    what they read as, and which value keeps them from it."""
    rows = [f"{f},{i},{100 + f},200,16,40,1,1,1" for i in ("1.5", "2.5") for f in range(1, 4)]
    path = write(tmp_path / "gt.txt", "\n".join(rows) + "\n")
    assert read_error(path).endswith(f"{path}: line 1 reads as MOTChallenge rows ('frame,id,bb_left,bb_top,bb_width,"
                                     "bb_height,...') but for its id, 1.5, which is no whole number: write each id as "
                                     "one")


@pytest.mark.parametrize("layout", ["mot", "sdd"])
def test_frame_ids_of_mot_and_sdd_files_too_large_to_keep_their_steps_are_refused_as_a_csvs_are(tmp_path, layout):
    """A 64-bit frame counter near 2**62 reads as float64 steps 1,024 apart: named as too large (as in a
    CSV), not as the repeated frames it would become."""
    base = 2 ** 62
    if layout == "mot":
        rows = [f"{base + 1 + 10 * f},{i},{100 + f},200,16,40,1,1,1" for i in (1, 2) for f in range(4)]
        path = write(tmp_path / "gt.txt", "\n".join(rows) + "\n")
    else:
        rows = [f'{i} 10 20 30 40 {base + 1 + 10 * f} 0 0 0 "Pedestrian"' for i in (1, 2) for f in range(4)]
        path = write(tmp_path / "annotations.txt", "\n".join(rows) + "\n")
    assert f"{path} line 1: frame 4.61169e+18 is too large to tell its steps apart" in read_error(path)


@pytest.mark.parametrize("mark", ["nan", "NaN", "None", "NA"])
def test_an_agent_id_written_as_a_missing_values_mark_is_refused_by_its_row(tmp_path, mark):
    """Among numeric ids, numpy's savetxt writes a missing one as nan, Python as None, R as NA: rows without an
    id, not one agent called "nan" joining every walker who has none (among text ids, "NA" may be a name)."""
    rows = [f"{f}\t1\t{0.05 * f}\t0.5" for f in range(0, 50, 10)] + [f"{f}\t{mark}\t{0.05 * f}\t5" for f in (0, 10)]
    path = write(tmp_path / "t.txt", "\n".join(rows) + "\n")
    assert f"{path} line 6: '{mark}', a missing value's mark, as 'agent_id' (every row needs its agent's id)" \
        in read_error(path)
    csv = write(tmp_path / "t.csv", "frame,agent_id,x,y\n" + "\n".join(r.replace("\t", ",") for r in rows) + "\n")
    assert f"{csv} line 7: '{mark}', a missing value's mark" in read_error(csv)
    names = write(tmp_path / "names.csv", "frame,agent_id,x,y\n" + "\n".join(r.replace("\t1\t", "\tped_a\t")
                                                                          .replace("\t", ",") for r in rows) + "\n")
    assert sorted(set(read_tracks([names]).agent_id)) == sorted([mark, "ped_a"])


def test_whether_na_is_a_missing_id_is_judged_from_the_whole_file_when_read_in_chunks(tmp_path, monkeypatch):
    """The slow path (a bad value somewhere) reads in chunks; "NA" among numeric ids is a missing id only when
    the whole file's other ids are numbers, so a name in a later chunk keeps it a name there too."""
    monkeypatch.setattr(formats, "SLOW_CHUNK", 3)
    rows = ["0,1,0,0", "0,NA,5,5", "10,1,0.5,0", "10,NA,5,5.5", "20,bob,1,1", "30,bob,oops,1"]
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n" + "\n".join(rows) + "\n")
    assert "a.csv line 7: column 'x' value 'oops' is not a number" in read_error(f)
    g = write(tmp_path / "b.csv", "frame,agent_id,x,y\n" + "\n".join(rows).replace("bob", "2") + "\n")
    assert "b.csv line 3: 'NA', a missing value's mark, as 'agent_id'" in read_error(g)
    spaced = "\n".join(rows).replace("bob", "2").replace(",", ", ")  # ids judged as read: stripped
    h = write(tmp_path / "c.csv", "frame, agent_id, x, y\n" + spaced + "\n")
    assert "c.csv line 3: 'NA', a missing value's mark, as 'agent_id'" in read_error(h)


def test_numbers_with_underscores_are_not_numbers(tmp_path):
    """Python reads 2_5 as 25; a file's number is digits as pandas reads them, so a frame rate of 2_5 is no rate
    (not 25 frames a second), and 1_00 is no position."""
    (tmp_path / "seq" / "gt").mkdir(parents=True)
    write(tmp_path / "seq" / "seqinfo.ini", "[Sequence]\nframeRate=2_5\n")
    gt = write(tmp_path / "seq" / "gt" / "gt.txt", "1,1,100,200,16,40,1,1,1\n2,1,101,200,16,40,1,1,1\n")
    assert "seqinfo.ini: frameRate '2_5' is not a rate in frames per second" in read_error(gt)
    f = write(tmp_path / "u.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1_00,0\n")
    assert f"{f} line 3: column 'x' value '1_00' is not a number" in read_error(f)


def test_a_scale_or_rate_too_large_for_a_float_and_a_scale_file_key_that_is_no_name_are_refused(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n")
    with pytest.raises(DataError, match="^scale must be a positive number of metres per input unit"):
        read_tracks([f], scale=10 ** 400)
    # Too small for any unit (hQA9: 1e-300 wrote futures 300 digits long, in its units).
    with pytest.raises(DataError, match=r"scale=1e-300: under 1e-09 metres per input unit, no tracker.s unit"):
        read_tracks([f], scale=1e-300)
    tiny = write(tmp_path / "tiny.yaml", "a: 1.0e-300\n")
    with pytest.raises(DataError, match=r"scene 'a': scale 1e-300 is under 1e-09 metres per unit"):
        read_tracks([f], scale=str(tiny))
    with pytest.raises(DataError, match="^fps must be a positive number of frames per second"):
        read_tracks([f], fps=10 ** 400)
    big = write(tmp_path / "big.yaml", "a: " + "1" * 400 + "\n")
    with pytest.raises(DataError, match=f"^scale {big}: scene 'a': scale 1+ is not a positive number"):
        read_tracks([f], scale=str(big))
    odd = write(tmp_path / "odd.yaml", "? [a, b]\n: 0.1\n")
    with pytest.raises(DataError, match=f"^scale {odd} line 1: a key that is no scene name$"):
        read_tracks([f], scale=str(odd))
    octal = write(tmp_path / "octal.yaml", "a: 0_05\n")  # YAML 1.1 reads it as the number 5
    with pytest.raises(DataError, match=f"^scale {octal} line 1: 'a': '0_05' is not a number"):
        read_tracks([f], scale=str(octal))


def test_columns_of_one_name_are_each_read_or_the_role_they_share_is_refused(tmp_path):
    """A spreadsheet's trailing empty columns share the name "": unread, the bad value beside them is still
    named; two columns a role reads under one name in any case (label, Label) are refused, naming both."""
    f = write(tmp_path / "excel.csv", "frame,agent_id,x,y,,\n0,1,0.0,0.5,,\n10,1,0.48,0.5,,\n20,1,abc,0.5,,\n")
    assert f"{f} line 4: column 'x' value 'abc' is not a number" in read_error(f)
    records = [{"frame": f, "agent_id": 1, "x": f * 0.048, "y": 0.5, "label": "P", "Label": "Q"} for f in (0, 10)]
    j = write(tmp_path / "a.json", json.dumps(records))
    assert f"{j}: column 'label' appears 2 times (any case): label, Label" in read_error(j)
    pd.DataFrame(records).to_parquet(tmp_path / "b.parquet")
    assert "column 'label' appears 2 times (any case): label, Label" in read_error(tmp_path / "b.parquet")
    c = write(tmp_path / "c.csv", "frame,agent_id,x,y,label,LABEL\n0,1,0,0,a,b\n")
    assert "column 'label' appears 2 times in the header (any case)" in read_error(c)
    # x, y beside X, Y: --columns matches names in any case as well, so it cannot pick one; the file must.
    both = write(tmp_path / "xy.csv", "frame,agent_id,x,y,X,Y\n0,1,0,0,10,10\n10,1,0.5,0,10.5,10\n")
    one_line_error(cli("predict", "pedestrian", both, "--columns", "x=X,y=Y", "--out", tmp_path / "p.csv"),
                   "column 'x' appears 2 times in the header (any case): x, X; --columns matches names in any case "
                   "too: rename one of them in the file")


def test_parquet_bytes_are_read_as_utf8_text_and_index_columns_as_columns(tmp_path):
    rows = pd.DataFrame([(f * 10, a, 0.4 * f + a, 0.2 * f) for a in (1, 2) for f in range(8)],
                        columns=["frame", "agent_id", "x", "y"])
    text = rows.assign(agent_id=[f"é{a}".encode() for a in rows.agent_id])
    text.to_parquet(tmp_path / "utf8.parquet")
    assert sorted(set(read_tracks([tmp_path / "utf8.parquet"]).agent_id)) == ["é1", "é2"]
    rows.assign(agent_id=[b"\xff" + bytes([a]) for a in rows.agent_id]).to_parquet(tmp_path / "bytes.parquet")
    assert "bytes.parquet row 1: column 'agent_id' holds bytes that are not UTF-8 text" in \
        read_error(tmp_path / "bytes.parquet")
    rows.set_index(["frame", "agent_id"]).to_parquet(tmp_path / "index.parquet")  # pandas writes the index too
    got = read_tracks([tmp_path / "index.parquet"])
    columns = ["frame", "agent_id", "x", "y"]
    np.testing.assert_array_equal(got[columns], read_tracks(rows)[columns])


def test_json_nested_too_deeply_or_split_rows_unlike_their_columns_are_refused(tmp_path):
    deep = write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    assert f"{deep}: JSON nested too deeply to read" in read_error(deep)
    lines = write(tmp_path / "deep.ndjson", '{"track": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert f"{lines} line 1: JSON nested too deeply to read" in read_error(lines)
    split = write(tmp_path / "s.json", '{"columns": ["frame","agent_id","x"], "data": [[0,1,0.0,0.5]]}')
    assert f"{split} row 1: not a row of 3 values, one for each of its columns" in read_error(split)
    short = write(tmp_path / "short.json", '{"columns": ["frame","agent_id","x","y"], "data": [[0,1,0,0],[10,1]]}')
    assert f"{short} row 2: not a row of 4 values" in read_error(short)


def test_positions_as_float16_are_warned_of_as_float32_ones_are(tmp_path):
    exact = pd.DataFrame([(f * 10, a, 600 + 0.48 * f + 3 * a, 300 + 0.1 * f) for a in (1, 2) for f in range(20)],
                         columns=["frame", "agent_id", "x", "y"])
    rows = exact.astype({"x": "float16", "y": "float16"})
    rows.to_parquet(tmp_path / "half.parquet")
    got = read_tracks([tmp_path / "half.parquet"])
    assert got.attrs["coarse"].startswith(f"{tmp_path / 'half.parquet'} holds positions as float16, which near ")
    assert got.attrs["coarse"].endswith("resolve only 0.5 m")
    fine = exact.assign(x=(exact.x - 600).astype("float16"), y=exact.y.astype("float32"))  # each fine where it lies
    fine.to_parquet(tmp_path / "mixed.parquet")
    assert read_tracks([tmp_path / "mixed.parquet"]).attrs["coarse"] is None


def test_times_as_float16_are_judged_as_float32_ones_are(tmp_path):
    """float16 resolves half a second near 900 s: such times have lost the tracks' steps and are refused, as
    float32 times past 2**20 s are; near 50 s (1/32 s apart) they are warned of."""
    rows = pd.DataFrame({"time": 900 + 0.4 * np.arange(10), "agent_id": 1, "x": 0.5 * np.arange(10), "y": 0.0})
    rows.astype({"time": "float16"}).to_parquet(tmp_path / "late.parquet")
    assert (f"{tmp_path / 'late.parquet'}: times as float16, which near 903.5 resolve only 0.5 of their units; store "
            "them as float64 (double)") in read_error(tmp_path / "late.parquet")
    rows.assign(time=rows.time - 850).astype({"time": "float16"}).to_parquet(tmp_path / "early.parquet")
    early = read_tracks([tmp_path / "early.parquet"])
    assert early.attrs["coarse"].endswith("holds times as float16, which near 53.5938 resolve only 0.0312 of "
                                          "their units")
    assert early.frame.tolist()[:3] == [50.0, 50.4, 50.8]  # as written (float16 holds 50.40625), as float32's are


@pytest.mark.parametrize("arrow", ["timestamp[ns][pyarrow]", "timestamp[ns, tz=UTC][pyarrow]",
                                   "duration[ns][pyarrow]", "duration[ms][pyarrow]"])
def test_arrow_date_times_and_durations_are_read_as_numpys_are(tmp_path, arrow):
    """read_parquet(dtype_backend="pyarrow"), or a Parquet file written from such a DataFrame, gives Arrow's
    types: times read as numpy's datetime64 and timedelta64 are, in seconds."""
    seconds = np.arange(10) * 0.4
    when = pd.to_timedelta(seconds, unit="s") if arrow.startswith("duration") else \
        pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s")
    df = pd.DataFrame({"time": when, "agent_id": 1, "x": 0.5 * np.arange(10), "y": 0.0})
    expected = read_tracks(df)
    got = read_tracks(df.astype({"time": arrow}))
    np.testing.assert_allclose(got.frame, expected.frame)
    df.astype({"time": arrow}).to_parquet(tmp_path / "a.parquet")
    np.testing.assert_allclose(read_tracks([tmp_path / "a.parquet"]).frame, expected.frame)
    import pyarrow as pa  # each distinct value stored once (dictionary-encoded): read as its values are

    coded = pa.array(df["time"].astype(arrow)).dictionary_encode()
    got = read_tracks(df.assign(time=pd.Series(coded, dtype=pd.ArrowDtype(coded.type))))
    np.testing.assert_allclose(got.frame, expected.frame)
    # pandas' own categorical of them (df.time.astype("category")): read as its values are
    np.testing.assert_allclose(read_tracks(df.astype({"time": "category"})).frame, expected.frame)


@pytest.mark.parametrize("x, kind", [(np.arange(4) * (0.5 + 1j), "complex numbers"),
                                     (pd.to_datetime(np.arange(4), unit="s"), "date-times"),
                                     (pd.to_timedelta(np.arange(4), unit="s"), "durations")])
def test_positions_of_a_type_pandas_would_turn_into_numbers_are_refused(x, kind):
    """pandas reads complex numbers as their real part and date-times or durations as nanoseconds: no
    positions, whatever the units."""
    df = pd.DataFrame({"time": 0.4 * np.arange(4), "agent_id": 1, "x": x, "y": 0.0})
    with pytest.raises(DataError, match=f"^dataframe: column 'x' holds {kind}, not plain numbers$"):
        read_tracks(df)


def test_headerless_rows_ending_in_a_separator_are_told_to_add_a_header_and_a_header_after_a_hash_is_read(
        tmp_path):
    """A spreadsheet's export ends each row with a separator: without a header, its rows' last fields could
    hold anything, so a header is asked for (with one, the file reads). numpy's savetxt(header=...) writes the
    header after "# ": read as the plain file is."""
    rows = [(f, a, 0.04 * f + a, 0.5 * a) for a in (1, 2) for f in range(0, 100, 10)]
    plain = read_tracks([write(tmp_path / "plain.csv", "".join(f"{f},{a},{x},{y}\n" for f, a, x, y in rows))])
    columns = ["frame", "agent_id", "x", "y"]
    comma = write(tmp_path / "comma.csv", "".join(f"{f},{a},{x},{y},\n" for f, a, x, y in rows))
    assert f"{comma}: line 1 ends with a separator and there is no header: add a header row (frame,agent_id,x,y,)" \
        in read_error(comma)
    for name, text in (("header.csv", "frame,agent_id,x,y,\n" + comma.read_text()),
                       ("hash.txt", "# frame agent_id x y\n" + "".join(f"{f} {a} {x} {y}\n" for f, a, x, y in rows)),
                       ("hash_t.txt", "# t id x y\n" + "".join(f"{f / 25} {a} {x} {y}\n" for f, a, x, y in rows))):
        got = read_tracks([write(tmp_path / name, text)])[columns]
        np.testing.assert_array_equal(got.assign(frame=got.frame * (25 if name == "hash_t.txt" else 1)),
                                      plain[columns])
    comment = write(tmp_path / "comment.txt", "# made by me\n0 1 0 0\n10 1 0.4 0\n")  # a comment is no header
    assert "line 1 is a comment (# made by me), not a header or a row" in read_error(comment)
    for marked in ("#frame,agent_id,x,y", "%  frame agent_id x y", "// frame;agent_id;x;y"):  # a header, marked
        sep = ";" if ";" in marked else "," if "," in marked else " "
        got = read_tracks([write(tmp_path / "marked.txt", f"{marked}\n0{sep}1{sep}0{sep}0\n10{sep}1{sep}0.4{sep}0\n")])
        assert got.x.tolist() == [0.0, 0.4], marked
    # A first name that starts with a mark (ROS's rostopic echo -p writes %time), read by --columns; a marked
    # header over rows that end in a separator.
    ros = write(tmp_path / "ros.csv", "%time,field.id,field.x,field.y\n0,1,0,0\n400000000,1,0.4,0\n")
    got = read_tracks([ros], columns="time_ns=%time,agent_id=field.id,x=field.x,y=field.y")
    assert got.frame.tolist() == [0.0, 0.4] and got.x.tolist() == [0.0, 0.4]
    hashed = write(tmp_path / "hashed.csv", "#t,id,x,y\n0,1,0,0\n400,1,0.4,0\n")
    assert read_tracks([hashed], columns="time_ms=#t").frame.tolist() == [0.0, 0.4]
    trailing = write(tmp_path / "trailing.csv", "# time,agent_id,x,y\n0,1,0,0,\n0.4,1,0.4,0,\n")
    assert read_tracks([trailing]).x.tolist() == [0.0, 0.4]
    bad = write(tmp_path / "first.txt", "0 1 1_000 4.0\n10 1 1.4 4.0\n")  # no header: a bad number, named
    assert f"{bad} line 1: column 'x' value '1_000' is not a number" in read_error(bad)
    repeats = write(tmp_path / "dup.csv", "frame,agent_id,x,y,note,note.1,note\n0,1,0,0,a,b,c\n10,1,abc,0,a,b,c\n")
    assert f"{repeats} line 3: column 'x' value 'abc' is not a number" in read_error(repeats)


def test_a_column_that_columns_gives_another_role_is_said_to_be_taken(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,0.4,0\n")
    with pytest.raises(DataError, match=r"a.csv: columns label=agent_id reads the column agent_id as the label, so "
                                        r"no column is the agent_id: give columns agent_id=<another column>"):
        read_tracks([f], columns={"label": "agent_id"})


def test_a_stamp_in_two_columns_reads_as_one_time(tmp_path):
    """ROS 2 writes a header's stamp as two columns, whole seconds and nanoseconds: --columns time=sec,
    time_ns=nanosec reads them as one time in seconds, as a single column would be read, from a CSV, Parquet,
    JSON and a DataFrame; a part out of its range names its row; either column alone, which reads as times
    that start again every second or as several rows of an agent in one second, is refused naming the fix."""
    rng = np.random.default_rng(0)
    t = 1733560000 + np.arange(40) * 0.1 + rng.uniform(-0.02, 0.02, 40)  # 10 Hz, wobbling
    sec = np.floor(t).astype(np.int64)
    nanosec = np.round((t - sec) * 1e9).astype(np.int64)
    stamps = pd.DataFrame({"header.stamp.sec": sec, "header.stamp.nanosec": nanosec, "id": 3,
                           "pose.x": np.arange(40) * 0.125, "pose.y": 1.0})
    given = "time=header.stamp.sec,time_ns=header.stamp.nanosec,agent_id=id,x=pose.x,y=pose.y"
    single = read_tracks(pd.DataFrame({"time": sec + stamps["header.stamp.nanosec"] / 1e9, "agent_id": 3,
                                       "x": stamps["pose.x"], "y": 1.0}))
    stamps.to_csv(tmp_path / "log.csv", index=False)
    stamps.to_parquet(tmp_path / "log.parquet")
    stamps.to_json(tmp_path / "log.json", orient="records")
    for source in (tmp_path / "log.csv", tmp_path / "log.parquet", tmp_path / "log.json", stamps):
        got = read_tracks(source if isinstance(source, pd.DataFrame) else [source], columns=given)
        np.testing.assert_array_equal(got[["frame", "x", "y"]], single[["frame", "x", "y"]])
        assert got.attrs["time_base"] == "seconds"
    over = stamps.assign(**{"header.stamp.nanosec": stamps["header.stamp.nanosec"].where(stamps.index != 5, 10 ** 9)})
    with pytest.raises(DataError, match=r"over.csv line 7: 'header.stamp.nanosec' holds 1000000000, not "
                                        r"nanoseconds under a second, as a stamp in two columns \((--)?columns "
                                        r"time=header.stamp.sec,time_ns=header.stamp.nanosec\) has them"):
        read_tracks([write(tmp_path / "over.csv", over.to_csv(index=False))], columns=given)
    with pytest.raises(DataError, match=r"columns time_ns=header.stamp.nanosec: its times lie within one second and "
                                        r"go back within tracks \(\d+ rows out of order\), as the nanoseconds of a "
                                        r"stamp split in two columns do: give its whole seconds too, (--)?columns "
                                        r"time=<seconds column>,time_ns=header.stamp.nanosec"):
        read_tracks([tmp_path / "log.csv"], columns=given.replace("time=header.stamp.sec,", ""))
    with pytest.raises(DataError, match=r"duplicate \(scene, time, agent_id\) [^;]*; first seen at [^;]*; its times "
                                        r"are whole seconds "
                                        r"\((--)?columns time=header.stamp.sec\): if they are a stamp's seconds, give "
                                        r"its part under a second too"):
        read_tracks([tmp_path / "log.csv"], columns=given.replace(",time_ns=header.stamp.nanosec", ""))
    with pytest.raises(DataError, match=r"columns: time and frame: give one clock"):
        read_tracks([tmp_path / "log.csv"], columns="time=header.stamp.sec,frame=header.stamp.nanosec")
    with pytest.raises(DataError, match=r"columns: time and time_ns and frame: give one clock"):
        read_tracks([tmp_path / "log.csv"], columns=given.replace("agent_id=id", "frame=id"))
    # The part in microseconds, named first; each part's range, blanks, float32 seconds and a part in a smaller
    # unit than given are named; a DataFrame without the seconds' column is told so.
    micro = stamps.assign(usec=nanosec // 1000).drop(columns="header.stamp.nanosec")
    got = read_tracks(micro, columns="time_us=usec,time=header.stamp.sec,agent_id=id,x=pose.x,y=pose.y")
    np.testing.assert_allclose(got.frame, single.frame, atol=1e-6, rtol=0)
    for row, change, said in [(2, {"header.stamp.nanosec": -5}, "holds -5, not nanoseconds under a second"),
                              (3, {"header.stamp.sec": 1733560000.5}, "holds 1733560000.5, not whole seconds"),
                              (4, {"header.stamp.nanosec": np.nan}, "'header.stamp.nanosec'")]:
        bad = stamps.astype({"header.stamp.sec": float, "header.stamp.nanosec": float})
        for column, value in change.items():
            bad.loc[row, column] = value
        with pytest.raises(DataError, match=rf"iloc\[{row}\]: .*{re.escape(said)}"):
            read_tracks(bad, columns=given)
    stamps.astype({"header.stamp.sec": np.float32}).to_parquet(tmp_path / "f32.parquet")
    with pytest.raises(DataError, match=r"f32.parquet: column 'header.stamp.sec' holds the stamp's seconds as float32"):
        read_tracks([tmp_path / "f32.parquet"], columns=given)
    longer = pd.concat([micro.assign(**{"header.stamp.sec": micro["header.stamp.sec"] + 4 * i}) for i in range(2)])
    with pytest.raises(DataError, match=r"column 'usec' \((--)?columns time_ns=\) never reaches a thousandth of a "
                                        r"second over 80 rows: are its values in microseconds\? give (--)?columns "
                                        r"time_us=usec"):
        read_tracks(longer, columns="time=header.stamp.sec,time_ns=usec,agent_id=id,x=pose.x,y=pose.y")
    with pytest.raises(DataError, match=r"no column 'header.stamp.sec'"):
        read_tracks(stamps.drop(columns="header.stamp.sec"), columns=given)
    twice = pd.DataFrame({"t": [0.5, 0.5, 0.9], "id": 1, "x": [0.0, 1.0, 2.0], "y": 0.0})  # not whole seconds
    with pytest.raises(DataError, match=r"duplicate \(scene, time, agent_id\)") as said:
        read_tracks(twice, columns="time=t,agent_id=id")
    assert "whole seconds" not in str(said.value)
