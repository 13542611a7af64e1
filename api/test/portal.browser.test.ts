// The beneficiary portal in real headless Chromium against the running API, the real PostgreSQL
// and a month billed from real telemetry (simulated inverters → broker → ingest → InfluxDB →
// billing, closed and paid; the running month drafted). Pages are used with JavaScript off; axe-core
// and the keyboard walk run with it on. Screenshots at 360 and 1280 px go to artifacts/portal/.
// What can differ behind the TLS reverse proxy people reach the portal through (cookies, redirects,
// forms and their CSRF checks, the sign-in queue's 503) is used through setup's nginx over https;
// the pages' looks, accessibility and reflow, which cannot differ, are checked on the API directly.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { type Browser, type BrowserContext, chromium, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BillingDeps, markPaid, monthSmsCsv, payoutBatch, readBillingConfig, runMonth } from '../../billing';
import { monthBounds, monthNameFa, monthOf, previousMonth } from '../../lib/program/solar-hijri';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { roundTomanFa, tomanFa } from '../../lib/text/persian-numbers';
import { parseScenario, planFleet, registerSimulatedFleet, runBackfill } from '../../simulators';
import { bearer, signInStatementsDuring, staffToken, testApp, whileSignInsAreFull } from '../../testing/api';
import { callThroughProxy, chromiumTrustingProxy, listenBehindProxy, proxyHttpUrl } from '../../testing/proxy';
import {
  countPoints,
  discardIngestSession,
  connectFleetClient,
  freshInfluxDatabase,
  freshPgDatabase,
  type IngestProcess,
  startIngestProcess,
  waitFor,
} from '../../testing/services';

const NAME = 'portal_e2e';
const H = 3_600_000;
const NOW = Date.now();
const RUNNING = monthOf(NOW);
const CLOSED = previousMonth(RUNNING);
const FROM = monthBounds(CLOSED).startMs - 24 * H;
const TO = NOW - 10 * 60_000;
const ARTIFACTS = 'artifacts/portal';
const persian = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(0x06f0 + Number(d)));

// People: 1 and 2 share a 10 kWp plant; 3 owns a roof; 4 is only here to be locked out; the
// guardian represents 2 and 3.
const person = (n: number) => ({ id: n, code: nationalCodeFor(6000 + n) });
const ZAHRA = { ...person(1), name: 'زهرا احمدی', pin: '1357' };
const ALI = { ...person(2), name: 'علی رضایی' };
const MARYAM = { ...person(3), name: 'مریم کریمی' };
const HASAN = { ...person(4), name: 'حسن محمدی', pin: '2468' };
const GUARDIAN = { code: nationalCodeFor(6100), name: 'فاطمه رضایی', pin: '9753' };

const scenario = parseScenario(
  JSON.stringify({
    seed: 14,
    inverters: [
      { serial: 'PORT-S', province: 'Yazd', dcKwp: 10, ratedAcW: 10000 },
      { serial: 'PORT-R', province: 'Fars', dcKwp: 5, ratedAcW: 5000, initialCounterWh: 900_000 },
    ],
  }),
  'portal scenario',
);

const dataDir = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
const worker = `portal${process.pid}`;
let pool: pg.Pool;
let influx: InfluxClient;
let ingest: IngestProcess;
let clients: MqttClient[] = [];
let app: FastifyInstance;
let databaseUrl: string;
/** The API itself, in clear. */
let base: string;
/** The same API through nginx over TLS (https://…), as people reach it. */
let secure: string;
let browser: Browser;
let noJs: BrowserContext;
let withJs: BrowserContext;

async function billFromTelemetry(databaseUrl: string) {
  const planned = planFleet(scenario);
  await registerSimulatedFleet(planned, databaseUrl);
  ingest = await startIngestProcess({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: NAME,
    INGEST_SHARE_GROUP: `portal-${process.pid}`,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
  });
  clients = [await connectFleetClient(`portal-e2e-${process.pid}`)];
  const backfill = await runBackfill(planned, { seed: 14, fromMs: FROM, toMs: TO, intervalSeconds: 300, clients });
  await waitFor(
    'every reading stored',
    () => countPoints(influx, 'telemetry'),
    (n) => n === backfill.readings,
    120_000,
    500,
  );
}

async function registerProgram() {
  const id = async (code: string) =>
    (await pool.query<{ id: number }>('SELECT id FROM installations WHERE code = $1', [code])).rows[0]!.id;
  const shared = await id('SIM-PORT-S');
  const roof = await id('SIM-PORT-R');
  await pool.query(`UPDATE installations SET name = 'نیروگاه بهزیستی یزد' WHERE id = $1`, [shared]);
  await pool.query(`UPDATE installations SET name = 'بام خانه کریمی' WHERE id = $1`, [roof]);
  for (const p of [ZAHRA, ALI, MARYAM, HASAN])
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, mobile, province_id, target_group, updated_at)
       SELECT $1, $2, $3, $4, $5, id, 'PERSON_WITH_DISABILITY', now() FROM provinces WHERE code = 'yazd'`,
      [p.id, p.code, p.name, shebaFor(6000 + p.id), `0912000000${p.id}`],
    );
  await pool.query(
    `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at) VALUES
     (1, $1, 5000, '2025-01-01', now()), (2, $1, 5000, '2025-01-01', now()), (3, $2, 5000, '2025-01-01', now())`,
    [shared, roof],
  );
  await pool.query(
    `INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, $1, 'C-PS', 'SUPPORT', ` +
      `'2025-01-01'), (2, $2, 'C-PR', 'SUPPORT', '2025-01-01')`,
    [shared, roof],
  );
  await pool.query(
    `INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES (1, '2025-01-01', 30000), (2, '2025-01-01', 30000)`,
  );
  await pool.query(
    `INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, ` +
      `first_due_month) VALUES ($1, 'L-PS', 150000000, 2000000, 84, $2)`,
    [shared, CLOSED],
  );
}

beforeAll(async () => {
  databaseUrl = await freshPgDatabase(NAME);
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase(NAME));
  await billFromTelemetry(databaseUrl);
  await registerProgram();
  const deps: BillingDeps = {
    pool,
    influx,
    log: createLogger('portal-e2e', 'silent'),
    // The program's defaults, with a 2 % maintenance fee so the statement shows one.
    config: readBillingConfig({ ...process.env, DATABASE_URL: databaseUrl, BILLING_MAINTENANCE_FEE: '2%' }),
  };
  await runMonth(deps, CLOSED, { close: true, actor: 'portal-e2e' });
  await payoutBatch(pool, CLOSED, 'portal-e2e', { create: true });
  await markPaid(pool, CLOSED, 'portal-e2e');
  await runMonth(deps, RUNNING, { actor: 'portal-e2e' });

  app = await testApp({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: NAME,
    API_SIGN_IN_MAX_FAILURES: '3',
    API_SIGN_IN_RATE_LIMIT: '1000',
    // One PIN check at a time, no waiting: the test fills the queue to show what people then meet.
    API_SIGN_IN_CONCURRENCY: '1',
    API_SIGN_IN_MAX_WAIT_MS: '0',
    PORTAL_OFFICE_PHONES: 'yazd=035-38260000',
  });
  ({ direct: base, proxied: secure } = await listenBehindProxy(app));
  // Operators set PINs and register the guardian through the API (audited).
  const operator = await staffToken(app, 'portal-operator', 'OPERATOR', databaseUrl);
  for (const p of [ZAHRA, HASAN]) {
    const r = await app.inject({
      method: 'PUT',
      url: `/beneficiaries/${p.id}/pin`,
      headers: bearer(operator),
      payload: { pin: p.pin },
    });
    expect(r.statusCode).toBe(204);
  }
  for (const [p, relation] of [
    [ALI, 'PARENT'],
    [MARYAM, 'CARER'],
  ] as const) {
    const r = await app.inject({
      method: 'POST',
      url: `/beneficiaries/${p.id}/representatives`,
      headers: bearer(operator),
      payload: {
        nationalCode: GUARDIAN.code,
        fullName: GUARDIAN.name,
        mobile: '09121111111',
        relation,
        pin: GUARDIAN.pin,
      },
    });
    expect(r.statusCode, r.body).toBe(201);
  }
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', ...(await chromiumTrustingProxy())],
  });
  noJs = await browser.newContext({ javaScriptEnabled: false, locale: 'fa-IR', viewport: { width: 360, height: 740 } });
  // bypassCSP: the test injects axe-core and a 200 % text style, which the pages' CSP forbids.
  withJs = await browser.newContext({ locale: 'fa-IR', viewport: { width: 360, height: 740 }, bypassCSP: true });
  for (const context of [noJs, withJs]) context.setDefaultTimeout(60_000); // a shared, busy machine
  mkdirSync(ARTIFACTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await Promise.all(clients.map((c) => c.endAsync()));
  await ingest?.stop();
  await discardIngestSession(worker);
  await pool?.end();
  rmSync(dataDir, { recursive: true, force: true });
});

async function signIn(page: Page, code: string, pin: string, origin = base) {
  await page.context().clearCookies();
  await page.goto(`${origin}/portal`);
  await page.fill('#nationalCode', code);
  await page.fill('#pin', pin);
  await page.click('main button.button');
}
const EVERYWHERE = 'main button:has-text("خروج از همه گوشی‌ها")';
/** Every page and state of the portal, in an order that reaches each (Hasan is locked out by then). */
function portalStates(page: Page): [string, () => Promise<unknown>][] {
  return [
    ['signed-out', () => page.goto(`${base}/portal`)],
    ['help', () => page.goto(`${base}/portal/help`)],
    ['error', () => signIn(page, '1234567890', '')],
    ['locked', () => signIn(page, HASAN.code, HASAN.pin)],
    ['busy', () => whileSignInsAreFull(app, () => signIn(page, ZAHRA.code, ZAHRA.pin))],
    ['chooser', () => signIn(page, GUARDIAN.code, GUARDIAN.pin)],
    ['chooser-error', () => page.click('main button.button')],
    ['guardian-home', () => page.check(`input[value="${ALI.id}"]`).then(() => page.click('main button.button'))],
    ['guardian-help', () => page.goto(`${base}/portal/help`)],
    ['signed-out-again', () => page.click('header button:has-text("خروج")')],
    ['home', () => signIn(page, ZAHRA.code, ZAHRA.pin)],
    ['statement', () => page.goto(`${base}/portal/months/${CLOSED}`)],
    ['estimate', () => page.goto(`${base}/portal/months/${RUNNING}`)],
    ['print', () => page.goto(`${base}/portal/months/${CLOSED}/print`)],
    ['not-found', () => page.goto(`${base}/portal/months/1390-01`)],
    ['signed-out-everywhere', () => page.goto(`${base}/portal/home`).then(() => page.click(EVERYWHERE))],
  ];
}

/** axe-core's WCAG 2.2 AA and best-practice violations on the page, one line each. */
async function axeViolations(page: Page, axe: string): Promise<string[]> {
  // Browser-side code as strings: this project compiles without the DOM's types.
  await page.evaluate(`window.axe || new Function(${JSON.stringify(axe)})()`);
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })`,
  )) as { violations: { id: string; nodes: { target: string[] }[] }[] };
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * What WCAG 1.4.10 (reflow) and 1.4.12 (text spacing) forbid, measured in the page: the page
 * scrolling sideways, a box reaching past either edge of the window, a box that clips its text.
 * Only a labelled, focusable region (role=region, a name, tabindex=0) may scroll sideways, and what
 * is inside it is reachable by scrolling it.
 */
const REFLOW_PROBLEMS =
  `(() => {
  const problems = [];
  const width = window.innerWidth;
  const root = document.documentElement;
  if (root.scrollWidth > width) problems.push('page scrolls sideways: ' + root.scrollWidth + ' > ' + width);
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === ` +
  `'string' ? '.' + e.className.split(' ').join('.') : '');
  // Hidden on purpose: for screen readers only (clipped to nothing), or the skip link off screen.
  const hidden = (e) => {
    for (let x = e; x; x = x.parentElement)
      if (x.matches('.visually-hidden, .skip, title, defs') || getComputedStyle(x).clipPath === 'inset(50%)') return true;
    return false;
  };
  const inRegion = (e) => { const r = e.parentElement && e.parentElement.closest('.scroll-region'); return r && r !== e; };
  for (const e of document.body.querySelectorAll('*')) {
    if (hidden(e)) continue;
    const style = getComputedStyle(e);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const rect = e.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    if (!inRegion(e) && (rect.left < -1 || rect.right > width + 1))
      problems.push(name(e) + ' reaches past the window: ' + Math.round(rect.left) + '..' + Math.round(rect.right) + ' of ' + width);
    const scrolls = e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && !['svg', 'input', 'html', ` +
  `'body'].includes(e.tagName.toLowerCase()) && !(e.namespaceURI || '').includes('svg');
    if (scrolls && (style.overflowX === 'hidden' || style.overflowX === 'clip')) problems.push(name(e) + ' clips its content');
    if (scrolls && (style.overflowX === 'auto' || style.overflowX === 'scroll')) {
      const label = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
      if (e.getAttribute('role') !== 'region' || !label || e.getAttribute('tabindex') !== '0')
        problems.push(name(e) + ' scrolls sideways without being a labelled, focusable region');
    }
  }
  return problems;
})()`;

const mainText = async (page: Page) => (await page.locator('main').textContent()) ?? '';
/**
 * Closes a page once the page it shows has loaded. click() returns as soon as the navigation it
 * starts commits, and page.close() has no timeout: Chromium acknowledges a close that races that
 * commit without ever closing the page (crbug.com/536385539, playwright#42068), so closing right
 * after a form's redirect (sign-out) hung the test until its timeout. The portal's pages have no
 * scripts and no refresh: once loaded, nothing navigates them, so the close races nothing.
 */
async function closePage(page: Page) {
  await page.waitForLoadState('load');
  await page.close();
}

/** A form posted by the page itself (the browser's cookies, the page's origin): its answer. */
async function postFromPage(page: Page, path: string, form: Record<string, string>) {
  return (await page.evaluate(
    `fetch(${JSON.stringify(path)}, { method: 'POST', body: new URLSearchParams(${JSON.stringify(form)}) })
      .then(async (r) => ({ status: r.status, text: await r.text() }))`,
  )) as { status: number; text: string };
}

async function statement(id: number, month: string) {
  const { rows } = await pool.query(
    'SELECT earned_rials + carried_in_rials AS total FROM statements WHERE beneficiary_id = $1 AND month = $2',
    [id, month],
  );
  return BigInt(rows[0].total);
}

describe('the beneficiary portal in Chromium', { timeout: 300_000 }, () => {
  it('through the TLS proxy: signs in with Persian digits and shows the right months and amounts, a statement and its printable version', async () => {
    const page = await noJs.newPage();
    await signIn(page, persian(ZAHRA.code), persian(ZAHRA.pin), secure);
    expect(page.url()).toBe(`${secure}/portal/home`);
    const closedTotal = await statement(ZAHRA.id, CLOSED);
    const runningTotal = await statement(ZAHRA.id, RUNNING);
    expect(closedTotal).toBeGreaterThan(1_000_000n); // a real month of sun
    const home = await mainText(page);
    expect(home).toContain(`${monthNameFa(RUNNING)} تا امروز: حدود ${roundTomanFa(runningTotal)} تومان`);
    expect(home).toContain('برآورد');
    expect(home).toContain(`${monthNameFa(CLOSED)}: ${tomanFa(closedTotal)} تومان`);
    expect(home).toContain('واریز شد');
    expect(home).toContain(`جمع پولی که امسال تا امروز به حساب شما واریز شده: ${tomanFa(closedTotal)} تومان`);
    // Chromium holds the session and the CSRF token as Secure cookies: they never travel in clear.
    // Not ticked "this phone is mine": the cookie ends with the browser (expires -1), the session in 12 h.
    const cookies = await noJs.cookies(`${secure}/portal`);
    expect(cookies.find((c) => c.name === 'portal_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
      secure: true,
      expires: -1,
    });
    expect(cookies.find((c) => c.name === 'portal_csrf')).toMatchObject({ httpOnly: true, secure: true });
    // The address typed without https lands on the same page over https, still signed in.
    await page.goto(`${proxyHttpUrl.origin}/portal/home`);
    expect(page.url()).toBe(`${secure}/portal/home`);
    expect(await mainText(page)).toContain(`${monthNameFa(CLOSED)}: ${tomanFa(closedTotal)} تومان`);

    await page.click(`a[href="/portal/months/${CLOSED}"] >> nth=0`);
    const text = await mainText(page);
    expect(text).toContain(`ریز حساب ${monthNameFa(CLOSED)}`);
    expect(text).toContain(`سهم شما از درآمد ${monthNameFa(CLOSED)}: ${tomanFa(closedTotal)} تومان`);
    expect(text).toContain(`یعنی ${persian(closedTotal.toLocaleString('en-US').replace(/,/g, '٬'))} ریال`);
    expect(text).toContain('این نیروگاه ۲ سهم‌دار دارد');
    expect(text).toContain('۳۰٬۰۰۰ ریال');
    expect(text).toContain('قسط وام نیروگاه (۲٬۰۰۰٬۰۰۰ ریال)');
    expect(text).toContain(`واریز شد`);
    expect(text).toContain(`IR…${shebaFor(6001).slice(-4)}`);
    // The SMS on the statement is the one the billing CLI exports for the gateway.
    const sms = (await page.locator('.sms').textContent()) ?? '';
    const exported = await monthSmsCsv(pool, CLOSED);
    expect(exported.csv.split('\r\n')).toContain(`09120000001,${sms}`);
    expect(exported).toMatchObject({ rows: 3, withoutMobile: 0 });
    await expect(monthSmsCsv(pool, RUNNING)).rejects.toThrow(/draft/);
    await page.click('a[href$="/print"]');
    expect(page.url()).toBe(`${secure}/portal/months/${CLOSED}/print`);
    expect(await page.locator('header.top').count()).toBe(0);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.no-print').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });

    await page.goto(`${secure}/portal/home`);
    await page.click('header button:has-text("خروج")');
    const at = () => new URL(page.url());
    expect(`${at().origin}${at().pathname}`).toBe(`${secure}/portal`);
    expect(await mainText(page)).toContain('از سامانه خارج شدید');
    await page.goto(`${secure}/portal/home`);
    expect(`${at().origin}${at().pathname}`).toBe(`${secure}/portal`);
    await closePage(page);
  });

  it('says what went wrong with a wrong PIN, a bad national code and a locked account, at the field', async () => {
    const page = await noJs.newPage();
    await signIn(page, HASAN.code, '0000');
    expect(await page.title()).toMatch(/^خطا: /);
    expect(await page.locator('.error-summary a[href="#pin"]').textContent()).toContain('کد ملی یا رمز درست نیست');
    expect(await page.locator('#pin').getAttribute('aria-describedby')).toContain('pin-error');
    await signIn(page, '1234567890', '1111');
    expect(await page.locator('#nationalCode-error').textContent()).toContain('کد ملی درست نیست');
    await signIn(page, HASAN.code, '0000');
    await signIn(page, HASAN.code, '0000');
    await signIn(page, HASAN.code, HASAN.pin); // right PIN, but locked now
    const locked = await page.locator('#pin-error').textContent();
    expect(locked).toContain('ورود تا ساعت');
    expect(locked).toContain('بهزیستی');
    await closePage(page);
  });

  it(
    'through the TLS proxy: asks people to come back in a few seconds when sign-ins are at capacity (503, ' +
      'Retry-After), before looking anything up, and lets them in when they do',
    async () => {
      const page = await noJs.newPage();
      let answer!: Response;
      // A refusal costs PostgreSQL nothing (no account, throttle or session statement) and checks no PIN.
      const refusedAsked = await signInStatementsDuring(() =>
        whileSignInsAreFull(app, async () => {
          const response = page.waitForResponse((r) => r.url().endsWith('/portal/sign-in'));
          await signIn(page, persian(ZAHRA.code), persian(ZAHRA.pin), secure);
          answer = await response;
        }),
      );
      expect(refusedAsked).toEqual([]);
      expect(answer.status()).toBe(503);
      const retryAfter = Number(answer.headers()['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(await page.title()).toMatch(/^خطا: /);
      const message = (await page.locator('.error-summary a[href="#pin"]').textContent()) ?? '';
      expect(message).toContain('افراد زیادی با هم وارد می‌شوند');
      expect(message).toContain(`${persian(String(retryAfter))} ثانیه`);
      expect(message).toContain('رمز شما اشتباه نبود');
      // What was typed stays (but not the PIN); the same form, pressed again, signs in.
      expect(await page.inputValue('#nationalCode')).toBe(persian(ZAHRA.code));
      expect(await page.inputValue('#pin')).toBe('');
      await page.fill('#pin', ZAHRA.pin);
      // The same counting sees an admitted sign-in's lookups (so the empty list above means something).
      const admittedAsked = await signInStatementsDuring(() => page.click('main button.button'));
      expect(admittedAsked.some((statement) => statement.includes('national_code'))).toBe(true);
      expect(page.url()).toBe(`${secure}/portal/home`);
      await closePage(page);
    },
  );

  it('keeps a person signed in on their own phone for 90 days when they tick it, and says so', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'fa-IR' });
    const page = await context.newPage();
    await page.goto(`${base}/portal`);
    const hint = (await page.locator('#remember-hint').textContent()) ?? '';
    expect(hint).toContain('هر ۹۰ روز');
    expect(hint).toContain('گوشی دیگران');
    expect(await page.isChecked('#remember')).toBe(false); // opt-in: a shared phone must not keep anyone
    await page.fill('#nationalCode', ZAHRA.code);
    await page.fill('#pin', ZAHRA.pin);
    await page.click('label[for="remember"]'); // the label ticks it (a 44 px target)
    await page.click('main button.button');
    expect(new URL(page.url()).pathname).toBe('/portal/home');
    const cookie = (await context.cookies(`${base}/portal`)).find((c) => c.name === 'portal_session')!;
    const days = (cookie.expires * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    // The browser closed and opened again (a new one with the saved cookies) goes straight to a statement.
    const later = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
    const again = await later.newPage();
    await again.goto(`${base}/portal/months/${CLOSED}`);
    expect(new URL(again.url()).pathname).toBe(`/portal/months/${CLOSED}`);

    // The phone is lost: on another phone, signed in and kept too, the person signs out everywhere
    // by keyboard alone. Both phones then ask for the PIN again.
    const other = await browser.newContext({
      javaScriptEnabled: false,
      locale: 'fa-IR',
      viewport: { width: 360, height: 740 },
    });
    const second = await other.newPage();
    await second.goto(`${base}/portal`);
    await second.fill('#nationalCode', ZAHRA.code);
    await second.fill('#pin', ZAHRA.pin);
    await second.check('#remember');
    await second.click('main button.button');
    expect(new URL(second.url()).pathname).toBe('/portal/home');
    await second.focus(EVERYWHERE);
    await second.keyboard.press('Enter');
    await second.waitForURL(/signed-out-everywhere/);
    expect(await mainText(second)).toContain('در همه گوشی‌ها از سامانه خارج شدید');
    await again.goto(`${base}/portal/months/${CLOSED}`);
    expect(new URL(again.url()).pathname).toBe('/portal');
    await second.goto(`${base}/portal/home`);
    expect(new URL(second.url()).pathname).toBe('/portal');
    await other.close();
    await later.close();
    await context.close();
  });

  it('lets a guardian choose between the two people they represent, and no one else', async () => {
    const page = await noJs.newPage();
    await signIn(page, GUARDIAN.code, GUARDIAN.pin);
    expect(new URL(page.url()).pathname).toBe('/portal/choose');
    await page.check(`input[value="${ALI.id}"]`);
    await page.click('main button.button');
    expect(await mainText(page)).toContain(`درآمد خورشیدی ${ALI.name}`);
    expect(await mainText(page)).toContain(tomanFa(await statement(ALI.id, CLOSED)));
    await page.click('a[href="/portal/choose"]');
    await page.check(`input[value="${MARYAM.id}"]`);
    await page.click('main button.button');
    expect(await mainText(page)).toContain(`درآمد خورشیدی ${MARYAM.name}`);
    await page.goto(`${base}/portal/months/${CLOSED}`);
    expect(await mainText(page)).toContain('بام خانه کریمی');
    // Someone they do not represent cannot be chosen, whatever the form says.
    const csrf = (await noJs.cookies(`${base}/portal`)).find((c) => c.name === 'portal_csrf')!.value;
    const refused = await page.request.post(`${base}/portal/choose`, { form: { csrf, person: String(ZAHRA.id) } });
    expect(refused.status()).toBe(400);
    await page.goto(`${base}/portal/home`);
    expect(await mainText(page)).toContain(MARYAM.name);
    await page.click('header button:has-text("خروج")');
    await closePage(page);
  });

  it("through the TLS proxy: keeps another beneficiary's statement out of reach by URL, and portal cookies away from the API", async () => {
    // JavaScript on (the pages have none) so the page can post forms itself; CSP bypassed for that.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await signIn(page, ZAHRA.code, ZAHRA.pin, secure);
    // A statement URL names only the month: the person is the session's. Months she has none of are not found.
    const other = await page.goto(`${secure}/portal/months/1390-01`);
    expect(other!.status()).toBe(404);
    const csrf = (await context.cookies(`${secure}/portal`)).find((c) => c.name === 'portal_csrf')!.value;
    const choose = await postFromPage(page, '/portal/choose', { csrf, person: String(ALI.id) });
    expect(choose.status).toBe(400);
    await page.goto(`${secure}/portal/months/${CLOSED}`);
    expect(await mainText(page)).not.toContain(ALI.name);
    // The portal cookie is not a credential for the API, on staff or beneficiary routes.
    const cookie = (await context.cookies(`${secure}/portal`)).find((c) => c.name === 'portal_session')!.value;
    for (const url of ['/installations', '/me', '/me/statements', '/billing/months']) {
      const r = await callThroughProxy(url, { headers: { cookie: `portal_session=${cookie}` } });
      expect(r.status, url).toBe(401);
    }
    // A staff session in the portal's cookie is no portal session.
    const staff = await staffToken(app, 'portal-operator-2', 'OPERATOR', databaseUrl);
    const asStaff = await callThroughProxy('/portal/home', { headers: { cookie: `portal_session=${staff}` } });
    expect(asStaff.status).toBe(303);
    await context.close();
  });

  it('through the TLS proxy: refuses every form without its CSRF token', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await signIn(page, ZAHRA.code, ZAHRA.pin, secure);
    for (const [path, form] of [
      ['/portal/sign-in', { nationalCode: ZAHRA.code, pin: ZAHRA.pin }],
      ['/portal/choose', { person: String(ZAHRA.id) }],
      ['/portal/sign-out', {}],
    ] as const) {
      const r = await postFromPage(page, path, form);
      expect(r.status, path).toBe(403);
      expect(r.text).toContain('فرم دوباره فرستاده شود');
      const wrong = await postFromPage(page, path, { ...form, csrf: 'x'.repeat(43) });
      expect(wrong.status, path).toBe(403);
    }
    await page.goto(`${secure}/portal/home`); // still signed in: the refused sign-out did nothing
    expect(page.url()).toBe(`${secure}/portal/home`);
    await context.close();
  });

  it('passes axe-core, is reachable by keyboard, stays small, and is photographed at 360 and 1280 px', async () => {
    const axe = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
    const page = await withJs.newPage();
    const states = portalStates(page);
    const sizes: Record<string, number> = {};
    page.on('response', async (r) => {
      const body = await r.body().catch(() => null);
      if (body) sizes[new URL(r.url()).pathname] = body.length;
    });
    for (const [state, go] of states) {
      await go();
      await page.waitForLoadState('load');
      expect(await axeViolations(page, axe), state).toEqual([]);

      // Keyboard only: Tab reaches every control, in document order, each with a visible focus.
      const controls = (await page.evaluate(
        `[...document.querySelectorAll('a[href], button, input:not([type=hidden]), [tabindex="0"]')]
          .filter((e) => e.offsetParent !== null || e.classList.contains('skip')).map((e) => e.outerHTML.slice(0, 80))`,
      )) as string[];
      const reached: string[] = [];
      await page.evaluate('document.activeElement && document.activeElement.blur()');
      for (let i = 0; i < controls.length; i++) {
        await page.keyboard.press('Tab');
        const focused = (await page.evaluate(`(() => {
          const e = document.activeElement;
          const style = getComputedStyle(e);
          return { html: e.outerHTML.slice(0, 80), visible: style.outlineStyle !== 'none' || style.boxShadow !== 'none' };
        })()`)) as { html: string; visible: boolean };
        if (focused.html.startsWith('<body')) break;
        expect(focused.visible, `${state}: focus visible on ${focused.html}`).toBe(true);
        reached.push(focused.html);
      }
      const radios = controls.filter((c) => c.includes('type="radio"'));
      // A radio group is one tab stop (arrow keys move within it).
      expect(
        reached.filter((c) => !c.includes('type="radio"')),
        state,
      ).toEqual(controls.filter((c) => !c.includes('type="radio"')));
      if (radios.length > 0) expect(reached.some((c) => c.includes('type="radio"'))).toBe(true);

      for (const width of [360, 1280]) {
        await page.setViewportSize({ width, height: 740 });
        await page.screenshot({ path: `${ARTIFACTS}/${state}-${width}.png`, fullPage: true });
      }
      await page.setViewportSize({ width: 360, height: 740 });
    }
    // Small pages for slow connections: every page under 24 KB, the stylesheet under 10 KB, each font under 60 KB.
    for (const [path, bytes] of Object.entries(sizes)) {
      const limit = path.endsWith('.woff2') ? 60_000 : path.endsWith('.css') ? 10_000 : 24_000;
      expect(bytes, path).toBeLessThan(limit);
    }
    expect(Object.keys(sizes).some((p) => p.endsWith('.woff2'))).toBe(true);
    await closePage(page);
  });

  it('reflows at 320 px with 200 % text, at 400 % zoom and with WCAG text spacing, on every page and state, with no axe violations', {
    timeout: 1_200_000,
  }, async () => {
    const axe = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
    // WCAG 1.4.12's test values; 400 % zoom of a 1280 × 1024 window is a 320 × 256 CSS px viewport.
    const spacing =
      '*{line-height:1.5!important;letter-spacing:.12em!important;word-spacing:.16em!important}p{margin-block-end:2em!important}';
    const modes = [
      { mode: 'text-200', viewport: { width: 320, height: 640 }, style: 'html{font-size:200%!important}' },
      { mode: 'zoom-400', viewport: { width: 320, height: 256 }, style: '' },
      { mode: 'spacing-320', viewport: { width: 320, height: 640 }, style: spacing },
      { mode: 'spacing-1280', viewport: { width: 1280, height: 800 }, style: spacing },
    ];
    const found: string[] = [];
    for (const { mode, viewport, style } of modes) {
      const context = await browser.newContext({ locale: 'fa-IR', viewport, bypassCSP: true });
      context.setDefaultTimeout(60_000);
      const page = await context.newPage();
      for (const [state, go] of portalStates(page)) {
        await go();
        await page.waitForLoadState('load');
        if (style) await page.addStyleTag({ content: style });
        for (const problem of (await page.evaluate(REFLOW_PROBLEMS)) as string[])
          found.push(`${mode} ${state}: ${problem}`);
        for (const violation of await axeViolations(page, axe)) found.push(`${mode} ${state}: axe ${violation}`);
        await page.screenshot({ path: `${ARTIFACTS}/${mode}-${state}.png`, fullPage: true });
      }
      await context.close();
    }
    expect(found).toEqual([]);
  });
});
