/**
 * The page's script (inline, run under a nonce). It polls `data.json` next to the page and
 * renders everything with `textContent` and SVG elements it creates, never HTML from data,
 * so whatever a server name, an error or a session's user holds is shown as text.
 */
export const PAGE_SCRIPT = `
"use strict";
const config = JSON.parse(document.getElementById("config").textContent);
const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const colors = { sessions: "#2f6fde", reads: "#2f6fde", writes: "#e08a00", skipped: "#8e44ad", errors: "#c0392b", deleted: "#1a7f4b" };

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  return e;
}
const time = (ms) => new Date(ms).toLocaleTimeString();
const number = (n) => (n === null || n === undefined ? "–" : String(Math.round(n * 100) / 100));

function fillTable(id, rows, columns, emptyText) {
  const body = $(id);
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = el("tr");
    const td = el("td", emptyText, "empty");
    td.colSpan = columns;
    tr.append(td);
    body.append(tr);
  }
  for (const cells of rows) {
    const tr = el("tr");
    for (const cell of cells) tr.append(cell instanceof Node ? cell : el("td", cell));
    body.append(tr);
  }
}

function lineChart(id, samples, series) {
  const box = $(id);
  box.replaceChildren();
  const w = 600, h = 160, left = 40, bottom = 18;
  box.setAttribute("viewBox", "0 0 " + w + " " + h);
  box.setAttribute("preserveAspectRatio", "none");
  let max = 0;
  for (const s of samples) for (const [name] of series) max = Math.max(max, s[name] ?? 0);
  max = max === 0 ? 1 : max * 1.1;
  const x = (i) => left + (samples.length < 2 ? 0 : (i * (w - left - 4)) / (samples.length - 1));
  const y = (v) => h - bottom - ((v ?? 0) / max) * (h - bottom - 6);
  box.append(svg("line", { x1: left, y1: h - bottom, x2: w, y2: h - bottom, stroke: "#dde2ea" }));
  const top = svg("text", { x: 2, y: 12 });
  top.textContent = number(max);
  const zero = svg("text", { x: 2, y: h - bottom });
  zero.textContent = "0";
  box.append(top, zero);
  if (samples.length > 0) {
    const from = svg("text", { x: left, y: h - 4 });
    from.textContent = time(samples[0].at);
    const to = svg("text", { x: w - 4, y: h - 4, "text-anchor": "end" });
    to.textContent = time(samples[samples.length - 1].at);
    box.append(from, to);
  }
  for (const [name, color] of series) {
    const points = samples.map((s, i) => x(i).toFixed(1) + "," + y(s[name]).toFixed(1)).join(" ");
    box.append(svg("polyline", { points, fill: "none", stroke: colors[color], "stroke-width": 2, "data-series": name }));
  }
}

function barChart(id, runs) {
  const box = $(id);
  box.replaceChildren();
  const w = 600, h = 160, left = 40, bottom = 18;
  box.setAttribute("viewBox", "0 0 " + w + " " + h);
  box.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...runs.map((r) => r.deleted));
  const slot = Math.min(24, (w - left) / Math.max(runs.length, 1));
  runs.forEach((r, i) => {
    const height = (r.deleted / max) * (h - bottom - 6);
    const bar = svg("rect", { x: left + i * slot + 1, y: h - bottom - height, width: Math.max(slot - 2, 1), height, fill: colors.deleted });
    const tip = svg("title", {});
    tip.textContent = time(r.at) + ": server " + r.server + ", " + r.deleted + " deleted in " + number(r.durationMillis) + " ms";
    bar.append(tip);
    box.append(bar);
  });
  const top = svg("text", { x: 2, y: 12 });
  top.textContent = String(max);
  box.append(top, svg("line", { x1: left, y1: h - bottom, x2: w, y2: h - bottom, stroke: "#dde2ea" }));
}

function health(up) {
  if (up === true) return el("td", "up", "up");
  if (up === false) return el("td", "down", "down");
  return el("td", "not used yet", "unused");
}

// revokes waiting for their confirming click, by body: the table is redrawn on every poll
const confirming = new Set();
function revokeButton(label, body) {
  const td = el("td");
  const name = JSON.stringify(body);
  const button = el("button", confirming.has(name) ? "Confirm" : label, confirming.has(name) ? "confirm" : "");
  button.type = "button";
  button.addEventListener("click", async () => {
    if (!confirming.has(name)) {
      confirming.add(name);
      button.classList.add("confirm");
      button.textContent = "Confirm";
      return;
    }
    confirming.delete(name);
    button.disabled = true;
    try {
      const r = await fetch(base + "revoke", {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-session-pgsql-dashboard": "revoke" },
        body: JSON.stringify(body),
      });
      const answer = await r.json();
      if (!r.ok) throw new Error(answer.error || r.statusText);
      $("notice").textContent = "revoked " + answer.revoked + (answer.revoked === 1 ? " session" : " sessions");
      poll();
    } catch (error) {
      $("problem").textContent = "revoke failed: " + error.message;
      button.disabled = false;
    }
  });
  td.append(button);
  return td;
}

function render(d) {
  const last = d.samples[d.samples.length - 1] || {};
  const up = d.servers.filter((s) => s.up !== false).length;
  $("sessions-total").textContent = number(last.sessions);
  $("reads-rate").textContent = number(last.readsPerSecond);
  $("writes-rate").textContent = number(last.writesPerSecond);
  $("skipped-rate").textContent = number(last.skippedPerSecond);
  $("servers-up").textContent = up + " / " + d.servers.length;
  $("servers-up").className = "value " + (up === d.servers.length ? "up" : "down");
  $("updated").textContent = "updated " + time(d.generatedAt) + ", every " + d.pollIntervalMillis / 1000 + " s";
  lineChart("sessions-chart", d.samples, [["sessions", "sessions"]]);
  lineChart("rates-chart", d.samples, ["reads", "writes", "skipped", "errors"].map((n) => [n + "PerSecond", n]));
  barChart("gc-chart", d.collections);
  fillTable("servers", d.servers.map((s) => [
    String(s.index), el("td", s.connection, "key"), health(s.up), number(s.latencyMillis) + " ms",
    number(s.sessions), s.cacheEntries === null ? "off" : String(s.cacheEntries), s.lastError ?? "",
  ]), 7, "no servers");
  fillTable("collections", d.collections.slice().reverse().map((c) => [
    time(c.at), String(c.server), String(c.deleted), number(c.durationMillis) + " ms",
  ]), 4, "no collection yet");
  fillTable("failovers", d.health.slice().reverse().map((h) => [
    time(h.at), h.kind, String(h.server), el("td", h.connection, "key"), h.error ?? "",
  ]), 5, "no failover since the dashboard started");
  if (d.sessions !== null) {
    fillTable("sessions", d.sessions.map((s) => [
      el("td", s.key, "key"), s.user ?? "", revokeButton("Revoke", { key: s.key }),
      s.user === null ? el("td") : revokeButton("Revoke user", { user: s.user }),
    ]), 4, d.sessionsError === null ? "no live session" : "cannot list the sessions: " + d.sessionsError);
  }
}

let timer;
async function poll() {
  clearTimeout(timer);
  try {
    const r = await fetch(base + "data.json", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    $("problem").textContent = "";
  } catch (error) {
    $("problem").textContent = "cannot load the numbers: " + error.message;
  }
  timer = setTimeout(poll, config.pollIntervalMillis);
}
poll();
`;
