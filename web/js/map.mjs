// map.mjs — maps drawn from the city's own area GeoJSON with ECharts:
// registerMap + a geo component, a map series for colouring regions, and
// scatter series for pins and points. No tiles, no network beyond cityops.
// Clicking the map gives lon/lat (chart.convertFromPixel); clicking a region
// gives its area code (features are matched on properties.code).

import * as echarts from '/vendor/echarts.esm.min.mjs';
import { h } from './dom.mjs';

export { echarts };

const geoCache = new Map();

/* Fetches and registers the areas of one level (below `within`); returns
 * {mapName, names: Map(code → name), features}. */
export async function loadAreas(level, within) {
  const key = `${level}:${within || ''}`;
  if (!geoCache.has(key)) {
    const p = (async () => {
      const u = new URLSearchParams({ level });
      if (within) u.set('within', within);
      const res = await fetch('/api/v1/areas.geojson?' + u, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`areas.geojson ${res.status}`);
      const gj = await res.json();
      const mapName = 'co-' + key;
      echarts.registerMap(mapName, gj);
      const names = new Map();
      for (const f of gj.features) names.set(f.properties.code, f.properties.name);
      const shapes = gj.features.filter((f) => f.geometry).map((f) => ({ code: f.properties.code, geometry: f.geometry, bbox: bboxOf({ features: [f] }) }));
      return { mapName, names, shapes, count: gj.features.length, bbox: bboxOf(gj) };
    })();
    p.catch(() => geoCache.delete(key));
    geoCache.set(key, p);
  }
  return geoCache.get(key);
}

function bboxOf(gj) {
  let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < minx) minx = c[0];
      if (c[0] > maxx) maxx = c[0];
      if (c[1] < miny) miny = c[1];
      if (c[1] > maxy) maxy = c[1];
    } else for (const x of c) visit(x);
  };
  for (const f of gj.features) if (f.geometry) visit(f.geometry.coordinates);
  return [minx, miny, maxx, maxy];
}

function inRing(ring, x, y) {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

const THEMES = {
  light: {
    area: '#eef3fa', border: '#8aa4c8', hover: '#d6e4f7', label: '#334', pin: '#d9342b',
    point: '#1f5fbf', ramp: ['#e8f0fb', '#9ec1ea', '#4a86cf', '#1f4f9a', '#0e2a5c'], text: '#223',
  },
  dark: {
    area: '#0f2742', border: '#2f6fb0', hover: '#1d4f86', label: '#cfe3ff', pin: '#ff5a4e',
    point: '#43e0ff', ramp: ['#0f2d4d', '#14527a', '#1f8fb3', '#f2b134', '#ff5a3c'], text: '#e8f1ff',
  },
};

export class AreaMap {
  /* opts: {theme, onPick(lon, lat), onRegion(code, name), labels, roam, ariaLabel} */
  constructor(el, opts = {}) {
    this.el = el;
    this.opts = opts;
    this.theme = THEMES[opts.theme || 'light'];
    this.chart = echarts.init(el, null, { renderer: 'canvas' });
    this.level = null;
    this.within = null;
    this.names = new Map();
    this.values = null;
    this.pin = null;
    this.points = [];
    this.pulses = [];
    el.setAttribute('role', 'img');
    el.areaMap = this; // for tests and the console: the element knows its map
    if (opts.ariaLabel) el.setAttribute('aria-label', opts.ariaLabel);
    // A click is a press and release at the same spot (a drag pans the map).
    // zrender's own 'click' is dropped when the element under the pointer
    // changes between press and release (a hover label appearing), so the
    // click is recognised here and the region found by point-in-polygon.
    const zr = this.chart.getZr();
    let down = null;
    zr.on('mousedown', (e) => { down = { x: e.offsetX, y: e.offsetY, t: Date.now() }; });
    zr.on('mouseup', (e) => {
      const d = down;
      down = null;
      if (!d || !this.mapName || Math.hypot(e.offsetX - d.x, e.offsetY - d.y) > 5 || Date.now() - d.t > 1500) return;
      const p = this.chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
      if (!p || !isFinite(p[0]) || !isFinite(p[1])) return;
      if (this.opts.onPick) this.opts.onPick(p[0], p[1]);
      if (this.opts.onRegion) {
        const code = this.regionAt(p[0], p[1]);
        if (code) this.opts.onRegion(code, this.names.get(code));
      }
    });
    this._ro = new ResizeObserver(() => {
      if (!el.isConnected || !el.clientWidth || !el.clientHeight || this.chart.isDisposed()) return;
      this.chart.resize();
      if (this.pending) this.render();
    });
    this._ro.observe(el);
  }

  /* Draws the areas of `level` below `within`. An area with nothing below it
   * (a rural community without grids) draws nothing and answers count 0:
   * the caller stays where it was. */
  async show(level, within) {
    const g = await loadAreas(level, within);
    if (!g.count) return g;
    this.level = level;
    this.within = within || null;
    this.mapName = g.mapName;
    this.names = g.names;
    this.shapes = g.shapes;
    this.bbox = g.bbox;
    this.values = null;
    this.render();
    return g;
  }

  setPin(lon, lat) {
    this.pin = isFinite(lon) && isFinite(lat) ? [lon, lat] : null;
    this.render();
  }

  /* values: Map or object code → number; fmt(code, value) → tooltip lines */
  setValues(values, { max, unit = '', fmt } = {}) {
    this.values = values instanceof Map ? values : new Map(Object.entries(values || {}));
    this.valueMax = max;
    this.valueUnit = unit;
    this.valueFmt = fmt;
    this.render();
  }

  setPoints(points) {
    this.points = points || [];
    this.render();
  }

  /* The code of the shown area that holds a point, or null. */
  regionAt(lon, lat) {
    for (const sh of this.shapes || []) {
      const b = sh.bbox;
      if (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3]) continue;
      const polys = sh.geometry.type === 'Polygon' ? [sh.geometry.coordinates] : sh.geometry.type === 'MultiPolygon' ? sh.geometry.coordinates : [];
      for (const rings of polys) {
        let inside = false;
        rings.forEach((ring) => { if (inRing(ring, lon, lat)) inside = !inside; }); // holes toggle
        if (inside) return sh.code;
      }
    }
    return null;
  }

  /* A short-lived ripple at a point (the live feed). */
  pulse(lon, lat, ms = 6000) {
    if (!isFinite(lon) || !isFinite(lat)) return;
    const p = { value: [lon, lat], until: Date.now() + ms };
    this.pulses.push(p);
    this.render();
    setTimeout(() => {
      this.pulses = this.pulses.filter((x) => x.until > Date.now());
      this.render();
    }, ms + 50);
  }

  /* Fits the view to a lon/lat box (zooming into the map). */
  focus(bbox) {
    this.focusBox = bbox || null;
    this.render();
  }

  render() {
    if (!this.mapName || this.chart.isDisposed()) return;
    // ECharts cannot lay out a map in a box of no size (detached or hidden):
    // wait for the ResizeObserver to report one
    if (!this.el.isConnected || !this.el.clientWidth || !this.el.clientHeight) {
      this.pending = true;
      return;
    }
    this.pending = false;
    if (this.chart.getWidth() !== this.el.clientWidth || this.chart.getHeight() !== this.el.clientHeight) this.chart.resize();
    const T = this.theme;
    const k = (this.opts.labelSize || 12) / 12; // sizes follow the label size
    const showLabels = this.opts.labels !== false && this.level !== 'grid' && this.names.size <= 40;
    const names = this.names;
    const values = this.values;
    const geo = {
      map: this.mapName,
      nameProperty: 'code',
      roam: this.opts.roam !== false,
      scaleLimit: { min: 0.8, max: 40 },
      layoutCenter: ['50%', '50%'],
      layoutSize: '96%',
      selectedMode: false,
      itemStyle: { areaColor: T.area, borderColor: T.border, borderWidth: 1 },
      emphasis: {
        itemStyle: { areaColor: T.hover },
        label: { show: true, color: T.text, formatter: (p) => names.get(p.name) || p.name },
      },
      label: {
        show: showLabels,
        color: T.label,
        fontSize: this.opts.labelSize || 11,
        formatter: (p) => names.get(p.name) || p.name,
      },
      tooltip: { show: true, formatter: (p) => tipOf(p) },
    };
    if (this.focusBox) {
      geo.boundingCoords = [[this.focusBox[0], this.focusBox[3]], [this.focusBox[2], this.focusBox[1]]];
    }
    const series = [];
    let visualMap;
    if (values) {
      const data = [];
      let max = 0;
      for (const code of names.keys()) {
        const v = values.get(code) || 0;
        if (v > max) max = v;
        data.push({ name: code, value: v });
      }
      series.push({ type: 'map', geoIndex: 0, data, name: 'density' });
      visualMap = {
        type: 'continuous',
        min: 0,
        max: this.valueMax || max || 1,
        calculable: false,
        seriesIndex: 0,
        orient: 'vertical',
        left: 12 * k,
        bottom: 12 * k,
        itemHeight: 110 * k,
        itemWidth: 12 * k,
        text: [this.opts.highText || '高', this.opts.lowText || '低'],
        textStyle: { color: T.text, fontSize: 12 * k },
        inRange: { color: T.ramp },
      };
    }
    if (this.points.length) {
      series.push({
        type: 'scatter',
        coordinateSystem: 'geo',
        geoIndex: 0,
        name: 'points',
        data: this.points.map((p) => ({ value: [p.lon, p.lat], name: p.name, itemStyle: p.color ? { color: p.color } : undefined })),
        symbolSize: this.opts.pointSize || 8,
        itemStyle: { color: T.point, borderColor: '#fff', borderWidth: 1 },
        z: 3,
      });
    }
    if (this.pulses.length) {
      series.push({
        type: 'effectScatter',
        coordinateSystem: 'geo',
        geoIndex: 0,
        name: 'live',
        data: this.pulses.map((p) => ({ value: p.value })),
        symbolSize: 14,
        rippleEffect: { scale: 5, brushType: 'stroke', period: 2 },
        itemStyle: { color: T.pin },
        z: 4,
        silent: true,
      });
    }
    if (this.pin) {
      series.push({
        type: 'scatter',
        coordinateSystem: 'geo',
        geoIndex: 0,
        name: 'pin',
        data: [{ value: this.pin }],
        symbol: 'pin',
        symbolSize: 34,
        symbolOffset: [0, '20%'],
        itemStyle: { color: T.pin, borderColor: '#fff', borderWidth: 1.5 },
        z: 5,
        silent: true,
      });
    }
    const self = this;
    // tooltips are DOM built with text nodes (ECharts would parse a string as HTML)
    const tipOf = (p) => {
      if (p.seriesName === 'points') return h('div', null, p.name || '');
      const code = p.name;
      const nm = names.get(code);
      if (!nm) return h('div', null, code || '');
      const lines = [h('strong', null, nm)];
      if (values && self.valueFmt) {
        for (const line of self.valueFmt(code, values.get(code) || 0)) lines.push(h('div', null, line));
      }
      return h('div', null, lines);
    };
    this.chart.setOption(
      {
        backgroundColor: 'transparent',
        animation: false,
        tooltip: {
          trigger: 'item',
          confine: true,
          backgroundColor: this.opts.theme === 'dark' ? 'rgba(8,22,40,0.92)' : '#fff',
          borderColor: T.border,
          textStyle: { color: T.text },
          formatter: (p) => tipOf(p),
        },
        geo,
        visualMap,
        series,
      },
      { notMerge: true },
    );
  }

  resize() {
    this.chart.resize();
  }

  /* Page coordinates of a lon/lat (for tests and keyboardless automation). */
  pixelOf(lon, lat) {
    const p = this.chart.convertToPixel({ geoIndex: 0 }, [lon, lat]);
    const r = this.el.getBoundingClientRect();
    return p ? { x: r.left + p[0], y: r.top + p[1] } : null;
  }

  dispose() {
    this._ro.disconnect();
    if (!this.chart.isDisposed()) this.chart.dispose();
  }
}

/* Next level down. */
export const CHILD = { city: 'district', district: 'street', street: 'community', community: 'grid' };
export function levelOfCode(code) {
  if (!code) return 'city';
  return { 6: 'district', 9: 'street', 12: 'community', 15: 'grid' }[code.length] || 'city';
}
