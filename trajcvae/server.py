"""The live server: `trajcvae serve MODEL` (FastAPI + uvicorn, the `serve` extra).

Each scene is an `online.OnlinePredictor` of its own, created by its first POST and held until DELETE.
A request holds its scene's lock only, and waits for it without a worker thread, so updates queued on one
scene take no thread another scene needs (they still share the cores); every bad request
is answered with a 4xx and a one-line `detail` before it reaches the predictor, or by the predictor's own
one-line error (its state unchanged), and any other failure is a 500 with one line, never a dead process.
All agents of a request are sampled in one forward pass. The live page (`static/live.html`) polls the
scene's futures and tracks; `replay` feeds a recorded file into the scenes, paced by its own clock.
"""
from __future__ import annotations

import asyncio
import copy
import logging
import re
import signal
import socket
import threading
import time as clock
from collections import Counter
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Iterator, Literal, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .atomic import WINDOWS
from .checks import bridges_any, plausibility, time_steps, time_text
from .config import check_forget_after, check_log, check_sampling, positive_number
from .errors import DataError, TrajCVAEError, first_line, odd_number_text, plural, shown, warning_text
from .online import OnlinePredictor, out_of_order
from .predict import TrajCVAE
from .table import (AGENT_COLUMNS, ID_NAMES, LAT_NAMES, LON_NAMES, TIME_NAMES, column_map, lonlat_names,
                    seconds_per_unit, where)
from .tracks import check_fps, read_tracks, written_coarsely
from .units import degrees_scaled, estimate_warning, from_metres, no_scale, placed, scales_of_scenes, unit_conversion
from .windows import no_windows_error

try:
    import orjson
    import uvicorn
    from fastapi import FastAPI, HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, JSONResponse, Response
    from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr, model_validator
    from pydantic_core import PydanticCustomError
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as AnyHTTPException  # also routing's 404 and 405
    from swagger_ui_bundle import swagger_ui_path
except ImportError:  # the base package works without the extra; only the server needs it
    raise TrajCVAEError('trajcvae serve needs the serve extra: pip install "trajcvae[serve]" (in a clone of the '
                        'repository: pip install -e ".[serve]")') from None

STATIC = Path(__file__).parent / "static"
LAYOUT = Query("rows", description='The answer\'s layout: "rows", one object per future position, or "agents", '
                                 "one object per agent with its futures as nested lists (a quarter of the bytes).")


def _as_written(value):
    """A query's number read as the command line reads one: text that Python reads as a number and a file's
    reader does not (2_0, other scripts' digits) is refused, not read as 20."""
    if isinstance(value, str) and odd_number_text(value):
        raise PydanticCustomError("number_text", "{text} is not a number as written in a file or on the command line "
                                  "(digits 0-9, no '_')", {"text": repr(value[:40])})
    return value


AsWritten = BeforeValidator(_as_written)


def _whole_text(value):
    """A query's count read as the command line reads one (-k 5.0 is refused there): text of a fraction or an
    exponent is refused, not rounded by pydantic's lax reading (5.0 as 5)."""
    value = _as_written(value)
    if isinstance(value, str) and not re.fullmatch(r"\s*[+-]?\d+\s*", value):
        raise PydanticCustomError("whole_text", "{text} is not a whole number", {"text": repr(value[:40])})
    return value


AsWhole = BeforeValidator(_whole_text)
SCENE_NAME = r"(?!\.+$)[A-Za-z0-9_.\-]{1,64}"  # whole names; not "." or "..", which URLs collapse
# A restarted server rebinds its port at once (SO_REUSEADDR, as uvicorn binds it), except on Windows, where the
# option lets a second server bind a port in use.
REUSE_ADDRESS = not WINDOWS


@dataclass
class Limits:
    """What one request, and the server as a whole, may ask for (the `serve` options of the same names)."""

    max_agents: int = 1000  # detections per request
    max_body: int = 1 << 20  # bytes per request body
    max_scenes: int = 100  # scenes held at once
    max_k: int = 100  # futures per agent, with ?k=

    def __post_init__(self):
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TrajCVAEError(f"--{name.replace('_', '-')} must be >= 1 (got {shown(value)})")


class Problem(BaseModel):
    """Every error answer's body: one line naming the field or the fault."""
    detail: str


# The error answers each route may give, for the API's schema (FastAPI's own 422 body is no answer of this server).
PROBLEMS = {408: "The request body stalled", 409: "A time not after the scene's last update's",
            413: "A body or an update too large", 422: "A field or a parameter at fault", 404: "No such scene",
            429: "Too many scenes held", 500: "A bug of the server, in one line"}


def problems(*codes: int) -> dict:
    return {code: {"model": Problem, "description": PROBLEMS[code]} for code in (*codes, 500)}


class Detection(BaseModel):
    # Other fields a tracker sends (a confidence, a box) are ignored; a time or scene of its own is refused:
    # the time is the update's, the scene the URL's.
    model_config = ConfigDict(extra="ignore")
    agent_id: Union[StrictStr, StrictInt] = Field(description="The tracker's id of the agent.")
    x: Optional[float] = Field(None, strict=True, allow_inf_nan=False,
                               description="Position in the server's units (metres by default).")
    y: Optional[float] = Field(None, strict=True, allow_inf_nan=False)
    lon: Optional[float] = Field(None, strict=True, allow_inf_nan=False,
                                 description="Longitude in degrees, in place of x, on a server run with --lonlat.")
    lat: Optional[float] = Field(None, strict=True, allow_inf_nan=False, description="Latitude, in place of y.")
    label: Optional[StrictStr] = Field(None, description="The agent's class; travels through to its futures.")
    type: Optional[StrictStr] = Field(None, description="As label (one of label, type, class, category).")
    class_: Optional[StrictStr] = Field(None, alias="class", description="As label.")
    category: Optional[StrictStr] = Field(None, description="As label.")

    @model_validator(mode="before")
    @classmethod
    def _no_time_or_scene(cls, data: Any) -> Any:
        if isinstance(data, dict):
            field_of = sent_fields(list(data))
            data = {field_of.get(key, key): value for key, value in data.items()}
            if not ({"x", "y"} <= data.keys() or {"lon", "lat"} <= data.keys()):
                raise ValueError("a detection needs x and y (or lon and lat, on a server run with --lonlat)")
            aid = data.get("agent_id")
            if isinstance(aid, float) and aid.is_integer() and abs(aid) < 2 ** 63:  # 7.0 (json.dumps of numpy's
                data["agent_id"] = int(aid)  # float ids) is the agent 7, as a file's 7.0 is
        return data


def sent_fields(keys: list) -> dict:
    """A detection's keys as sent -> the fields they fill: any case, track_id or object_id as agent_id (as a
    file's id column goes by), a longitude's and latitude's names as lon and lat; other keys are left out
    (ignored). Raises ValueError for a time or scene of the detection's own and for a field given twice."""
    fields = {f for f in Detection.model_fields if f != "class_"} | {"class"}
    seen: dict[str, Any] = {}  # the fields read, and names of longitude and latitude, by lower case
    for key in keys:
        name = str(key).strip().lower()
        if name in ("scene", "frame", *TIME_NAMES):
            raise ValueError(f"'{key}' is not allowed in a detection: the time is the update's, the scene the URL's")
        if name in seen and (name in fields or name in LON_NAMES or name in LAT_NAMES or name in ID_NAMES):
            raise ValueError(f"'{seen[name]}' and '{key}' name one field (any case): give it once")
        seen.setdefault(name, key)
    field_of = {name: name for name in fields}
    ids = [name for name in seen if name in ID_NAMES]
    if "agent_id" not in seen and len(ids) > 1:
        raise ValueError(f"'{seen[ids[0]]}' and '{seen[ids[1]]}' both name the agent: give one (agent_id)")
    field_of |= {ids[0]: "agent_id"} if "agent_id" not in seen and ids else {}
    if not {"x", "y"} <= seen.keys():  # longitude and latitude by any name a file's columns may have
        try:
            lon, lat = lonlat_names(list(seen), "a detection")
        except DataError as e:
            raise ValueError(str(e).removeprefix("a detection: ")) from None
        field_of |= {lon: "lon", lat: "lat"}
    return {key: field_of[name] for name, key in seen.items() if name in field_of}


class Observations(BaseModel):
    # The example is one the server takes (the API page's "Try it out" sends it): generated, it gave both time
    # and frame, refused.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"time": 12.4, "detections": [{"agent_id": 7, "x": 3.2, "y": 1.5}, {"agent_id": 8, "x": 5.0, "y": -0.4}]}]})
    time: Optional[float] = Field(None, strict=True, allow_inf_nan=False, description="Seconds (any origin).")
    frame: Optional[float] = Field(None, strict=True, allow_inf_nan=False, description="A frame id at the "
                                                                                        "server's --fps, in place "
                                                                                        "of time.")
    detections: list[Detection] = Field(description="Every agent seen at this time.")


Layout = Literal["rows", "agents"]


class Shown:
    """One update as readers see it: its futures and the tracks they were made from, replaced together,
    so readers take both without waiting for an update in progress and the page never pairs one update's
    futures with another's tracks. Each layout's JSON is written once, when first asked for."""

    def __init__(self, time: float | None, futures: pd.DataFrame, state: tuple, pred_len: int,
                 warnings: tuple[str, ...] = (), number: int | None = None):
        self.time, self.futures, self.state, self.pred_len = time, futures, state, pred_len
        self.warnings, self.number = warnings, number
        self._json: dict[str, bytes] = {}

    def answer(self, layout: Layout = "rows") -> bytes:
        text = self._json.get(layout)
        if text is None:  # two readers at once may both write it: the same bytes
            text = self._json[layout] = answer_json(self.time, self.futures, layout, self.pred_len, self.warnings,
                                                    self.number)
        return text


class Scene:
    """A scene's predictor, its lock, and its number among the scenes the server has made: a scene deleted and
    posted again is another one (another place or clock), which readers tell by its number."""

    def __init__(self, predictor: OnlinePredictor, number: int):
        self.predictor, self.lock, self.number = predictor, threading.Lock(), number
        self.shown = self._shown(None)

    def _shown(self, time: float | None) -> Shown:
        p = self.predictor
        return Shown(time, p.futures, p.state(), p.model.config.data.pred_len, tuple(p.warnings), self.number)


class Scenes:
    """The server's scenes by name, each behind its own lock."""

    def __init__(self, make: Callable[[str], OnlinePredictor], limits: Limits):
        self.make, self.limits = make, limits
        self._scenes: dict[str, Scene] = {}
        self._lock = threading.Lock()
        self._made = 0  # scenes made so far: the next one's number

    def get(self, name: str, create: bool = False) -> Scene:
        with self._lock:
            scene = self._scenes.get(name)
            if scene is None and create:
                if len(self._scenes) >= self.limits.max_scenes:
                    n = len(self._scenes)
                    raise HTTPException(429, f"scene '{name}': the server holds {n} scene{'s' * (n != 1)}, its "
                                             "limit (--max-scenes); DELETE one first")
                try:
                    scene = self._scenes[name] = Scene(self.make(name), self._made + 1)
                    self._made += 1
                except TrajCVAEError as e:  # this scene's options (a scale it has none of)
                    raise HTTPException(422, str(e)) from None
        if scene is None:
            raise HTTPException(404, f"scene '{name}' does not exist (POST observations to create it)")
        return scene

    @contextmanager
    def _held(self, name: str) -> Iterator[tuple[Scene, bool]]:
        """Scene `name` (made if new) with its lock held, and whether this request made it. A scene made by a
        request that is then refused is dropped (`observe`): a request that waited for its lock meanwhile
        holds a scene no longer served, so it takes the one served now, or makes it anew."""
        while True:
            with self._lock:
                new = name not in self._scenes
            scene = self.get(name, create=True)
            scene.lock.acquire()
            with self._lock:
                if self._scenes.get(name) is scene:
                    break
            scene.lock.release()
        try:
            yield scene, new
        finally:
            scene.lock.release()

    def delete(self, name: str) -> None:
        with self._lock:
            if self._scenes.pop(name, None) is None:
                raise HTTPException(404, f"scene '{name}' does not exist")

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._scenes)

    def observe(self, name: str, time: float, detections: list[dict], k: int | None = None,
                timing: dict | None = None, layout: Layout | None = "rows", fps: float | None = None) -> bytes | None:
        """One update of scene `name` (created if new) at `time` in seconds: the answer's JSON in `layout` (None:
        no answer). `timing` gets the seconds spent predicting ("predict") and writing the answer ("json").
        `fps`: the request gave a frame id at this rate (`time` = frame / fps), which a refusal names."""
        if len(detections) > self.limits.max_agents:
            raise HTTPException(413, f"detections: {len(detections)} agents, more than the server's limit of "
                                     f"{self.limits.max_agents} (--max-agents)")
        if k is not None and not 1 <= k <= self.limits.max_k:
            raise HTTPException(422, f"k: must be between 1 and {self.limits.max_k} (--max-k); got {k}")
        with self._held(name) as (scene, new):
            start = clock.perf_counter()
            try:
                scene.predictor.update(time, detections, k=k)
            except TrajCVAEError as e:
                if new and scene.predictor.time is None:  # a scene made by a refused request is not kept
                    with self._lock:
                        if self._scenes.get(name) is scene:
                            del self._scenes[name]
                if fps is not None and "too large to tell its steps apart" in str(e):  # named as the request did
                    raise HTTPException(422, f"frame {time_text(time * fps)} is too large to tell its steps apart: at "
                                             f"--fps {fps:g} it is {time:.6g} s, which 64-bit floats resolve only "
                                             f"{float(np.spacing(abs(time))):.3g} s apart; give frames counted from "
                                             "a start nearer 0") from None
                if "times must increase" not in str(e):  # a detection named as the body's fields are
                    raise HTTPException(422, re.sub(r"\bdetections\[(\d+)\]", r"detections.\1", str(e))) from None
                last, what = scene.predictor.time, ("time", 1.0) if fps is None else ("frame", fps)
                raise HTTPException(409, out_of_order(what[0], time * what[1], last * what[1],
                                                      f"DELETE /v1/scenes/{name} first")) from None
            predicted = clock.perf_counter()
            scene.shown = shown = scene._shown(time)
            answer = None if layout is None else shown.answer(layout)
            if timing is not None:
                timing.update(predict=predicted - start, json=clock.perf_counter() - predicted)
            return answer


class Turns:
    """Updates of one scene wait here for their turn, in the event loop and in the order they came: a queue on
    one scene (a client that sends without waiting for answers) holds none of the worker threads that other
    scenes' requests and /healthz need."""

    def __init__(self):
        # Per event loop (an app served by two, each its own queues) and scene: a lock, and how many hold or wait
        # for it. `Scene.lock` still takes the updates of the loops one at a time.
        self._queues: dict[tuple[int, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, name: str):
        key = id(asyncio.get_running_loop()), name
        lock, queued = self._queues.get(key) or (asyncio.Lock(), 0)
        self._queues[key] = (lock, queued + 1)
        try:
            async with lock:
                yield
        finally:
            lock, queued = self._queues[key]
            if queued == 1:
                del self._queues[key]
            else:
                self._queues[key] = (lock, queued - 1)


def answer_json(time: float | None, futures: pd.DataFrame, layout: Layout = "rows", pred_len: int = 12,
                warnings: Sequence[str] = (), number: int | None = None) -> bytes:
    """The answer to an update at `time` with the `futures` of `OnlinePredictor.update`, in one of two layouts,
    with "warnings": [...] after them when the scene has given any (`OnlinePredictor.warnings`), and
    "scene_number": `number` after "time" when given (the server's number of the scene, `Scene`).

    "rows": {"time": ..., "futures": [{"agent_id", "sample", "step", "time", "x", "y"[, "label"][, "weight"]},
    ...]}, one object per future position (12,000 for 50 agents x 20), written by `records`. Futures in
    degrees have "lon", "lat" in place of "x", "y", to 9 decimals (a tenth of a millimetre), not 6.
    "agents": {"time": ..., "agents": [{"agent_id", "t0", "time": (P,), "x": (K, P), "y": (K, P)[, "label"]
    [, "weight": (K,)]}, ...]}, one object per agent, its futures as nested lists: the same numbers in a
    quarter of the bytes, written from arrays (the futures come in blocks of K x P rows, one per agent,
    sample by sample, step by step)."""
    position, decimals = (("lon", "lat") if "lon" in futures.columns else ("x", "y")), position_decimals(futures)
    if layout == "rows":
        columns = ["agent_id", "sample", "step", "time", *position]
        columns += [c for c in (*AGENT_COLUMNS, "weight") if c in futures.columns]
        said = b', "warnings": ' + orjson.dumps(list(warnings)) if warnings else b""
        return (b'{' + head_json(time, number) + b', "futures": ' + records(futures, columns, decimals) + said
                + b"}")
    head = {"time": time, **({} if number is None else {"scene_number": number})}
    said = {"warnings": list(warnings)} if warnings else {}
    if not len(futures):
        return orjson.dumps({**head, "agents": [], **said})
    k = int(futures["sample"].max()) + 1
    shape = (len(futures) // (k * pred_len), k, pred_len)  # (A, K, P)
    block = futures.iloc[::k * pred_len]  # each agent's first row
    per_agent: dict[str, Any] = {
        "agent_id": block["agent_id"].astype(str).tolist(),
        "t0": np.round(block["t0"].to_numpy(np.float64), 6).tolist(),
        "time": np.round(futures["time"].to_numpy(np.float64).reshape(shape)[:, 0], 6),  # (A, P)
        **{c: np.round(futures[c].to_numpy(np.float64), decimals).reshape(shape) for c in position},  # (A, K, P)
    }  # floats to 6 decimals (positions in degrees to 9), as in "rows"
    for c in AGENT_COLUMNS:
        if c in futures.columns:
            per_agent[c] = [None if pd.isna(v) else str(v) for v in block[c].tolist()]
    if "weight" in futures.columns:
        per_agent["weight"] = np.ascontiguousarray(futures["weight"].to_numpy(np.float64).reshape(shape)[..., 0])
        # (A, K), not rounded: they sum to 1
    agents = [{c: v[a] for c, v in per_agent.items()} for a in range(shape[0])]
    return orjson.dumps({**head, "agents": agents, **said}, option=orjson.OPT_SERIALIZE_NUMPY)


def head_json(time: float | None, number: int | None) -> bytes:
    """An answer's first fields: '"time": ...' and, when given, '"scene_number": ...'."""
    return b'"time": ' + orjson.dumps(time) + (b"" if number is None else b', "scene_number": ' + orjson.dumps(number))


def position_decimals(table: pd.DataFrame) -> int:
    """Decimals of the positions in an answer: 6 (a micrometre in metres), 9 in degrees (`lon, lat`)."""
    return 9 if "lon" in table.columns else 6


def records(table: pd.DataFrame, columns: list[str], decimals: int = 6) -> bytes:
    """`table[columns]` as a JSON list of objects, floats rounded to `decimals` (a K-set's weights not, so
    that they sum to 1). Written column by column, with no Python per row: a column of few distinct values
    (ids, labels, sample, step, time) has each written once, merged with the next such column while their
    pairs stay few (agent and sample: 1,000 texts for 12,000 rows); any other column (x, y) is written by one
    orjson call and given its key in one replace (numbers hold no NUL, so NUL marks where to split them
    apart); the rows are joined at once. Three to four times as fast as pandas' encoder, which goes row by
    row."""
    n = len(table)
    if not n:
        return b"[]"
    few = max(n // 4, 1)
    parts: list = []  # per run of columns: (codes, texts) of its distinct values, or the n texts themselves
    for i, c in enumerate(columns):
        key = (b"},{" if i == 0 else b",") + orjson.dumps(c) + b":"  # "}," closes the row before
        column = table[c]
        numeric = isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiu"
        values = column.to_numpy() if numeric else column  # text as it is: pandas factorizes arrow strings fast
        if numeric and values.dtype.kind == "f" and c != "weight":  # weights whole: rounded, they would not sum to 1
            values = np.round(values.astype(np.float64), decimals)
        # Positions are all different: a look at the first values spares them the counting.
        many = numeric and len(np.unique(values[:257])) > 64
        if not many:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)  # NaN, None: a value (null) as any other
            many = numeric and len(uniques) > few
        if not many:
            texts = [key + orjson.dumps(u if numeric or pd.isna(u) or isinstance(u, (bool, int, float)) else str(u))
                     for u in uniques.tolist()]
            if parts and isinstance(parts[-1], tuple):
                pair, distinct = pd.factorize(parts[-1][0] * len(texts) + codes)
                if len(distinct) <= few:  # still few: one text per row for both columns
                    before = parts[-1][1]
                    parts[-1] = pair, [before[d // len(texts)] + texts[d % len(texts)] for d in distinct.tolist()]
                    continue
            parts.append((codes, texts))
        else:
            text = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
            parts.append((key + text.replace(b",", b"\0" + key)).split(b"\0"))
    pieces: list[bytes] = [b""] * (n * len(parts))
    for i, part in enumerate(parts):
        if isinstance(part, tuple):
            part = np.array(part[1], dtype=object)[part[0]].tolist()
        pieces[i::len(parts)] = part
    pieces[0] = pieces[0][2:]  # the first row has none before it
    return b"[" + b"".join(pieces) + b"}]"


def one_line(errors: list[dict], body: Any = None) -> str:
    """The first of pydantic's errors as one line naming the field as the request `body` sent it, e.g.
    'detections.2.x: ...' ('detections.2.track_id' for an id sent so)."""
    e = errors[0]
    if e.get("type") == "json_invalid":
        return f"body: not valid JSON ({e.get('ctx', {}).get('error', 'decode error')})"
    loc = [p for p in e.get("loc", ()) if p not in ("body", "query")]
    union = "agent_id" in loc[:-1]  # a union's error names its member's type (agent_id.str)
    if loc[:1] == ["detections"] and len(loc) > 2 and isinstance(body, dict):  # say the field's name as sent
        dets, i = body.get("detections"), loc[1]
        det = dets[i] if isinstance(dets, list) and isinstance(i, int) and 0 <= i < len(dets) else None
        if isinstance(det, dict):
            try:
                sent = {field: key for key, field in sent_fields(list(det)).items()}
            except ValueError:
                sent = {}
            loc[2] = sent.get(loc[2], loc[2])
    if union:  # say what the id takes
        where = ".".join(str(p) for p in loc[:-1])
        return f"{where}: must be a text or a whole number (got {orjson.dumps(e.get('input')).decode()[:40]})"
    where = ".".join(str(p) for p in loc) or "body"
    message = str(e.get("msg", "invalid")).splitlines()[0]
    if e.get("type") == "value_error":  # our own check's words, without pydantic's "Value error, " before them
        message = str(e.get("ctx", {}).get("error", message)).splitlines()[0]
    return f"{where}: {message}"


class Contained:
    """ASGI middleware: an unexpected exception (a bug, not the caller's) is answered with a 500 and one
    line, its traceback logged, and the server and the connection go on (Starlette's own handler re-raises,
    and uvicorn then drops the connection under a client that keeps it alive)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            logging.getLogger("uvicorn.error").exception(f"{scope.get('method')} {scope.get('path')}: internal error")
            if started:  # too late for an answer of our own
                raise
            await JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, 500)(scope, receive, send)


STALLED = 5.0  # seconds a request body's next bytes may take to come


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is refused with 413, by its Content-Length when
    it has one, else as soon as the bytes received pass the limit; one whose next bytes take more than
    STALLED seconds to come is refused with 408 (a stalled client holds no request, nor a stopping server)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length")
        too_large = f"body: more than {self.limit} bytes (--max-body)"
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await JSONResponse({"detail": too_large}, 413)(scope, receive, send)
        received, whole = 0, False

        async def limited():
            nonlocal received, whole
            if whole:  # what comes after the body (a disconnect) is waited for as long as it takes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), STALLED)
            except asyncio.TimeoutError:
                raise HTTPException(408, f"body: no bytes for {STALLED:g} s after {received} (a stalled "
                                         "client); send the whole body") from None
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, too_large)
            return message

        await self.app(scope, limited, send)


def create_app(model: TrajCVAE | str = "pedestrian", k: int = 20, kset: str = "none", seed: int = 0,
               fps: float | None = None, scale: float | str | None = None, homography: Any = None,
               forget_after: float | None = None, limits: Limits | None = None, draws: int = 1000,
               calibrate: str = "none", lonlat: bool = False, replayed: dict[str, str] | None = None,
               y_down: bool | None = None, futures: str = "mean") -> FastAPI:
    """The FastAPI app: the API under /v1, /healthz, the live page at /, the docs at /docs. lonlat: detections
    and futures in longitude and latitude (`OnlinePredictor`). With scales per scene (`scale`: a file, read once,
    or a dict), each scene takes its own; `replayed` maps the API names `replay_updates` gave a replayed file's
    scenes to those scenes, so each takes its scene's scale. `y_down`: positions are an image's pixels, y
    growing down it, which the live page draws so (default: with a homography, whose input is pixels).
    futures: "mean" or "full" (`TrajCVAE.predict`)."""
    check_sampling(k, seed, kset, draws, calibrate, futures)
    if forget_after is not None:
        check_forget_after(forget_after)
    limits = limits or Limits()
    if not 1 <= k <= limits.max_k:
        raise TrajCVAEError(f"-k {k}: more than --max-k {limits.max_k}")
    predictor = model if isinstance(model, TrajCVAE) else TrajCVAE.load(model)
    predictor.check_draws_fit(k, kset, draws)  # at start, not in every request's answer

    # Scenes whose detections were judged already (a replayed file's), each with the warnings it got.
    judged: dict[str, list[str]] = {}

    units = unit_conversion(scale, homography)
    estimates: dict[str, str] = {}  # a scene's warning that its scale is a scale file's guess
    if units is not None and "scales" in units:  # read once; a replayed scene's under the name the API gives it
        table = units["scales"]
        # A scene posted under the name the API gives a scene of the file (cam1/tracks: cam1_tracks) takes its
        # scale, as a replayed scene does: `own` names each posted name's scene in the file.
        apis = Counter(api_name(name) for name in table)  # (two scenes of one API name: neither is meant)
        own = {name: name for name in table} | {api_name(name): name for name in table
                                                if api_name(name) not in table and apis[api_name(name)] == 1}
        own |= {api: key for api, s in (replayed or {}).items() if (key := _scene_key(table, s)) is not None}
        scale = {name: table[key] for name, key in own.items()}
        estimates = {name: line for name, key in own.items() if (line := estimate_warning(units, [key]))}

    def scene(name: str) -> OnlinePredictor:  # seconds always: a request's frame id becomes seconds at --fps
        if isinstance(scale, dict) and name not in scale:
            clash = [s for s in units["scales"] if api_name(s) == name]
            if len(clash) > 1:
                raise TrajCVAEError(f"scene '{name}': {units['source']} gives scales to {clash[0]} and {clash[1]}, "
                                    "which both post under that name; rename one in the file")
            raise no_scale(units, [name])
        live = OnlinePredictor(predictor, k, seed, kset, None, scale, homography, forget_after, name, draws=draws,
                               calibrate=calibrate, lonlat=lonlat, judge_speeds=name not in judged, futures=futures)
        live.warnings = [warning_text(line) for line in ([estimates[name]] if name in estimates else [])
                         + judged.get(name, [])]
        return live

    scene(next(iter(scale)) if isinstance(scale, dict) else "-")  # checks the options before the server starts
    scenes, turns = Scenes(scene, limits), Turns()
    app = FastAPI(title="trajcvae live", version="1", docs_url=None, redoc_url=None,  # /docs: below, offline
                  description="K futures for every agent in view, updated as detections arrive.")
    app.state.scenes, app.state.judged = scenes, judged
    app.add_middleware(BodyLimit, limit=limits.max_body)
    app.add_middleware(Contained)  # outside BodyLimit: a bug anywhere inside is one line

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors, kind = exc.errors(), request.headers.get("content-type", "")
        if errors and tuple(errors[0].get("loc", ())) == ("body",) and "json" not in kind.lower():
            # FastAPI reads a body of another content type as text, whatever it holds: name the header.
            return JSONResponse({"detail": "body: send JSON with the header content-type: application/json (got "
                                           f"{kind[:60] or 'none'})"}, 422)
        return JSONResponse({"detail": one_line(errors, exc.body)}, 422)

    @app.exception_handler(AnyHTTPException)
    async def refused(request: Request, exc: AnyHTTPException):
        if exc.status_code == 400 and str(exc.detail) == "There was an error parsing the body":
            # FastAPI's answer to a body its JSON parser gave up on: say what a body must be, as for bad JSON.
            return JSONResponse({"detail": "body: not valid JSON (UTF-8 text of an object, numbers of at most "
                                           "4300 digits, nested less deeply)"}, 422)
        return JSONResponse({"detail": str(exc.detail).splitlines()[0]}, exc.status_code)

    def scene_name(scene: str) -> str:
        if not re.fullmatch(SCENE_NAME, scene):
            raise HTTPException(422, f"scene: {scene[:80]!r} is not a name of 1-64 letters, digits, '_', '.' or '-' "
                                     "(not dots alone)")
        return scene

    @app.post("/v1/scenes/{scene}/observations", summary="Detections at one time -> every agent's futures",
              responses=problems(408, 409, 413, 422, 429))
    async def observe(scene: str, body: Observations,
                k: Annotated[Optional[int], Query(description="Futures per agent for this request (default: the "
                                                      "server's -k)."), AsWhole] = None,
                layout: Layout = LAYOUT) -> Response:
        scene = scene_name(scene)
        if (body.time is None) == (body.frame is None):
            raise HTTPException(422, "time: give either time (seconds) or frame, not both or neither")
        if body.frame is not None and fps is None:
            raise HTTPException(422, "frame: the server has no --fps; send time in seconds")
        if k is not None and kset == "learned" and k != predictor.sampler.k:
            raise HTTPException(422, f"k: the server's learned K-set makes {predictor.sampler.k} futures per agent; "
                                     f"send k={predictor.sampler.k} or no k")
        if k is not None and kset == "kmeans" and k > draws:
            raise HTTPException(422, f"k: the server's K-sets are made of {draws} plain draws (--draws), so k must be "
                                     f"at most {draws}; got {k}")
        t = body.time if body.time is not None else body.frame / fps
        timing: dict = {}

        def update() -> bytes | None:  # in a worker thread, once it is this update's turn
            # Fields left out stay out; a position sent as null stays, to be named by its detection.
            dets = [{**d.model_dump(exclude_none=True, by_alias=True),
                     **{c: None for c in ("x", "y", "lon", "lat") if c in d.model_fields_set and getattr(d, c) is None}}
                    for d in body.detections]
            return scenes.observe(scene, t, dets, k, timing, layout, None if body.frame is None else fps)

        async with turns.turn(scene):
            answer = await run_in_threadpool(update)
        # Where the time went, for clients and benchmarks (the standard Server-Timing header, milliseconds).
        spent = ", ".join(f"{name};dur={seconds * 1000:.2f}" for name, seconds in timing.items())
        return Response(answer, media_type="application/json", headers={"Server-Timing": spent})

    @app.get("/v1/scenes/{scene}/futures", summary="The futures of the scene's latest update",
             responses=problems(404, 422))
    def latest_futures(scene: str, layout: Layout = LAYOUT) -> Response:
        return Response(scenes.get(scene_name(scene)).shown.answer(layout), media_type="application/json")

    @app.get("/v1/scenes/{scene}/tracks", summary="The observed positions of the agents in view",
             responses=problems(404, 422))
    def tracks(scene: str, seconds: Annotated[Optional[float], Query(
            gt=0, le=60, allow_inf_nan=False, description="Seconds of track before the latest update (default: "
                                                          "the model's observed window, 3.2 s for pedestrian)."),
            AsWritten] = None) -> Response:
        s = scenes.get(scene_name(scene))
        state = s.shown.state
        t, table = state[0], s.predictor.tracks(seconds, state)
        body = (b'{' + head_json(t, s.number) + b', "tracks": '
                + records(table, list(table.columns), position_decimals(table)) + b"}")
        return Response(body, media_type="application/json")

    @app.delete("/v1/scenes/{scene}", summary="Forget a scene", responses=problems(404, 422))
    def delete(scene: str) -> dict:
        name = scene_name(scene)
        scenes.delete(name)
        judged.pop(name, None)  # a scene made again under this name is judged as a new one
        return {"deleted": scene}

    @app.api_route("/v1/scenes/{rest:path}", methods=["GET", "POST", "DELETE"], include_in_schema=False)
    def unrouted(rest: str, request: Request) -> None:
        """A scene name holding '/' (sent as %2F, which is decoded before routing) matches no route above:
        named as a bad name, as any other is; else the path is no API's."""
        for end in {"POST": ("/observations",), "GET": ("/futures", "/tracks"), "DELETE": ("",)}[request.method]:
            if rest.endswith(end) and "/" in rest[:len(rest) - len(end)]:
                scene_name(rest[:len(rest) - len(end)])
        raise HTTPException(404, "Not Found")

    @app.get("/v1/scenes", summary="The scenes held", responses=problems())
    def list_scenes() -> dict:
        dc = predictor.config.data  # how it reads detections: the gaps it bridges, the noise it smooths
        return {"scenes": scenes.names(), "k": k, "kset": kset, "calibrate": calibrate, "futures": futures,
                "lonlat": lonlat, "y_down": homography is not None if y_down is None else y_down,
                "max_gap": dc.max_gap, "noise": dc.noise}

    @app.get("/healthz", summary="Alive")
    async def healthz() -> dict:  # in the event loop: answered while every worker thread predicts
        return {"status": "ok", "scenes": len(scenes.names())}

    # The API docs, served by the package like the live page (a robot or a lab may have no internet): the
    # Swagger UI of the swagger-ui-bundle package. Its version 4 renders OpenAPI 3.0 documents only, so it
    # reads the schema labelled 3.0.3 (its few 3.1 forms, null in anyOf, show as they are); /openapi.json
    # stays 3.1.
    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/docs/openapi.json", title="trajcvae live: API",
                                   swagger_js_url="/docs/swagger-ui-bundle.js", swagger_css_url="/docs/swagger-ui.css",
                                   swagger_favicon_url="data:,", swagger_ui_parameters={"validatorUrl": None})

    @app.get("/docs/openapi.json", include_in_schema=False)
    def docs_schema() -> dict:
        schema = copy.deepcopy(app.openapi())  # as OpenAPI 3.0 writes a schema's example: one, not a list
        for part in schema.get("components", {}).get("schemas", {}).values():
            if part.get("examples"):
                part["example"] = part.pop("examples")[0]
        return {**schema, "openapi": "3.0.3"}

    @app.get("/docs/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if name not in ("swagger-ui-bundle.js", "swagger-ui.css"):
            raise HTTPException(404, f"no docs file '{name}'")
        return FileResponse(swagger_ui_path / name)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "live.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        files = {p.name: p for p in STATIC.iterdir() if p.suffix in (".js", ".css", ".html")}
        if name not in files:
            raise HTTPException(404, f"no static file '{name}'")
        return FileResponse(files[name])

    return app


# --- replay ---------------------------------------------------------------------------------------------

def replay_updates(path: str | Path, fps: float | None = None, dt: float = 0.4,
                   scale: float | str | Path | dict | None = None,
                   homography: Any = None, log: Callable[[str], None] | None = None, lonlat: bool = False,
                   speeds: dict | None = None, max_gap: float = 0.8,
                   scene_warnings: dict[str, list[str]] | None = None,
                   time_step: float | None = None, default_fps: float | None = None,
                   columns: str | dict | None = None,
                   api_names: dict[str, str] | None = None, model: TrajCVAE | None = None,
                   classes: str | Iterable[str] | None = None, read_as: dict | None = None
                   ) -> list[tuple[str, float, list[dict]]]:
    """A recorded file as the updates a tracker would have sent: (scene, time in seconds, detections in the
    file's units), in time order. Frame ids are `fps` a second (else `default_fps`, the model's training rate,
    as `predict` reads them: it makes no frame column the clock); of unknown rate (ETH/UCY), a frame step
    (`time_step`, else each scene's own) is one model step of `dt` seconds. `log` gets the speed warning
    `predict` would give the file
    in the server's units (`scale`, `homography`), if any, judged against `speeds` (the model's
    `checks.speed_record`; None: people walking) and the model's `max_gap` (seconds bridged);
    `scene_warnings` gets, per scene (by its name in the API), the warning its detections alone get (a list
    of none or one line). A file of longitudes and latitudes is replayed as they are, to a server run with
    `lonlat`. `columns`, `classes`: the file's columns of other names and the labels of the agents replayed
    (`tracks.read_tracks`). `api_names` gets each scene's name in the API, {API name: scene}. `model`: the
    served model, whose step, gaps, speeds and training rate stand for `dt`, `max_gap`, `speeds`, `time_step`
    and `default_fps`; the file is read as it reads files (`TrajCVAE.read`: refused where no gap it bridges
    joins two samples) and `log` also gets its warnings for a file read without the units, classes or columns
    it was trained with (`TrajCVAE.units_warning`). `read_as` gets the tracks' "orient" (`read_tracks`)."""
    noise = None  # the noise the served model is told of: detections that jitter more are warned of
    if model is not None:
        dc = model.config.data
        dt, speeds, max_gap, time_step, default_fps = dc.dt, model.stats.get("speeds"), dc.max_gap, dc.time_step, dc.fps
        noise = dc.noise
        try:
            tracks = model.read([path], fps, classes=classes, columns=columns, replayed=True)
            if not bridges_any(tracks, dc.max_gap):  # samples far apart too (`read` leaves them to its windows)
                raise no_windows_error(dc, "read", tracks)
        except DataError as e:  # (the errors of its rows name the file already)
            if str(path) in str(e):
                raise
            raise DataError(f"--replay {path}: {e}") from None
    else:
        tracks = read_tracks([path], fps=fps, default_fps=default_fps, columns=columns, classes=classes)
    if log is not None and tracks.attrs["time_base"] == "frames" and tracks.attrs["rate_from"] == "model":
        log(f"replay: {path}: frame ids read at the model's training rate, {tracks.attrs['fps']:g} a second: give "
            "--fps if they count another")
    elif log is not None and tracks.attrs["time_base"] == "steps":  # as predict's summary line says
        log(f"replay: {path}: frame ids of no known rate: each scene's most common difference is read as one "
            f"{dt:g} s step; give --fps if they count a video's frames or a tracker's updates")
    if read_as is not None:
        read_as["orient"] = tracks.attrs.get("orient", "xy")
    units = tracks.attrs.get("units") or {}
    if ("lonlat" in units) != lonlat:
        raise DataError(f"--replay {path}: it holds longitudes and latitudes: add --lonlat" if "lonlat" in units
                        else f"--lonlat: --replay {path} holds x, y, not longitudes and latitudes")
    position = ("lon", "lat") if lonlat else ("x", "y")
    # The warnings read the detections in metres: the server's units, or projected.
    xy = tracks[["x", "y"]].to_numpy(dtype=np.float64)
    if not lonlat:  # each row placed in metres, or refused by its line as `read_tracks` refuses it
        units = _file_units(scale, homography, tracks)
        if log is not None and (degrees := degrees_scaled(xy, units, tracks["scene"])) is not None:
            log(f"replay: {path}: {degrees.removeprefix('warning: ')}, and run serve with --lonlat")
        xy = placed(xy, units, tracks["scene"], lambda i: f"--replay {where(tracks, i)}")[0]
    metric = tracks.assign(x=xy[:, 0], y=xy[:, 1])
    metric.attrs = {**tracks.attrs, "units": units or None}  # as `read_tracks` gives a file read in those units
    if not lonlat and not isinstance(tracks.attrs.get("coarse"), str):  # (a str: float32) decimals, in metres
        metric.attrs["coarse"] = written_coarsely(tracks, tracks[["x", "y"]].to_numpy(dtype=np.float64), xy)
    hints = model.units_warning(metric) if model is not None else None  # the options it was trained with
    if log is not None and hints:
        for line in hints.splitlines():
            log(line)
    scenes = list(metric.groupby("scene", sort=False, observed=True)) if scene_warnings is not None else []
    judged = log is not None or len(scenes) == 1
    whole = plausibility(metric, dt, speeds, max_gap=max_gap, time_step=time_step, noise=noise) if judged else None
    if log is not None and whole:
        for line in whole.splitlines():
            log(line)
    if lonlat:  # the degrees as written (`read_tracks` gave metres): the server projects them itself
        tracks = tracks.copy()
        tracks["x"], tracks["y"] = from_metres(tracks[["x", "y"]].to_numpy(dtype=np.float64), units,
                                               tracks["scene"]).T
    spu = seconds_per_unit(tracks)
    extra = [c for c in AGENT_COLUMNS if c in tracks.columns]
    if spu is None:
        steps = time_steps(tracks, time_step).step
        seconds = tracks["frame"].to_numpy() * np.array([dt / steps[str(s)] for s in tracks["scene"]])
    else:
        seconds = tracks["frame"].to_numpy() * spu
    if tracks.attrs["time_base"] != "seconds":  # frame ids made seconds: 24.9, not 24.900000000000002 (as t0)
        seconds = np.round(seconds, 6)
    # A scene's name as the API takes it (cam1/tracks -> cam1_tracks, "crowd café (1)" -> crowd_caf___1_), and
    # one no other scene of the file has taken ("a b" after "a?b": a_b_2).
    names: dict[str, str] = {}
    for scene in map(str, tracks["scene"].unique()):
        base = api_name(scene)
        name, n = base, 1
        while name in names.values():
            n += 1
            name = f"{base[:60]}_{n}"
        names[scene] = name
    if api_names is not None:
        api_names.update({name: scene for scene, name in names.items()})
    for scene, one in scenes:  # a file of one scene: its warning is the file's
        said = whole if len(scenes) == 1 else plausibility(one, dt, speeds, max_gap=max_gap, time_step=time_step,
                                                           noise=noise)
        scene_warnings[names[str(scene)]] = (hints.splitlines() if hints else []) + (said.splitlines() if said else [])
    table = pd.DataFrame({"scene": tracks["scene"].astype(str).map(names), "time": seconds,
                          "agent_id": tracks["agent_id"], position[0]: tracks["x"], position[1]: tracks["y"],
                          **{c: tracks[c] for c in extra}})
    updates = []
    for (t, scene), g in table.groupby(["time", "scene"], sort=True, observed=True):
        updates.append((scene, float(t), g[["agent_id", *position, *extra]].to_dict("records")))
    return updates


def api_name(scene: str) -> str:
    """A scene's name as the API takes it in a path: cam1/tracks -> cam1_tracks."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", scene)[:64] or "replay"
    return name if name.strip(".") else name.replace(".", "_")  # "..": a path's parent, to a client


def _file_units(scale, homography, tracks: pd.DataFrame) -> dict | None:
    """The conversion of a replayed file's positions to metres; scales per scene checked against its scenes
    (each must have one, under its name or as the API writes it) as `read_tracks` checks them."""
    units = unit_conversion(scale, homography)
    if not units or "scales" not in units:
        return units
    table = units["scales"]
    found = {s: key for s in map(str, tracks["scene"].unique()) if (key := _scene_key(table, s)) is not None}
    guessed = [*units.get("estimated", ()), *(s for s, key in found.items() if key in units.get("estimated", ()))]
    return scales_of_scenes({**units, "scales": {**table, **{s: table[key] for s, key in found.items()}},
                             "estimated": guessed}, tracks["scene"])


def _scene_key(table: dict[str, float], scene: str) -> str | None:
    """The name a scene's scale has in a table of scales per scene: its own, else the name the API gives it
    (cam1/tracks: cam1_tracks); None where neither is there."""
    return scene if scene in table else api_name(scene) if api_name(scene) in table else None


REPLAY_GAP = 60.0  # seconds of a recording between two updates that a replay skips rather than waits through


def replay(scenes: Scenes, updates: list[tuple[str, float, list[dict]]], speed: float = 1.0,
           log: Callable[[str], None] | None = None, stop: threading.Event | None = None) -> int:
    """Feed `updates` (from `replay_updates`) into `scenes`, `speed` times faster than they were recorded
    (math.inf: no waiting); a gap of over `REPLAY_GAP` seconds between two updates (a stray stamp of an unset
    clock, scenes recorded days apart) is skipped, and logged. A refused update is logged and skipped; one that
    fails otherwise (a bug) is logged in one line and ends the replay, the server going on; its end is logged.
    -> updates accepted."""
    if not speed > 0:
        raise TrajCVAEError(f"--speed must be positive (got {shown(speed)})")
    stop = stop or threading.Event()
    start, first, done = clock.monotonic(), updates[0][1] if updates else 0.0, 0
    skipped, before = 0.0, first  # the recording's seconds skipped so far; the previous update's time
    for scene, t, detections in updates:
        if t - before > REPLAY_GAP:
            skipped += t - before
            if log is not None:
                log(f"replay: {scene} at {time_text(t)} s comes {time_text(t - before)} s after the update before "
                    f"it, at {time_text(before)} s: sent at once (gaps over {REPLAY_GAP:g} s are not waited through)")
        before = t
        wait = min(start + (t - first - skipped) / speed - clock.monotonic(), threading.TIMEOUT_MAX)
        if (wait > 0 and stop.wait(wait)) or stop.is_set():
            return done
        try:
            scenes.observe(scene, t, detections, layout=None)  # readers write the JSON they ask for
            done += 1
        except HTTPException as e:
            if log is not None:
                log(f"replay: {scene} at {time_text(t)} s refused: {e.detail}")
        except Exception as e:  # noqa: BLE001 (a thread's error would end it in silence, with a traceback)
            if log is not None:
                log(f"replay: {scene} at {time_text(t)} s failed ({type(e).__name__}: {first_line(e)}); the "
                    f"replay stops after {done} updates")
            return done
    if log is not None:
        log(f"replay: done, {done} of {plural(len(updates), 'update')} taken")
    return done


@contextmanager
def running(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` from a background thread for the `with` block (port 0: a free one): -> its base URL."""
    server = _server(app, host=host, port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise TrajCVAEError(f"cannot serve on {host}:{port}")
        clock.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield _url(host, port)
    finally:
        server.should_exit = True
        thread.join(5)


def _url(host: str, port: int) -> str:
    """The address a browser takes: an IPv6 host in brackets (http://[::1]:8801)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to the address and listening, before the server says it is there: a bad host or a port
    in use is one line, and a client that connects as soon as it reads the address waits in the backlog
    until the server accepts it (port 0: the free port the system gave, which the server names). The socket
    says it is TCP (IPPROTO_TCP, as uvicorn's own): asyncio turns Nagle's algorithm off only on such sockets'
    connections, and with it on, a small answer on a kept-alive connection waits ~40 ms for a delayed ACK."""
    try:
        family, _, proto = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][:3]
        s = socket.socket(family, socket.SOCK_STREAM, proto)
    except (OSError, UnicodeError) as e:
        raise TrajCVAEError(f"--host {host} --port {port}: cannot listen there "
                            f"({getattr(e, 'strerror', None) or e})") from None
    try:
        if REUSE_ADDRESS:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(2048)  # uvicorn's backlog
    except OSError as e:
        s.close()
        raise TrajCVAEError(f"--host {host} --port {port}: cannot listen there ({e.strerror or e})") from None
    return s


def _server(app: FastAPI, **where) -> uvicorn.Server:
    """A uvicorn server of `app`: told to stop (SIGINT, SIGTERM, `should_exit`), it answers the requests in
    flight first (one stalled half-way through its body gets its 408 after STALLED seconds)."""
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", **where))


def _run(app: FastAPI, sock: socket.socket) -> None:
    """Serve `app` on the listening `sock` until interrupted (SIGINT, SIGTERM)."""
    _server(app).run(sockets=[sock])


def serve(model: str = "pedestrian", host: str = "127.0.0.1", port: int = 8000, k: int = 20, kset: str = "none",
          seed: int = 0, fps: float | None = None,
          scale: float | str | Path | dict | None = None, homography: Any = None,
          forget_after: float | None = None, limits: Limits | None = None, replay_file: str | Path | None = None,
          speed: float = 1.0, threads: int = 1, log: Callable[[str], None] = print, draws: int = 1000,
          calibrate: str = "none", lonlat: bool = False, max_gap: float | None = None,
          columns: str | dict | None = None, classes: str | Iterable[str] | None = None,
          futures: str = "mean", noise: float | str | None = None) -> None:
    """Run the server until interrupted; with `replay_file` (its columns of other names: `columns`; its agents
    of the labels `classes` only), replay it into its scenes at `speed`. `max_gap`, `noise`: see `TrajCVAE.load`;
    `futures`: see `TrajCVAE.predict`."""
    import torch

    check_log(log)
    if threads < 1:
        raise TrajCVAEError(f"--threads must be >= 1 (got {shown(threads)})")
    if not 0 <= port <= 65535:
        raise TrajCVAEError(f"--port must be between 0 and 65535 (got {shown(port)})")
    check_fps(fps)
    if not positive_number(speed):
        raise TrajCVAEError(f"--speed must be a positive number (got {shown(speed)})")
    check_sampling(k, seed, kset, draws, calibrate, futures)
    column_map(columns)
    if columns is not None and replay_file is None:
        raise TrajCVAEError(f"--columns {columns}: names the --replay file's columns (detections are posted as "
                            "the API names them); give --replay")
    if classes is not None and replay_file is None:
        raise TrajCVAEError("--classes: picks the --replay file's agents (a client posts the detections it wants "
                            "futures for); give --replay")
    if speed != 1.0 and replay_file is None:
        raise TrajCVAEError(f"--speed {speed:.15g}: the pace of a --replay (posted detections are predicted as they "
                            "come); give --replay")
    predictor = TrajCVAE.load(model, max_gap=max_gap, noise=noise)
    said: dict[str, list[str]] = {}
    replayed: dict[str, str] = {}
    read_as: dict[str, str] = {}
    updates = replay_updates(replay_file, fps, scale=scale, homography=homography, log=log, lonlat=lonlat,
                             scene_warnings=said, columns=columns, api_names=replayed, model=predictor,
                             classes=classes, read_as=read_as) if replay_file else None
    scene_count = len({u[0] for u in updates or []})
    if scene_count > limits.max_scenes:
        raise TrajCVAEError(f"--replay {replay_file}: {scene_count} scenes, more than --max-scenes "
                            f"{limits.max_scenes} held at once; give --max-scenes {scene_count} or more")
    app = create_app(predictor, k, kset, seed, fps, scale, homography, forget_after, limits, draws, calibrate,
                     lonlat, replayed, y_down=homography is not None or read_as.get("orient") == "image",
                     futures=futures)
    sock = _listen(host, port)
    torch.set_num_threads(threads)  # once every option has been checked
    log(f"serving {model} on {_url(host, sock.getsockname()[1])} (live page: /, API docs: /docs)")
    stop, replaying = threading.Event(), None
    if updates is not None:
        app.state.judged.update(said)  # `replay_updates` gave the file's warning, and each scene's
        scene_list = ", ".join(sorted({u[0] for u in updates}))
        log(f"replaying {replay_file} ({len(updates)} updates of {scene_list}) at {speed:g}x")
        replaying = threading.Thread(target=replay, args=(app.state.scenes, updates, speed, log, stop), daemon=True)
        replaying.start()
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        # uvicorn shuts down gracefully on SIGTERM but not on a closed terminal's SIGHUP: make it one.
        signal.signal(signal.SIGHUP, lambda signum, frame: signal.raise_signal(signal.SIGTERM))
    try:
        _run(app, sock)
    finally:  # the replay ends before the process does: exiting inside torch's work in it aborts the process
        stop.set()
        if replaying is not None:
            replaying.join(timeout=60)
