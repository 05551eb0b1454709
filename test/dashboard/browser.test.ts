/// <reference lib="dom" />
/**
 * The dashboard in a real headless Chromium, mounted in a real Express app (behind the
 * app's basic auth) with a real store on real PostgreSQL: real session requests move its
 * numbers (the test waits for the page's poll to show them), a collection and its count
 * appear, revoking is absent by default and, when enabled, really deletes the rows;
 * whatever a session holds is shown as text; no session id reaches the page.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminPool, expireInDatabase, storedKey, uniqueTable } from '../core/fixtures.js';
import { launchBrowser } from '../helpers/browser.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { Sql } from '../helpers/session-sql.js';
import {
  ADMIN,
  ADMIN_HEADER,
  DASHBOARD_PATH,
  type DashboardApp,
  startDashboardApp,
} from './dashboard-app.js';

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
const admin = adminPool(url);
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await sql.close();
  await admin.end();
});

const FAST = { pollIntervalMillis: 150, sampleIntervalMillis: 150 };

async function openDashboard(app: DashboardApp): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    httpCredentials: { username: ADMIN.username, password: ADMIN.password },
    viewport: { width: 1280, height: 1000 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  await page.goto(app.url + DASHBOARD_PATH);
  await page.waitForFunction(() =>
    document.getElementById('updated')?.textContent?.startsWith('updated'),
  );
  assert.deepEqual(problems, [], 'the page runs without errors (and without CSP violations)');
  return { context, page };
}

/** Waits until the element's text satisfies `test` (the page polls every 150 ms). */
async function waitForText(page: Page, id: string, expected: string): Promise<void> {
  await page.waitForFunction(
    ([id, expected]) => document.getElementById(id)?.textContent === expected,
    [id, expected] as const,
  );
}

async function waitForPositive(
  page: Page,
  id: string,
  drive: () => Promise<unknown>,
): Promise<number> {
  let done = false;
  const driving = (async () => {
    while (!done) await drive();
  })();
  try {
    const handle = await page.waitForFunction((id) => {
      const n = Number(document.getElementById(id)?.textContent);
      return n > 0 ? n : false;
    }, id);
    return (await handle.jsonValue()) as number;
  } finally {
    done = true;
    await driving;
  }
}

describe('the dashboard in a browser, read-only by default', () => {
  const table = uniqueTable('dashboard');
  let app: DashboardApp;
  let page: Page;
  let context: BrowserContext;

  before(async () => {
    app = await startDashboardApp({ db: url, table, shortCircuit: true }, FAST);
    ({ page, context } = await openDashboard(app));
  });
  after(async () => {
    await context?.close();
    await app?.close();
  });

  it('is behind the application authentication', async () => {
    const response = await fetch(app.url + DASHBOARD_PATH);
    assert.equal(response.status, 401);
    const data = await fetch(`${app.url}${DASHBOARD_PATH}/data.json`);
    assert.equal(data.status, 401);
  });

  it('shows the server up and the active sessions as requests create them', async () => {
    await waitForText(page, 'sessions-total', '0');
    await waitForText(page, 'servers-up', '1 / 1');
    const clients = [app.client(), app.client(), app.client()];
    for (const client of clients) assert.equal((await client.post('/increment')).status, 200);
    await waitForText(page, 'sessions-total', '3');
    const connection = await page.locator('#servers td.key').first().textContent();
    assert.match(connection ?? '', /127\.0\.0\.1/);
    assert.match(connection ?? '', /:\*\*\*@/, 'the password hidden');
    const html = await page.content();
    for (const client of clients) {
      const id = client.sessionId ?? '';
      assert.ok(id !== '' && !html.includes(id), 'no session id on the page');
    }
  });

  it('shows reads, writes and short-circuited writes per second', async () => {
    const client = app.client();
    await client.post('/increment');
    const reads = await waitForPositive(page, 'reads-rate', () => client.get('/session'));
    assert.ok(reads > 0);
    const writes = await waitForPositive(page, 'writes-rate', () => client.post('/increment'));
    assert.ok(writes > 0);
    // a read that changes nothing: express-session touches, the short circuit skips it
    const skipped = await waitForPositive(page, 'skipped-rate', () => client.get('/session'));
    assert.ok(skipped > 0);
    const points = await page
      .locator('#rates-chart polyline[data-series="readsPerSecond"]')
      .getAttribute('points');
    assert.ok((points ?? '').split(' ').length > 1, 'the chart has a line');
  });

  it('shows a collection: when, on which server, how many, how long', async () => {
    const client = app.client();
    await client.post('/increment');
    await expireInDatabase(admin, table, storedKey(client.sessionId ?? ''));
    assert.equal(await app.store.core.gc(), 1);
    await page
      .waitForFunction(
        () => document.querySelector('#collections tr td:nth-child(3)')?.textContent === '1',
      )
      .catch(async (error) => {
        const header = await page.locator('header').textContent();
        throw new Error(`${error}: ${header} ${await page.locator('#collections').innerHTML()}`);
      });
    const cells = await page.locator('#collections tr').first().locator('td').allTextContents();
    assert.equal(cells[1], '0', 'server 0');
    assert.match(cells[3] ?? '', /^[\d.]+ ms$/);
    assert.equal(await page.locator('#gc-chart rect').count(), 1, 'one bar');
    await waitForText(page, 'sessions-total', String(await sql.count(table)));
  });

  it('has no revoke button, and no revoke endpoint', async () => {
    assert.equal(await page.locator('button').count(), 0);
    assert.equal(await page.locator('#sessions').count(), 0);
    const response = await fetch(`${app.url}${DASHBOARD_PATH}/revoke`, {
      method: 'POST',
      headers: {
        authorization: ADMIN_HEADER,
        'content-type': 'application/json',
        'x-session-pgsql-dashboard': 'revoke',
      },
      body: JSON.stringify({ user: 'anyone' }),
    });
    assert.equal(response.status, 404);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });
  });
});

describe('the dashboard with allowRevoke', () => {
  const table = uniqueTable('dashboard_revoke');
  const HOSTILE = '<img src=x onerror="window.__xss=1">&amp;';
  let app: DashboardApp;
  let page: Page;
  let context: BrowserContext;

  before(async () => {
    app = await startDashboardApp({ db: url, table }, { ...FAST, allowRevoke: true });
    ({ page, context } = await openDashboard(app));
  });
  after(async () => {
    await context?.close();
    await app?.close();
  });

  /** The row of the sessions table for a session id (the page shows its stored key). */
  const rowOf = (id: string) =>
    page.locator('#sessions tr', { has: page.locator(`td.key:text-is("${storedKey(id)}")`) });

  it('revokes one session: its row is gone from the database, its cookie signs nobody in', async () => {
    const kept = app.client();
    const revoked = app.client();
    await kept.post('/increment');
    await revoked.post('/increment');
    await revoked.post('/increment');
    const id = revoked.sessionId ?? '';
    await rowOf(id).waitFor();
    const button = rowOf(id).getByRole('button', { name: 'Revoke', exact: true });
    await button.click();
    await rowOf(id).getByRole('button', { name: 'Confirm' }).click();
    await waitForText(page, 'notice', 'revoked 1 session');
    assert.equal(await sql.row(table, id), undefined, 'the row is deleted');
    assert.ok(await sql.row(table, kept.sessionId ?? ''), 'the other session stays');
    assert.deepEqual((await revoked.get('/session')).body.data, { counter: null });
    await rowOf(id).waitFor({ state: 'detached' });
  });

  it('shows what a session holds as text, and revokes a user on every session', async () => {
    const first = app.client();
    const second = app.client();
    await first.post(`/user?name=${encodeURIComponent(HOSTILE)}`);
    await second.post(`/user?name=${encodeURIComponent(HOSTILE)}`);
    const id = first.sessionId ?? '';
    await rowOf(id).waitFor();
    assert.equal(await rowOf(id).locator('td').nth(1).textContent(), HOSTILE, 'shown as text');
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('#sessions img').count(), 0);
    const button = rowOf(id).getByRole('button', { name: 'Revoke user' });
    await button.click();
    await rowOf(id).getByRole('button', { name: 'Confirm' }).click();
    await waitForText(page, 'notice', 'revoked 2 sessions');
    assert.equal(await sql.row(table, id), undefined);
    assert.equal(await sql.row(table, second.sessionId ?? ''), undefined);
  });

  it('refuses a revoke another site could forge', async () => {
    const client = app.client();
    await client.post('/increment');
    const key = storedKey(client.sessionId ?? '');
    const post = (headers: Record<string, string>) =>
      fetch(`${app.url}${DASHBOARD_PATH}/revoke`, {
        method: 'POST',
        headers: { authorization: ADMIN_HEADER, ...headers },
        body: JSON.stringify({ key }),
      });
    const json = { 'content-type': 'application/json', 'x-session-pgsql-dashboard': 'revoke' };
    assert.equal((await post({ 'content-type': 'application/json' })).status, 403, 'no header');
    assert.equal(
      (await post({ ...json, 'content-type': 'text/plain' })).status,
      403,
      'a form-like body',
    );
    assert.equal(
      (await post({ ...json, origin: 'http://evil.example' })).status,
      403,
      'another origin',
    );
    assert.equal(
      (await post({ ...json, 'sec-fetch-site': 'cross-site' })).status,
      403,
      'cross-site',
    );
    assert.ok(await sql.row(table, client.sessionId ?? ''), 'nothing was revoked');
    const sameOrigin = await post({ ...json, origin: app.url });
    assert.equal(sameOrigin.status, 200);
    assert.deepEqual(await sameOrigin.json(), { revoked: 1 });
    assert.equal(await sql.row(table, client.sessionId ?? ''), undefined);
  });
});
