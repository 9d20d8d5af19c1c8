// The live page: polls the chosen scene's tracks and futures and redraws them when a new update arrives.
// Colours and marks follow the static pictures (plots.py): observed tracks solid blue, the K futures thin
// red with dots at their ends (more opaque for a larger weight, when the server gives weights), and
// optionally a purple density of the predicted positions underneath. The header shows the scene's warnings.
"use strict";
const HEADER = 40, MARGIN = 30, POLL_MS = 200, RETRY_MS = 1000, VIEW_SECONDS = 10, REACH = 3;
const SAMPLE_COLOR = "#d62728", HISTORY_COLOR = "#1f77b4", DENSITY_COLOR = "rgba(106, 81, 163, 0.06)";
const canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
const select = document.getElementById("scene"), status = document.getElementById("status");
const density = document.getElementById("density"), warning = document.getElementById("warning");
let scene = new URLSearchParams(location.search).get("scene");
let extents = [], shown = null, number = null, last = null, origin = null;
let server = {k: null, kset: "none"};

// URLs relative to the page: behind a proxy that serves it under a path (/live/), the API is there too.
async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) {
    const detail = await r.json().then(b => b.detail, () => null);  // (a proxy's error page is no JSON)
    throw Object.assign(new Error(detail || `${r.status} ${r.statusText}`), {status: r.status});
  }
  return r.json();
}

async function refreshScenes() {
  try {
    const s = await getJSON("v1/scenes");
    // The server's settings (y_down, its futures' kind) may come after the first update is drawn: redraw then.
    const settings = o => JSON.stringify({...o, scenes: null});
    const changed = settings(s) !== settings(server);
    server = s;
    if (changed && last) draw(...last);
    if (!scene && s.scenes.length) choose(s.scenes[0]);
    const names = s.scenes.includes(scene) || !scene ? s.scenes : [scene, ...s.scenes];
    if (names.join("\n") !== [...select.options].map(o => o.value).join("\n")) {
      select.replaceChildren(...names.map(n => new Option(n, n, false, n === scene)));
    }
  } catch (e) { status.textContent = "server: " + e.message; }
  setTimeout(refreshScenes, 2000);
}

function choose(name) {
  scene = name; extents = []; shown = null; number = null; last = null; origin = null;
}

// Longitudes and latitudes (a server run with --lonlat) are drawn in metres east and north of the first
// point shown, so the axes stay equal; x and y are drawn as they are.
function planar(lon, lat) {
  if (!origin) origin = {lon, lat, east: 111320 * Math.cos(lat * Math.PI / 180)};
  return {x: (((lon - origin.lon + 540) % 360) - 180) * origin.east, y: (lat - origin.lat) * 110574};
}
const point = r => (r.lon === undefined ? r : {...r, ...planar(r.lon, r.lat)});
select.onchange = () => choose(select.value);
density.onchange = () => { if (last) draw(...last); };
window.onresize = () => { if (last) draw(...last); };

async function poll() {
  let wait = POLL_MS;
  if (scene) {
    try {
      const q = encodeURIComponent(scene);
      const [f, t] = await Promise.all([getJSON(`v1/scenes/${q}/futures?layout=agents`),
                                        getJSON(`v1/scenes/${q}/tracks`)]);
      // A scene made again (deleted and posted anew: its number changes; or a server started again, which numbers
      // its scenes from 1 again, with the scene's clock started again) is another place and time: drawn afresh.
      if (number !== null && (f.scene_number !== number || (f.time !== null && f.time < shown))) choose(scene);
      // Both from the same update of the same scene (one may have arrived between the two requests), and a new one.
      if (f.scene_number === t.scene_number && f.time === t.time && f.time !== shown) {
        number = f.scene_number; shown = f.time; last = [f, t]; draw(f, t);
      }
    } catch (e) {
      // A scene gone (deleted) leaves nothing drawn; a server that does not answer leaves the last view.
      if (e.status === 404) {
        choose(scene);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        warning.textContent = warning.title = "";
      }
      status.textContent = `${scene}: ` + (e.status ? e.message : `no answer from the server (${e.message})`);
      wait = RETRY_MS;  // asked again less often while it fails
    }
  }
  setTimeout(poll, wait);
}

function groupBy(rows, key) {
  const m = new Map();
  for (const r of rows) { const k = key(r); if (!m.has(k)) m.set(k, []); m.get(k).push(r); }
  return m;
}

function draw(f, t) {
  const W = window.innerWidth, H = window.innerHeight - HEADER;
  canvas.width = W; canvas.height = H;
  ctx.clearRect(0, 0, W, H);
  const rows = t.tracks.map(point);
  const tracks = groupBy(rows, r => r.agent_id);
  // Each agent's K futures as lists of points (the answer's agents layout holds x and y, or lon and lat, as
  // K lists of P). A future that passes a camera's horizon has no pixel there (null): it is drawn up to it.
  const futures = f.agents.map(a => {
    const xs = a.x || a.lon, ys = a.y || a.lat;
    const cut = xs.map((row, i) => row.findIndex((v, j) => v === null || ys[i][j] === null));
    const paths = xs.map((row, i) => row.slice(0, cut[i] < 0 ? row.length : cut[i])
      .map((v, j) => point(a.x ? {x: v, y: ys[i][j]} : {lon: v, lat: ys[i][j]})));
    return {agent: a.agent_id, weight: a.weight, paths, whole: cut.map(c => c < 0)};
  });
  const points = futures.flatMap(a => a.paths.flat());
  // The view: every point of the updates drawn in the scene's last VIEW_SECONDS, equal axes, y up (a stray
  // detection far off leaves it once it is that old). Futures widen it up to REACH times the tracks' extent (or
  // the farthest-going track's length, or a quarter of the futures') past the tracks: a future that nears a low
  // camera's horizon (pixels in the millions) would shrink the scene to a dot; it is drawn as far as the canvas
  // shows.
  const grow = (b, p) => (b ? {x0: Math.min(b.x0, p.x0), x1: Math.max(b.x1, p.x1), y0: Math.min(b.y0, p.y0),
                                y1: Math.max(b.y1, p.y1)} : p);
  const gone = q => (q.length > 1 ? Math.hypot(q[q.length - 1].x - q[0].x, q[q.length - 1].y - q[0].y) : 0);
  let now = null;
  for (const p of rows) now = grow(now, {x0: p.x, x1: p.x, y0: p.y, y1: p.y});
  const seen = now;
  const spans = futures.flatMap(a => a.paths.map(gone)).sort((u, v) => u - v);
  const reach = REACH * Math.max(seen ? Math.hypot(seen.x1 - seen.x0, seen.y1 - seen.y0) : 0,
                                 ...[...tracks.values()].map(gone), spans.length ? spans[spans.length >> 2] : 0);
  for (const p of points) {
    if (!seen || (p.x >= seen.x0 - reach && p.x <= seen.x1 + reach && p.y >= seen.y0 - reach && p.y <= seen.y1 + reach))
      now = grow(now, {x0: p.x, x1: p.x, y0: p.y, y1: p.y});
  }
  if (now) extents.push([f.time, now]);
  extents = extents.filter(([t]) => t >= f.time - VIEW_SECONDS);
  const bounds = extents.reduce((b, [, e]) => grow(b, e), null);
  const agents = new Set([...tracks.keys(), ...futures.map(a => a.agent)]).size;
  const k = futures.length ? futures[0].paths.length : server.k;
  const weighted = futures.length > 0 && futures[0].weight !== undefined;
  status.textContent = `t = ${f.time === null ? "-" : f.time.toFixed(1)} s, ${agents} agents, K = ${k}` +
    (weighted ? `, weights (${server.kset})` : "") + (server.futures === "full" ? ", full draws of p(y|x)" : "");
  // The scene's warnings (units, rate, an id that jumped): the latest in the header, all of them on hover.
  const said = f.warnings || [];
  warning.textContent = said.length ? `warning: ${said[said.length - 1]}` +
    (said.length > 1 ? ` (${said.length - 1} more)` : "") : "";
  warning.title = said.join("\n");
  if (!bounds) return;
  const span = Math.max(bounds.x1 - bounds.x0, bounds.y1 - bounds.y0, 1e-9);
  const scale = Math.min((W - 2 * MARGIN) / Math.max(bounds.x1 - bounds.x0, span * 1e-3),
                         (H - 2 * MARGIN) / Math.max(bounds.y1 - bounds.y0, span * 1e-3));
  const cx = (bounds.x0 + bounds.x1) / 2, cy = (bounds.y0 + bounds.y1) / 2;
  // y grows up the canvas, or down it for an image's pixels (a homography server's, a replayed video's).
  const up = server.y_down ? -1 : 1;
  const px = x => W / 2 + (x - cx) * scale, py = y => H / 2 - up * (y - cy) * scale;
  const start = new Map([...tracks].map(([a, rows]) => [a, rows[rows.length - 1]]));

  if (density.checked) {
    ctx.fillStyle = DENSITY_COLOR;
    for (const a of futures) {
      a.paths.forEach((rows, i) => {
        // A K-set's future shades as much as its weight: K times its share, 1 on average, as a plain draw.
        ctx.globalAlpha = weighted ? Math.min(1, a.weight[i] * a.paths.length) : 1;
        for (const r of rows) { ctx.beginPath(); ctx.arc(px(r.x), py(r.y), 8, 0, 2 * Math.PI); ctx.fill(); }
      });
    }
    ctx.globalAlpha = 1;
  }
  for (const a of futures) {
    const most = weighted ? Math.max(...a.weight) : 1;
    a.paths.forEach((rows, i) => {
      const share = weighted ? a.weight[i] / most : 0.5, s = start.get(a.agent);
      if (!rows.length && !s) return;
      ctx.strokeStyle = SAMPLE_COLOR; ctx.lineWidth = 1; ctx.globalAlpha = 0.15 + 0.6 * share;
      ctx.beginPath();
      if (s) ctx.moveTo(px(s.x), py(s.y)); else ctx.moveTo(px(rows[0].x), py(rows[0].y));
      for (const r of rows) ctx.lineTo(px(r.x), py(r.y));
      ctx.stroke();
      ctx.globalAlpha = 1; ctx.fillStyle = SAMPLE_COLOR;
      if (!a.whole[i]) return;  // an end dot only where the future ends
      const end = rows[rows.length - 1];
      ctx.beginPath(); ctx.arc(px(end.x), py(end.y), weighted ? 1.5 + 2 * share : 2.5, 0, 2 * Math.PI); ctx.fill();
    });
  }
  ctx.globalAlpha = 1; ctx.strokeStyle = HISTORY_COLOR; ctx.fillStyle = HISTORY_COLOR; ctx.lineWidth = 2;
  for (const rows of tracks.values()) {
    ctx.beginPath();
    rows.forEach((r, i) => (i ? ctx.lineTo(px(r.x), py(r.y)) : ctx.moveTo(px(r.x), py(r.y))));
    ctx.stroke();
    const r = rows[rows.length - 1];
    ctx.beginPath(); ctx.arc(px(r.x), py(r.y), 3.5, 0, 2 * Math.PI); ctx.fill();
  }
}

refreshScenes();
poll();
