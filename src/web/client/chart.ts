/**
 * A variable's values over time, drawn by uPlot: numbers as lines, booleans,
 * choices and modules as steps between their categories, embeddings and
 * tensors as their norm or chosen elements. Strings are not plotted. The
 * figure carries `data-points`, the number of versions plotted.
 */
import uPlot from 'uplot';
import type { HistoryEntryJson, VariableJson } from '../api-types.js';
import { h } from './dom.js';
import { valueNumber } from './format.js';

/** What an embedding or tensor plot shows. */
export type ArrayMode = { readonly kind: 'norm' } | { readonly kind: 'dims'; readonly dims: readonly number[] };

const COLOURS = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4d7c0f'];

export const isPlottable = (variable: VariableJson): boolean => variable.type !== 'string';

interface Plan {
  readonly series: uPlot.Series[];
  /** A fixed value range (categories), else automatic. */
  readonly yRange?: [number, number];
  readonly ys: (entry: HistoryEntryJson) => (number | null)[];
  readonly yAxis: uPlot.Axis;
}

function categories(variable: VariableJson, entries: readonly HistoryEntryJson[]): string[] {
  const listed = Array.isArray(variable.constraints.choices) ? (variable.constraints.choices as string[]) : [];
  const seen = entries.map((e) => (e.value.kind === 'string' ? e.value.value : '')).filter((v) => v !== '' && !listed.includes(v));
  return [...listed, ...new Set(seen)];
}

function plan(variable: VariableJson, entries: readonly HistoryEntryJson[], mode: ArrayMode): Plan {
  const stepped = uPlot.paths.stepped!({ align: 1 });
  const points = { show: entries.length <= 200, size: 6 };
  const base = { stroke: COLOURS[0], width: 2, points };
  switch (variable.type) {
    case 'boolean':
      return {
        series: [{ ...base, label: variable.name, paths: stepped }],
        ys: (e) => [valueNumber(e.value)],
        yAxis: { splits: () => [0, 1], values: (_u, splits) => splits.map((s) => (s === 1 ? 'true' : 'false')) },
        yRange: [-0.25, 1.25],
      };
    case 'choice':
    case 'module': {
      const cats = categories(variable, entries);
      return {
        series: [{ ...base, label: variable.name, paths: stepped, value: (_u, v) => (v === null ? '—' : (cats[v] ?? '')) }],
        ys: (e) => [e.value.kind === 'string' ? cats.indexOf(e.value.value) : null],
        yAxis: { splits: () => cats.map((_, i) => i), values: (_u, splits) => splits.map((s) => cats[s] ?? ''), size: 100 },
        yRange: [-0.5, Math.max(cats.length - 0.5, 0.5)],
      };
    }
    case 'embedding':
    case 'tensor':
      if (mode.kind === 'dims') {
        return {
          series: mode.dims.map((d, i) => ({ ...base, stroke: COLOURS[i % COLOURS.length], label: `x[${d}]` })),
          ys: (e) => mode.dims.map((d) => (e.value.kind === 'vector' || e.value.kind === 'tensor' ? (e.value.picked?.[String(d)] ?? null) : null)),
          yAxis: {},
        };
      }
      return { series: [{ ...base, label: '‖x‖ (norm)' }], ys: (e) => [valueNumber(e.value)], yAxis: {} };
    default:
      return { series: [{ ...base, label: variable.name }], ys: (e) => [valueNumber(e.value)], yAxis: {} };
  }
}

export class ValueChart {
  readonly element: HTMLElement;
  private readonly plotArea: HTMLElement;
  private plot: uPlot | undefined;
  private readonly resize: ResizeObserver;

  constructor() {
    this.plotArea = h('div', { class: 'plot' });
    this.element = h('figure', { class: 'chart', 'data-points': 0, role: 'img', 'aria-label': 'Values over time' }, this.plotArea);
    this.resize = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.resize.observe(this.plotArea);
  }

  private size(): { width: number; height: number } {
    const width = Math.max(240, this.plotArea.clientWidth);
    return { width, height: width < 600 ? 220 : 300 };
  }

  /** Redraws with `entries`, newest first (as the history lists them). */
  render(variable: VariableJson, entriesNewestFirst: readonly HistoryEntryJson[], mode: ArrayMode): void {
    const entries = [...entriesNewestFirst].reverse();
    const p = plan(variable, entries, mode);
    const xs = entries.map((e) => e.time / 1000);
    const columns = p.series.map((_, i) => entries.map((e) => p.ys(e)[i] ?? null));
    this.plot?.destroy();
    this.plot = new uPlot(
      {
        ...this.size(),
        series: [{ label: 'time' }, ...p.series],
        axes: [{ stroke: '#64748b', grid: { stroke: '#e2e8f0' } }, { stroke: '#64748b', grid: { stroke: '#e2e8f0' }, ...p.yAxis }],
        scales: { x: { time: true }, ...(p.yRange && { y: { range: p.yRange } }) },
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      [xs, ...columns],
      this.plotArea,
    );
    this.element.dataset.points = String(entries.length);
    this.element.setAttribute('aria-label', `${variable.name}: ${entries.length} versions plotted over time`);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
  }
}
