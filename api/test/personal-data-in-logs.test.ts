// Personal data stays out of the logs: the API (in-process, at trace level) and the billing and
// ingest processes (started here, at debug level) are driven with known national codes, Sheba
// numbers, names, mobiles and PINs, and everything they log is captured and searched for them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPersianDigits } from '../../lib/identifiers/digits';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { createLogger } from '../../lib/logger';
import { bearer, staffToken, testApp } from '../../testing/api';
import { discardIngestSession, env, freshPgDatabase, startIngestProcess } from '../../testing/services';

const seed = 700_000 + (process.pid % 10_000) * 10;
const person = {
  nationalCode: nationalCodeFor(seed),
  sheba: shebaFor(seed),
  newSheba: shebaFor(seed + 1),
  fullName: 'Parvaneh Loggedname',
  persianName: 'پروانه نام‌نگار',
  mobile: '09123456789',
  pin: '583920',
};
const other = { nationalCode: nationalCodeFor(seed + 2), sheba: shebaFor(seed + 2), fullName: 'Kourosh Importedname' };
const secrets = [
  person.nationalCode,
  toPersianDigits(person.nationalCode),
  person.sheba,
  person.sheba.slice(2),
  person.newSheba,
  person.fullName,
  'Loggedname',
  person.persianName,
  encodeURIComponent(person.persianName),
  person.mobile,
  person.pin,
  other.nationalCode,
  other.sheba,
  other.fullName,
];

const captured: string[] = [];
const sink: DestinationStream = { write: (line: string) => void captured.push(line) };
let app: FastifyInstance;
let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await freshPgDatabase('personal_data_logs_test');
  app = await testApp({ LOG_LEVEL: 'trace', DATABASE_URL: databaseUrl, API_SIGN_IN_RATE_LIMIT: '1000' }, sink);
});
afterAll(async () => {
  await app?.close();
});

const run = promisify(execFile);

describe('personal data in logs', () => {
  it('logs no national code, Sheba, name, mobile or PIN of the people it handled', async () => {
    const operator = await staffToken(app, 'logs-operator', 'OPERATOR', databaseUrl);
    const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: unknown, token = operator) =>
      app.inject({
        method,
        url,
        headers: bearer(token),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    const body = {
      nationalCode: toPersianDigits(person.nationalCode),
      fullName: person.fullName,
      mobile: person.mobile,
      sheba: person.sheba,
      province: 'yazd',
      targetGroup: 'PERSON_WITH_DISABILITY',
    };
    const created = await call('POST', '/beneficiaries', body);
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as number;
    // Refusals whose messages could echo what was sent.
    expect((await call('POST', '/beneficiaries', { ...body, nationalCode: person.nationalCode })).statusCode).toBe(409);
    expect((await call('PATCH', `/beneficiaries/${id}`, { sheba: `IR00${person.sheba.slice(4)}` })).statusCode).toBe(
      400,
    );
    expect(
      (await call('PATCH', `/beneficiaries/${id}`, { sheba: person.newSheba, fullName: person.persianName }))
        .statusCode,
    ).toBe(200);
    // Search terms and identifiers in URLs.
    for (const q of [person.nationalCode, toPersianDigits(person.nationalCode), person.persianName, person.mobile])
      expect((await call('GET', `/beneficiaries?q=${encodeURIComponent(q)}&page=1`)).statusCode).toBe(200);
    await call('GET', `/beneficiaries/${person.nationalCode}`);
    await call('GET', `/beneficiaries/${encodeURIComponent(person.persianName)}`);
    expect((await call('PUT', `/beneficiaries/${id}/pin`, { pin: person.pin })).statusCode).toBe(204);
    // Sign-in: a wrong PIN, then the right one, then the portal.
    const signIn = (pin: string) =>
      app.inject({
        method: 'POST',
        url: '/auth/beneficiary/sign-in',
        payload: { nationalCode: person.nationalCode, pin },
      });
    expect((await signIn('000000')).statusCode).toBe(401);
    const token = (await signIn(person.pin)).json().token as string;
    expect((await call('GET', '/me', undefined, token)).statusCode).toBe(200);
    // A CSV import (dry run) with another person.
    const imported = await app.inject({
      method: 'POST',
      url: '/imports/beneficiaries?dryRun=true',
      headers: { ...bearer(operator), 'content-type': 'text/csv' },
      payload: `national_code,full_name,mobile,sheba,province,target_group\n${other.nationalCode},${other.fullName},,${other.sheba},yazd,OTHER\n`,
    });
    expect(imported.statusCode, imported.body).toBe(200);
    // Objects logged by the platform's own code: nested and inside errors.
    const direct: string[] = [];
    const log = createLogger('logs-test', 'trace', { write: (line: string) => void direct.push(line) });
    log.info(
      { batch: { people: [{ nationalCode: person.nationalCode, contact: { mobile: person.mobile } }] } },
      'nested',
    );
    log.error({ err: new Error(`Key (sheba)=(${person.sheba}) already exists for ${person.nationalCode}`) }, 'failed');
    log.warn(`payout row for ${person.sheba} refused`);

    // Billing and ingest as processes, verbose, on the same registry.
    const billing = await run(process.execPath, ['--import', 'tsx', 'billing/src/cli.ts', 'run'], {
      env: { ...env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'debug' },
    });
    const ingest = await startIngestProcess({
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'debug',
      INGEST_WORKER_ID: `logs${process.pid}`,
    });
    await ingest.stop();
    await discardIngestSession(`logs${process.pid}`);

    const logs = [...captured, ...direct, billing.stdout, billing.stderr, ingest.output()].join('\n');
    // The capture is real: requests, the nested object and both processes are in it.
    expect(logs).toMatch(/"url":"\/beneficiaries\?q=\[redacted\]&page=1"/);
    expect(logs).toMatch(/"url":"\/beneficiaries\/\[redacted\]"/);
    expect(logs).toMatch(/"nationalCode":"\[redacted\]"/);
    expect(logs).toMatch(/"mobile":"\[redacted\]"/);
    expect(logs).toMatch(/\[sheba\]/);
    expect(logs).toMatch(/"name":"billing"/);
    expect(logs).toMatch(/"name":"ingest-logs/);
    for (const secret of secrets) expect(logs.includes(secret), `the logs contain '${secret}'`).toBe(false);
  });
});
