import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

export interface PageSettings {
  /** The Content-Security-Policy nonce of this response's style and script. */
  readonly nonce: string;
  readonly title: string;
  readonly pollIntervalMillis: number;
  readonly allowRevoke: boolean;
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML content and quoted attributes. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** JSON safe inside a `<script>` element: no `<` can close it. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * The dashboard's page: self-contained (its style and script inline, charts drawn as SVG
 * by the script), filled in by the script from `data.json`. Only the title and the
 * settings the script reads are put in here, escaped.
 */
export function renderPage(settings: PageSettings): string {
  const { nonce, title, pollIntervalMillis, allowRevoke } = settings;
  const config = scriptJson({ pollIntervalMillis, allowRevoke });
  const sessions = allowRevoke
    ? `<section class="wide"><h2>Sessions</h2><table><thead><tr><th>stored key</th><th>user</th><th></th><th></th></tr></thead><tbody id="sessions"></tbody></table></section>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${PAGE_STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><span class="muted" id="updated">loading…</span><span id="notice"></span><span id="problem"></span></header>
<main>
<section class="wide"><div class="cards">
<div class="card"><div class="value" id="sessions-total">–</div><div class="label">active sessions</div></div>
<div class="card"><div class="value" id="reads-rate">–</div><div class="label">reads / s</div></div>
<div class="card"><div class="value" id="writes-rate">–</div><div class="label">writes / s</div></div>
<div class="card"><div class="value" id="skipped-rate">–</div><div class="label">short-circuited writes / s</div></div>
<div class="card"><div class="value" id="servers-up">–</div><div class="label">servers up</div></div>
</div></section>
<section><h2>Active sessions</h2><svg id="sessions-chart" role="img" aria-label="active sessions over time"></svg><div class="legend"><span class="sessions">live sessions</span></div></section>
<section><h2>Operations per second</h2><svg id="rates-chart" role="img" aria-label="reads, writes and skipped writes per second"></svg><div class="legend"><span class="reads">reads</span><span class="writes">writes</span><span class="skipped">short-circuited</span><span class="errors">errors</span></div></section>
<section class="wide"><h2>Servers</h2><table><thead><tr><th>#</th><th>connection</th><th>health</th><th>latency</th><th>sessions</th><th>cache</th><th>last error</th></tr></thead><tbody id="servers"></tbody></table></section>
<section><h2>Collections</h2><svg id="gc-chart" role="img" aria-label="sessions deleted per collection"></svg><div class="legend"><span class="deleted">deleted per run</span></div>
<table><thead><tr><th>when</th><th>server</th><th>deleted</th><th>took</th></tr></thead><tbody id="collections"></tbody></table></section>
<section><h2>Failovers</h2><table><thead><tr><th>when</th><th>event</th><th>server</th><th>connection</th><th>error</th></tr></thead><tbody id="failovers"></tbody></table></section>
${sessions}
</main>
<script type="application/json" id="config">${config}</script>
<script nonce="${nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
