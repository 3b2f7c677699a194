/**
 * Headless SVG charts for the examples: vega-lite spec → vega View (renderer 'none') → toSVG().
 * No canvas or browser needed. Shared by the optimizer and MNIST examples.
 */
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log-scale y axis (non-positive and non-finite y values are dropped). */
  logY?: boolean;
  series: { name: string; points: [number, number][] }[];
}

async function render(spec: vegaLite.TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const palette = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
  '#1f77b4',
  '#2ca02c',
];

/** A multi-series line chart as an SVG string, with axis titles and a legend naming each series. */
export async function lineChartSvg(spec: {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: { name: string; points: [number, number][] }[];
}): Promise<string> {
  const rows: { series: string; x: number; y: number; order: number }[] = [];
  for (const s of spec.series) {
    s.points.forEach(([x, y], i) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      if (spec.logY && y <= 0) return;
      rows.push({ series: s.name, x, y, order: i });
    });
  }
  const names = spec.series.map((s) => s.name);
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: spec.title, fontSize: 16 },
    width: 640,
    height: 400,
    background: 'white',
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: spec.xLabel,
        axis: { labelFontSize: 12, titleFontSize: 13, grid: true },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: spec.yLabel,
        scale: spec.logY ? { type: 'log' } : { zero: false },
        axis: { labelFontSize: 12, titleFontSize: 13, grid: true, format: spec.logY ? '.0e' : '~s' },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: names,
        scale: { domain: names, range: names.map((_, i) => palette[i % palette.length]!) },
        legend: { orient: 'right', labelFontSize: 12, symbolStrokeWidth: 3, labelLimit: 260 },
      },
      order: { field: 'order', type: 'quantitative' },
    },
  } as vegaLite.TopLevelSpec);
}

/**
 * Optimizer paths in the plane over a contour-like background: each series is a sequence of
 * (x, y) parameter values drawn in order; `contours` are optional level-set polylines drawn in grey.
 */
export async function pathChartSvg(spec: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: [number, number][] }[];
  contours?: [number, number][][];
  marker?: { name: string; point: [number, number] };
  xDomain?: [number, number];
  yDomain?: [number, number];
}): Promise<string> {
  const names = spec.series.map((s) => s.name);
  const paths = spec.series.flatMap((s) =>
    s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], i) => ({ series: s.name, x, y, order: i })),
  );
  const levels = (spec.contours ?? []).flatMap((c, k) => c.map(([x, y], i) => ({ level: k, x, y, order: i })));
  const xScale = spec.xDomain ? { domain: spec.xDomain } : { zero: false };
  const yScale = spec.yDomain ? { domain: spec.yDomain } : { zero: false };
  const layers: unknown[] = [];
  if (levels.length) {
    layers.push({
      data: { values: levels },
      mark: { type: 'line', color: '#cccccc', strokeWidth: 1, clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale, title: spec.xLabel },
        y: { field: 'y', type: 'quantitative', scale: yScale, title: spec.yLabel },
        detail: { field: 'level', type: 'nominal' },
        order: { field: 'order', type: 'quantitative' },
      },
    });
  }
  layers.push({
    data: { values: paths },
    mark: { type: 'line', strokeWidth: 1.8, point: { size: 8 }, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: xScale, title: spec.xLabel, axis: { grid: false } },
      y: { field: 'y', type: 'quantitative', scale: yScale, title: spec.yLabel, axis: { grid: false } },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: names,
        scale: { domain: names, range: names.map((_, i) => palette[i % palette.length]!) },
        legend: { orient: 'right', labelFontSize: 12, symbolStrokeWidth: 3, labelLimit: 260 },
      },
      order: { field: 'order', type: 'quantitative' },
    },
  });
  if (spec.marker) {
    layers.push({
      data: { values: [{ x: spec.marker.point[0], y: spec.marker.point[1], label: spec.marker.name }] },
      layer: [
        { mark: { type: 'point', shape: 'cross', size: 200, color: 'black', filled: true } },
        {
          mark: { type: 'text', dx: 10, dy: -10, align: 'left', fontSize: 12 },
          encoding: { text: { field: 'label' } },
        },
      ],
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale },
        y: { field: 'y', type: 'quantitative', scale: yScale },
      },
    });
  }
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: spec.title, fontSize: 16 },
    width: 560,
    height: 440,
    background: 'white',
    layer: layers,
  } as vegaLite.TopLevelSpec);
}
