// The served contract is what client generators and validators are pointed at: it must be a valid
// OpenAPI document, name and summarise every operation, list its error responses, and generate a
// typed client that compiles.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import { validate } from '@readme/openapi-parser';
import Fastify, { type FastifyInstance } from 'fastify';
import openapiTS from 'openapi-typescript';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../testing/api';
import { routeGuards } from '../src/plugins/auth';
import openapi, { operationIdOf } from '../src/plugins/openapi';

type Operation = OpenAPIV3_1.OperationObject;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const operationsOf = (doc: OpenAPIV3_1.Document) =>
  Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item?.[method] ? [{ method, path, op: item[method] as Operation }] : [])),
  );

let app: FastifyInstance;
let doc: OpenAPIV3_1.Document;
beforeAll(async () => {
  app = await testApp();
  const response = await app.inject({ method: 'GET', url: '/docs/json' });
  expect(response.statusCode).toBe(200);
  doc = response.json();
});
afterAll(() => app.close());

describe('the served OpenAPI document', () => {
  it('is valid for an independent OpenAPI validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it('names, summarises and lists the error responses of every operation', () => {
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(40);
    const problems: string[] = [];
    for (const { method, path, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.operationId) problems.push(`${where}: no operationId`);
      if (!op.summary?.trim()) problems.push(`${where}: no summary`);
      const codes = Object.keys(op.responses ?? {});
      const takesInput = op.parameters?.length || op.requestBody;
      if (takesInput && !codes.includes('400')) problems.push(`${where}: takes input, no 400`);
      const secured = op.security === undefined || op.security.length > 0;
      if (secured && !(codes.includes('401') && codes.includes('403'))) problems.push(`${where}: secured, no 401/403`);
      if (path.includes('{') && !codes.includes('404')) problems.push(`${where}: path parameters, no 404`);
      for (const code of codes.filter((c) => /^[45]/.test(c))) {
        const content = (op.responses?.[code] as OpenAPIV3_1.ResponseObject | undefined)?.content;
        if (!content?.['application/json']) problems.push(`${where}: ${code} has no JSON body`);
      }
    }
    expect(problems).toEqual([]);
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('generates a typed client (openapi-typescript) that compiles, with a name for every operation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
    try {
      writeFileSync(join(dir, 'api.ts'), await openapiTS(structuredClone(doc) as never));
      const ids = operationsOf(doc).map((o) => o.op.operationId as string);
      writeFileSync(
        join(dir, 'use.ts'),
        [
          "import type { operations, paths } from './api';",
          // Exactly the document's operations, each by name: a missing or extra key fails to compile.
          `export const named: Record<keyof operations, true> = { ${ids.map((id) => `${id}: true`).join(', ')} };`,
          "type MonthTotals = paths['/billing/months/{month}']['get']['responses'][200]['content']['application/json'];",
          'export const digestOf = (m: MonthTotals): string => m.digest;',
          "type Conflict = operations['postInstallations']['responses'][409]['content']['application/json'];",
          'export const messageOf = (e: Conflict): string => e.message;',
        ].join('\n'),
      );
      const tsc = join(process.cwd(), 'node_modules/.bin/tsc');
      const options = [
        '--ignoreConfig',
        '--noEmit',
        '--strict',
        '--target',
        'ES2022',
        '--module',
        'ESNext',
        '--types',
        '',
      ];
      execFileSync(tsc, [...options, '--moduleResolution', 'bundler', join(dir, 'use.ts')], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(String((error as { stdout?: Buffer }).stdout ?? error));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routes added later', () => {
  it('get an operationId and the error responses that follow from how they are built', async () => {
    const guard = async () => undefined;
    routeGuards.add(guard);
    const bare = Fastify();
    await bare.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '1' } } });
    await bare.register(openapi);
    bare.post(
      '/alerts/:id/acknowledge',
      {
        onRequest: guard,
        schema: {
          summary: 's',
          params: { type: 'object', properties: { id: { type: 'integer' } } },
          body: { type: 'object' },
        },
      },
      async () => ({}),
    );
    bare.get('/status', { schema: { summary: 's' } }, async () => ({}));
    await bare.ready();
    const added = bare.swagger() as OpenAPIV3_1.Document;
    const guarded = added.paths?.['/alerts/{id}/acknowledge']?.post as Operation;
    expect(guarded.operationId).toBe('postAlertsByIdAcknowledge');
    expect(Object.keys(guarded.responses ?? {}).sort()).toEqual(['400', '401', '403', '404', '413', '415']);
    expect(guarded.security).toBeUndefined();
    const open = added.paths?.['/status']?.get as Operation;
    expect(open.security).toEqual([]);
    expect(operationIdOf('GET', '/billing/months/:month/payout.csv')).toBe('getBillingMonthsByMonthPayoutCsv');
    await bare.close();
  });
});
