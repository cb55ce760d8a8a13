/**
 * The bench's results as an SVG chart: unary latency (p50, p99) and
 * throughput, each beside the zero-work server (grpc.health.v1 Health/Check
 * on the same channel and server). Drawn by Apache ECharts' server-side
 * renderer, which writes SVG in Node with no DOM, canvas or browser.
 *
 * Also a command: `node dist/bench/chart.js [results.json]` draws the chart
 * of a results file next to it, as <name>.svg (default: the committed
 * bench/results/core-baseline.json).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as echarts from 'echarts';
import { PACKAGE_ROOT } from '../src/package-root.js';
import type { CoreResults } from './report.js';

export interface ChartInput {
  readonly timestamp: string;
  readonly conditions: { readonly node: string; readonly cpuCount: number; readonly cpuModel: string; readonly loadAverage: readonly number[] };
  readonly results: CoreResults;
}

const WIDTH = 960;
const HEIGHT = 440;
const FLOOR = '#94a3b8';
const P50 = '#2563eb';
const P99 = '#93c5fd';
const THROUGHPUT = '#059669';

/** The SVG text, or undefined when the results hold neither latency nor throughput. */
export function benchChartSvg({ timestamp, conditions, results }: ChartInput): string | undefined {
  const { unary, throughput } = results;
  if (!unary && !throughput) return undefined;
  const latency = unary
    ? [
        ['Health/Check\n(zero work)', unary.grpcFloor],
        ['GetVariable', unary.getVariable],
        ['SetVariable', unary.setVariable],
        ['RegisterVariable', unary.registerVariable],
      ] as const
    : [];
  const rates = throughput
    ? ([
        ...(throughput.floorCallsPerSecond !== undefined ? [['Health/Check\n(zero work)', throughput.floorCallsPerSecond, FLOOR] as const] : []),
        ['SetVariable', throughput.callsPerSecond, THROUGHPUT] as const,
      ] as const)
    : [];
  const concurrency = throughput?.conditions.concurrency ?? 16;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  const label = { show: true, position: 'top' as const, fontSize: 10, color: '#334155' };
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif' },
    title: [
      {
        text: 'varledger core bench',
        subtext: `${timestamp.slice(0, 10)} · node ${conditions.node} · ${conditions.cpuCount} × ${conditions.cpuModel} · load ${conditions.loadAverage[0] ?? '?'} · gRPC over loopback`,
        left: 16,
        top: 8,
        textStyle: { fontSize: 16 },
        subtextStyle: { fontSize: 11, color: '#64748b' },
      },
      { text: 'Unary latency, one call in flight (µs, log scale)', left: '4%', top: 70, textStyle: { fontSize: 13 } },
      {
        text: `Throughput, ${concurrency} calls in flight (calls/s)`,
        subtext: throughput && throughput.floorCallsPerSecond === undefined ? 'zero-work throughput: not measured in this run' : '',
        left: '64%',
        top: 70,
        textStyle: { fontSize: 13 },
        subtextStyle: { fontSize: 10, color: '#64748b' },
      },
    ],
    legend: { data: ['p50', 'p99'], top: 68, left: '44%', itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 } },
    grid: [
      { left: '6%', width: '52%', top: 120, bottom: 56 },
      { left: '68%', width: '28%', top: 120, bottom: 56 },
    ],
    xAxis: [
      { gridIndex: 0, type: 'category', data: latency.map(([name]) => name), axisLabel: { fontSize: 11, interval: 0 } },
      { gridIndex: 1, type: 'category', data: rates.map(([name]) => name), axisLabel: { fontSize: 11, interval: 0 } },
    ],
    yAxis: [
      // p99 can be ten times p50: a log scale keeps both readable.
      { gridIndex: 0, type: 'log', logBase: 10, min: (extent: { min: number }) => 10 ** Math.floor(Math.log10(extent.min)), splitLine: { lineStyle: { color: '#e2e8f0' } } },
      { gridIndex: 1, type: 'value', splitLine: { lineStyle: { color: '#e2e8f0' } } },
    ],
    series: [
      {
        name: 'p50',
        type: 'bar',
        itemStyle: { color: P50 },
        xAxisIndex: 0,
        yAxisIndex: 0,
        label,
        data: latency.map(([, f], i) => ({ value: Math.round(f.p50Us), itemStyle: { color: i === 0 ? FLOOR : P50 } })),
      },
      {
        name: 'p99',
        type: 'bar',
        itemStyle: { color: P99 },
        xAxisIndex: 0,
        yAxisIndex: 0,
        label,
        data: latency.map(([, f], i) => ({ value: Math.round(f.p99Us), itemStyle: { color: i === 0 ? '#cbd5e1' : P99 } })),
      },
      {
        name: 'calls/s',
        type: 'bar',
        xAxisIndex: 1,
        yAxisIndex: 1,
        barWidth: '45%',
        label,
        data: rates.map(([, value, color]) => ({ value, itemStyle: { color } })),
      },
    ],
    graphic: [
      {
        type: 'text',
        left: 16,
        bottom: 10,
        style: { text: 'Grey: the zero-work server — grpc.health.v1 Health/Check on the same channel and server, no varledger code. Durability normal (WAL).', fontSize: 11, fill: '#64748b' },
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** Writes the chart beside the JSON results (report.ts's writeResults): local/core-<stamp>.svg, local/core-latest.svg, and core-baseline.svg with a baseline. */
export function writeChart(svg: string, startedAt: Date, baseline = false, dir = join(PACKAGE_ROOT, 'bench', 'results')): string[] {
  const local = join(dir, 'local');
  mkdirSync(local, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const paths = [join(local, `core-${stamp}.svg`), join(local, 'core-latest.svg')];
  if (baseline) paths.push(join(dir, 'core-baseline.svg'));
  for (const path of paths) writeFileSync(path, svg);
  return paths;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? join(PACKAGE_ROOT, 'bench', 'results', 'core-baseline.json');
  const input = JSON.parse(readFileSync(file, 'utf8')) as ChartInput;
  const svg = benchChartSvg(input);
  if (!svg) {
    console.error(`${file} has no unary or throughput results to chart`);
    process.exitCode = 1;
  } else {
    const out = file.replace(/\.json$/, '') + '.svg';
    writeFileSync(out, svg);
    console.log(out);
  }
}
