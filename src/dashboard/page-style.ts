/** The page's stylesheet (inline: the page loads nothing from elsewhere). */
export const PAGE_STYLE = `
:root { --fg: #1d2330; --muted: #5d6778; --line: #dde2ea; --bg: #f5f7fa; --card: #fff;
  --ok: #1a7f4b; --bad: #c0392b; --read: #2f6fde; --write: #e08a00; --skip: #8e44ad; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
header .muted { color: var(--muted); }
#notice { color: var(--ok); font-weight: 600; }
#problem { color: var(--bad); font-weight: 600; }
main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 14px; margin: 0 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.key { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
td.empty { color: var(--muted); font-style: italic; }
.up { color: var(--ok); font-weight: 600; }
.down { color: var(--bad); font-weight: 600; }
.unused { color: var(--muted); }
svg { width: 100%; height: 160px; display: block; }
svg text { font-size: 10px; fill: var(--muted); }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
.legend .reads::before { background: var(--read); } .legend .writes::before { background: var(--write); }
.legend .skipped::before { background: var(--skip); } .legend .errors::before { background: var(--bad); }
.legend .sessions::before { background: var(--read); } .legend .deleted::before { background: var(--ok); }
button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid var(--bad); color: var(--bad); background: #fff; border-radius: 4px; cursor: pointer; }
button.confirm { background: var(--bad); color: #fff; }
`;
