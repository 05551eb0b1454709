/** A hand-written SVG bar chart of the main figures: medians as bars, min–max as whiskers. */
import type { Results } from './results.js';
import { noSession } from './results.js';
import type { Spread } from './stats.js';

interface Bar {
  readonly label: string;
  readonly family: string;
  readonly value: Spread;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
}

const colors: Record<string, string> = {
  'session-pgsql': '#336791',
  'connect-pg-simple': '#8fb3d9',
  'connect-redis': '#d82c20',
  memory: '#6b8e23',
  none: '#999999',
};

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const number = (n: number) => Math.round(n).toLocaleString('en-US');

const width = 900;
const labelWidth = 230;
const barHeight = 20;
const gap = 8;
const right = 90;

function panel(p: Panel, top: number): { svg: string; height: number } {
  const max = Math.max(1, ...p.bars.map((b) => (Number.isFinite(b.value.max) ? b.value.max : 0)));
  const scale = (v: number) => ((width - labelWidth - right) * v) / max;
  const parts: string[] = [
    `<text x="10" y="${top + 18}" font-size="15" font-weight="bold">${escapeXml(p.title)}</text>`,
  ];
  let y = top + 32;
  for (const bar of p.bars) {
    const { median, min, max: high } = bar.value;
    const x0 = labelWidth;
    const w = Number.isFinite(median) ? scale(median) : 0;
    const color = colors[bar.family] ?? '#555555';
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 14}" font-size="12" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${color}"/>`,
    );
    if (bar.value.runs.length > 1 && Number.isFinite(min) && Number.isFinite(high)) {
      const mid = y + barHeight / 2;
      parts.push(
        `<line x1="${(x0 + scale(min)).toFixed(1)}" x2="${(x0 + scale(high)).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${(x0 + scale(min)).toFixed(1)}" x2="${(x0 + scale(min)).toFixed(1)}" y1="${mid - 5}" y2="${mid + 5}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${(x0 + scale(high)).toFixed(1)}" x2="${(x0 + scale(high)).toFixed(1)}" y1="${mid - 5}" y2="${mid + 5}" stroke="#222" stroke-width="1.5"/>`,
      );
    }
    const labelX = x0 + Math.max(w, Number.isFinite(high) ? scale(high) : w) + 6;
    parts.push(
      `<text x="${labelX.toFixed(1)}" y="${y + 14}" font-size="12">${Number.isFinite(median) ? number(median) : '–'} ${escapeXml(p.unit)}</text>`,
    );
    y += barHeight + gap;
  }
  return { svg: parts.join('\n'), height: y - top + 12 };
}

export function renderChart(results: Results): string {
  const name = (id: string) =>
    id === noSession.id ? noSession.name : (results.variants.find((v) => v.id === id)?.name ?? id);
  const family = (id: string) =>
    id === noSession.id ? 'none' : (results.variants.find((v) => v.id === id)?.family ?? 'none');
  const panels: Panel[] = [];
  if (Object.keys(results.http).length > 0) {
    panels.push({
      title:
        'HTTP level: requests per second (Express + express-session, 32 connections, 90% read-only)',
      unit: 'req/s',
      bars: Object.entries(results.http).map(([id, h]) => ({
        label: name(id),
        family: family(id),
        value: h.requestsPerSecond,
      })),
    });
  }
  if (Object.keys(results.storeLevel).length > 0) {
    panels.push({
      title: 'Store level: request mix per second (get+touch 90%, get+set 10%, 32 in flight)',
      unit: 'ops/s',
      bars: Object.entries(results.storeLevel).flatMap(([id, figures]) =>
        figures.mix
          ? [{ label: name(id), family: family(id), value: figures.mix.opsPerSecond }]
          : [],
      ),
    });
  }
  let top = 10;
  const body: string[] = [];
  for (const p of panels) {
    const drawn = panel(p, top);
    body.push(drawn.svg);
    top += drawn.height + 10;
  }
  const footer = `median of ${results.meta.rounds} interleaved round(s), whiskers min–max; ${results.meta.cores} cores, ${escapeXml(results.meta.startedAt.slice(0, 10))}`;
  body.push(`<text x="10" y="${top + 4}" font-size="11" fill="#555">${escapeXml(footer)}</text>`);
  const height = top + 16;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#ffffff"/>
${body.join('\n')}
</svg>
`;
}
