// Time-series charts with uPlot (the webjar served at /ui/lib/uplot/). A chart is redrawn with
// setData when it already exists, so a refresh every few seconds does not rebuild the canvas.
import uPlot from '../lib/uplot/uPlot.esm.js';
import { h } from './dom.js';

const COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#57606a'];

/**
 * A line chart of series over time.
 * @param {string} title shown above the chart (and its accessible name)
 * @param {number[]} xs times, Unix seconds
 * @param {{label: string, values: (number|null)[]}[]} series one line each
 * @param {{unit?: string, integer?: boolean, from?: number, to?: number}} opts integer: whole-number ticks (counts);
 *     from, to: the time range shown (Unix seconds), else the data's
 */
export function lineChart(title, xs, series, opts = {}) {
  const box = h('figure', { class: 'chart', role: 'img', 'aria-label': `${title}: ${series.map((s) => s.label).join(', ')}` },
    h('h3', {}, title));
  const plot = new uPlot({
    width: 420,
    height: 200,
    scales: { x: opts.from !== undefined ? { time: true, range: [opts.from, opts.to] } : { time: true } },
    axes: [
      {},
      {
        label: opts.unit || '',
        incrs: opts.integer ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] : undefined,
        values: (u, ticks) => ticks.map((v) => (opts.integer ? String(Math.round(v)) : String(Number(v.toPrecision(3))))),
      },
    ],
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false }))],
  }, [xs, ...series.map((s) => s.values)], box);
  box.plot = plot;
  return box;
}
