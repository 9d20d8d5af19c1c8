"""Property-based tests of the loader: random tables, written the many ways people write them, are either
read with every row accounted for or refused with the project's own one-line error."""
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trajcvae.tracks import read_tracks
from trajcvae.errors import DataError, TrajCVAEError
from trajcvae.tracks import summarize

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    extra = [] if headerless else draw(st.lists(st.sampled_from(["speed", "note", "t"]), max_size=2, unique=True))
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


def _write(text: str | bytes) -> Path:
    d = Path(tempfile.mkdtemp())
    path = d / "data.csv"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


@SETTINGS
@given(tables())
def test_random_tables_load_with_every_row_accounted_for_or_fail_cleanly(case):
    text, expected = case
    path = _write(text)
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
def test_arbitrary_bytes_load_or_raise_the_projects_error(content):
    path = _write(content)
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
