#!/usr/bin/env node
// Builds src/html/world.tsv, the country outlines of the HTML report's world map.
//
//   cd scripts/map && npm ci && node build-world.cjs > ../../src/html/world.tsv
//
// Source: Natural Earth 1:50m Admin 0 countries (public domain), as packaged in TopoJSON by
// the npm package world-atlas 2.0.2 (ISC). The 1:50m set, not 1:110m, because 1:110m has
// no Singapore, Hong Kong, Bahrain or Macau, where cloud regions are. Countries are keyed
// by ISO 3166-1 alpha-2 (the location catalog's codes) via i18n-iso-countries.
//
// What it does: projects to the Equal Earth projection (an equal-area projection, so a
// country's size on the map is its size on the globe), drops Antarctica, scales to a
// 2000-unit-wide canvas with integer coordinates, simplifies every ring with
// Douglas-Peucker (tolerance 1 unit = 0.05% of the width), drops rings smaller than 6
// square units unless the ring is a country's largest, and writes one row per country:
// code, name, label point (centroid of its largest ring), SVG path with relative moves.
// The output is deterministic: the same packages give the same file.
"use strict";
const topo = require("topojson-client");
const iso = require("i18n-iso-countries");
const world = require("world-atlas/countries-50m.json");

const WIDTH = 2000;
const TOLERANCE = 1.0;
const MIN_AREA = 6;
// Territories Natural Earth draws without an ISO numeric code.
const BY_NAME = { Kosovo: "XK" };

// Equal Earth (Šavrič, Patterson, Jenny 2018): x, y in radians-scaled units.
const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
function equalEarth(lon, lat) {
  const l = (lon * Math.PI) / 180, p = (lat * Math.PI) / 180;
  const t = Math.asin(M * Math.sin(p)), t2 = t * t, t6 = t2 * t2 * t2;
  const x = (l * Math.cos(t)) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)));
  const y = t * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
  return [x, y];
}
const XMAX = equalEarth(180, 0)[0];
const LAT_TOP = 84, LAT_BOTTOM = -57; // Antarctica dropped; Tierra del Fuego ends at -56
const YTOP = equalEarth(0, LAT_TOP)[1], YBOTTOM = equalEarth(0, LAT_BOTTOM)[1];
const SCALE = WIDTH / (2 * XMAX);
const HEIGHT = Math.ceil((YTOP - YBOTTOM) * SCALE);
function project(lon, lat) {
  const [x, y] = equalEarth(lon, Math.max(LAT_BOTTOM, Math.min(LAT_TOP, lat)));
  return [(x + XMAX) * SCALE, (YTOP - y) * SCALE];
}

// Rings that cross the antimeridian (Russia's Chukotka, Fiji) jump from +180 to -180;
// drawn as they are, that jump is a line across the whole map. Make each ring's longitudes
// continuous instead (a ring may then reach past 180 and run a little off the edge),
// keeping the bulk of the ring on its own side.
function unwrap(ring) {
  const out = [];
  let shift = 0;
  for (let i = 0; i < ring.length; i++) {
    if (i > 0) {
      const jump = ring[i][0] - ring[i - 1][0];
      if (jump > 180) shift -= 360;
      else if (jump < -180) shift += 360;
    }
    out.push([ring[i][0] + shift, ring[i][1]]);
  }
  const mean = out.reduce((s, p) => s + p[0], 0) / out.length;
  const back = mean > 180 ? -360 : mean < -180 ? 360 : 0;
  return back ? out.map(([x, y]) => [x + back, y]) : out;
}

function perpendicular(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len = Math.hypot(dx, dy);
  if (len === 0) return Math.hypot(p[0] - a[0], p[1] - a[1]);
  return Math.abs(dy * p[0] - dx * p[1] + b[0] * a[1] - b[1] * a[0]) / len;
}
function simplify(points) {
  if (points.length < 4) return points.slice();
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  while (stack.length) {
    const [s, e] = stack.pop();
    let best = -1, at = -1;
    for (let i = s + 1; i < e; i++) {
      const d = perpendicular(points[i], points[s], points[e]);
      if (d > best) { best = d; at = i; }
    }
    if (best > TOLERANCE) { keep[at] = 1; stack.push([s, at], [at, e]); }
  }
  return points.filter((_, i) => keep[i]);
}
function area(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  }
  return a / 2;
}
function centroid(ring) {
  let a = 0, cx = 0, cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    a += f; cx += (ring[j][0] + ring[i][0]) * f; cy += (ring[j][1] + ring[i][1]) * f;
  }
  if (a === 0) return ring[0];
  return [cx / (3 * a), cy / (3 * a)];
}

const rows = [];
for (const feature of topo.feature(world, world.objects.countries).features) {
  const name = feature.properties.name;
  const code = BY_NAME[name] || (feature.id && iso.numericToAlpha2(feature.id));
  if (!code || code === "AQ") continue; // unnamed slivers; Antarctica
  const polys = feature.geometry.type === "Polygon"
    ? [feature.geometry.coordinates] : feature.geometry.coordinates;
  const rings = [];
  for (const poly of polys) {
    for (const ring of poly) {
      const pts = [];
      for (const [lon, lat] of unwrap(ring)) {
        const [x, y] = project(lon, lat).map(Math.round);
        const last = pts[pts.length - 1];
        if (!last || last[0] !== x || last[1] !== y) pts.push([x, y]);
      }
      rings.push(simplify(pts));
    }
  }
  const largest = rings.reduce((b, r) => (Math.abs(area(r)) > Math.abs(area(b)) ? r : b), rings[0]);
  let d = "";
  for (const r of rings) {
    if (r !== largest && (r.length < 3 || Math.abs(area(r)) < MIN_AREA)) continue;
    let [px, py] = r[0];
    d += `M${px} ${py}`;
    let l = "";
    for (const [x, y] of r.slice(1)) {
      l += `${l ? " " : "l"}${x - px} ${y - py}`;
      px = x; py = y;
    }
    d += `${l}z`;
  }
  const [cx, cy] = centroid(largest).map(Math.round);
  rows.push([code, name, cx, cy, d]);
}
rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const out = [
  "# Country outlines for the HTML report's world map (Equal Earth projection).",
  "# Source: Natural Earth 1:50m Admin 0 - Countries (public domain, naturalearthdata.com),",
  "# via the npm package world-atlas 2.0.2 (TopoJSON, ISC). Built by scripts/map/build-world.cjs;",
  "# do not edit by hand. Borders as drawn by Natural Earth, not a statement on any dispute.",
  `# canvas ${WIDTH} ${HEIGHT}`,
  "country\tname\tlabel_x\tlabel_y\tpath",
  ...rows.map((r) => r.join("\t")),
];
process.stdout.write(out.join("\n") + "\n");
