// The warm-up before the port opens (lifecycle.ts) reaches a signed-in beneficiary's pages (the
// session lookup, the page's context, the statement's and the months' reads, the renderer) on
// every connection of the pool, without a session or anyone's data, and writes nothing.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmUp } from '../src/lifecycle';
import { renderSamplePages } from '../src/portal/warm-up';
import { testApp } from '../../testing/api';
import { withPg } from '../../testing/services';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
  await app.ready(); // start-up's own housekeeping (purges, the settlement policy) runs here, not in the warm-up
});
afterAll(async () => {
  await app?.close();
});

const rowCounts = () =>
  withPg(async (c) => {
    const { rows } = await c.query(
      'SELECT (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM audit_log)::int AS audit',
    );
    return rows[0] as { sessions: number; audit: number };
  });

/** The statements every pg.Client of this process sends while `fn` runs: by name, and their text. */
async function statementsDuring<T>(fn: () => Promise<T>) {
  const byName = new Map<string, Set<pg.Client>>();
  const texts: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { name?: string; text?: string } | undefined;
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    texts.push(text.trim());
    const name = typeof config === 'object' ? config?.name : undefined;
    if (name) byName.set(name, (byName.get(name) ?? new Set()).add(this));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    return { result: await fn(), byName, texts };
  } finally {
    pg.Client.prototype.query = original;
  }
}

describe('warm-up', () => {
  it("runs the signed-in pages' session lookup, reads and rendering on every connection, and writes nothing", async () => {
    const before = await rowCounts();
    const { result, byName, texts } = await statementsDuring(() => warmUp(app, 3));
    const poolSize = app.sql.options.max!;
    expect(result.failed).toBeUndefined();
    expect(result.connections).toBe(poolSize);
    expect(app.sql.totalCount).toBe(poolSize);
    // The reads of the home and statement pages, prepared on each connection of the pool.
    for (const name of [
      'portal-page',
      'statement-of',
      'statement-shares',
      'loans-on-statement',
      'statements-of-latest',
    ])
      expect(byName.get(name)?.size, name).toBeGreaterThanOrEqual(poolSize);
    // The session lookup, from signed-in pages asked for with tokens that match no session.
    expect(byName.get('resolve-session')?.size).toBeGreaterThan(0);
    // The renderer, from the sample: once per connection and once per round.
    expect(result.pages).toBe(renderSamplePages().length * (poolSize + 3));
    expect(result.requests).toBeGreaterThan(0);
    // Nothing written: no writing statement sent, and the sessions and the audit log as they were.
    expect(texts.filter((t) => /^(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|ALTER|DROP|COPY)\b/i.test(t))).toEqual([]);
    expect(await rowCounts()).toEqual(before);
  });

  it('renders the sample statement through the real pages: lines, tariff steps, adjustment and loan', () => {
    const [home, statement, printable, running] = renderSamplePages(Date.parse('2026-11-25T12:00:00Z'));
    expect(home).toContain('/portal/months/1405-08');
    for (const page of [statement, printable]) {
      expect(page).toContain('SAMPLE-1');
      expect(page).toContain('L-1');
    }
    expect(statement).toContain('<header');
    expect(printable).not.toContain('<header');
    expect(running).toContain('برآورد');
  });
});
