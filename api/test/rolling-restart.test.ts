// Drill: the API restarted one process at a time under live traffic, as an upgrade restarts it
// (docs/upgrade.md, step 5: out of nginx's rotation, restarted, ready, back in), through the shipped
// TLS proxy: the test profile's nginx spreads the traffic over two API processes (API_PORTS). Every request sent must be answered as it would be
// without a restart: the portal's pages and the API's reads, and creates (POST, which nginx never
// sends twice once any of it reached a process), each stored exactly once. Each process must say it
// is not ready before it stops accepting, and exit cleanly.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor } from '../../lib/identifiers/validate';
import { staffToken, testApp } from '../../testing/api';
import { env, waitFor, withPg } from '../../testing/services';

const ports = (env.API_PORTS ?? '').split(',').map(Number);
const proxy = new URL(env.PROXY_URL ?? 'https://proxy-url-not-set');
const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: readFileSync(env.PROXY_CA_FILE ?? 'not-set') });
const run = `${process.pid}-${Date.now()}`;
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ApiProcess {
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}
const processes: ApiProcess[] = [];
/** Takes an API process out of nginx's rotation or puts it back (ops/proxy.sh). */
const rotation = (action: 'out' | 'in', port: number) =>
  execFileAsync('bash', ['ops/proxy.sh', action, String(port)], { env: process.env });

const readiness = (port: number) =>
  fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status,
    () => 0, // not listening
  );

/** `npm run api` as a process of its own on `port`; resolves once /readyz says ready. */
async function startApi(port: number): Promise<ApiProcess> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
    env: { ...env, API_PORT: String(port), LOG_LEVEL: 'warn', API_WARM_UP_ROUNDS: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (d: Buffer) => {
    output += d;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const p: ApiProcess = {
    port,
    child,
    output: () => output,
    exited: new Promise((resolve) => child.once('exit', resolve)),
  };
  await waitFor(
    `the API on port ${port} to be ready (${output.slice(-300)})`,
    () => (child.exitCode === null ? readiness(port) : Promise.reject(new Error(`exited: ${output}`))),
    (status) => status === 200,
    90_000,
    50,
  );
  return p;
}

interface Outcome {
  request: string;
  status: number | string;
  at: number;
  ms: number;
}
/** Requests through nginx, `workers` at a time, until stopped; every answer kept. */
function startTraffic(token: string, workers: number) {
  const outcomes: Outcome[] = [];
  const created: string[] = [];
  let running = true;
  let serial = 0;
  let resent = 0;
  const base = 100_000_000 + (Date.now() % 700_000_000);
  const send = (method: string, path: string, expected: number, body?: object, headers: object = {}) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const payload = body === undefined ? undefined : JSON.stringify(body);
      let retried = false;
      const attempt = () => {
        const request = https.request(
          {
            host: '127.0.0.1',
            port: Number(proxy.port),
            path,
            method,
            agent,
            headers: {
              ...headers,
              ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            },
          },
          (r) => {
            r.resume();
            r.on('end', () => {
              outcomes.push({
                request: `${method} ${path}`,
                status: r.statusCode === expected ? 'ok' : r.statusCode!,
                at: Date.now(),
                ms: performance.now() - started,
              });
              resolve();
            });
          },
        );
        request.on('error', (error: NodeJS.ErrnoException) => {
          // nginx's old workers close idle keep-alive connections when it reloads; a request written
          // on one as it closes never reached nginx. Browsers send it again on a new connection
          // (Node's http docs recommend the same); a create that did reach a process would then
          // come back 409, not 201, and fail the drill.
          if (request.reusedSocket && error.code === 'ECONNRESET' && !retried) {
            retried = true;
            resent++;
            return void attempt();
          }
          outcomes.push({
            request: `${method} ${path}`,
            status: error.message,
            at: Date.now(),
            ms: performance.now() - started,
          });
          resolve();
        });
        request.end(payload);
      };
      attempt();
    });
  const auth = { authorization: `Bearer ${token}` };
  const loop = async () => {
    while (running) {
      const k = serial++;
      if (k % 4 === 0) await send('GET', '/portal', 200);
      else if (k % 4 === 1) await send('GET', '/portal/help', 200);
      else if (k % 4 === 2) await send('GET', '/billing/months', 200, undefined, auth);
      else {
        const nationalCode = nationalCodeFor(base + k);
        created.push(nationalCode);
        await send(
          'POST',
          '/beneficiaries',
          201,
          { nationalCode, fullName: `rolling ${run}`, province: 'fars', targetGroup: 'OTHER' },
          auth,
        );
      }
      await sleep(20);
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    outcomes,
    created,
    resent: () => resent,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

let token: string;
beforeAll(async () => {
  expect(ports.length, `API_PORTS (${env.API_PORTS}) should name two API processes behind nginx`).toBe(2);
  const app = await testApp();
  try {
    token = await staffToken(app, `rolling-op-${run}`, 'OPERATOR');
  } finally {
    await app.close();
  }
  processes.push(...(await Promise.all(ports.map(startApi))));
}, 200_000);
afterAll(async () => {
  for (const port of ports) await rotation('in', port); // the profile's nginx as setup left it
  agent.destroy();
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

describe('drill: the API restarted one process at a time under live traffic', () => {
  it('answers every request sent through the proxy, each create stored once, across two restarts', async () => {
    const traffic = startTraffic(token, 4);
    const restarts: { port: number; notReadyWhileListening: boolean; exit: number | null; restartMs: number }[] = [];
    try {
      await sleep(1500);
      for (const [k, old] of processes.entries()) {
        const started = Date.now();
        await rotation('out', old.port); // as docs/upgrade.md does: nginx sends it nothing new
        old.child.kill('SIGTERM');
        // Draining: not ready while still answering (the port is still open), before it closes.
        const status = await waitFor(
          `port ${old.port} to say not ready`,
          () => readiness(old.port),
          (s) => s !== 200,
          10_000,
          20,
        );
        const exit = await old.exited;
        processes[k] = await startApi(old.port);
        await rotation('in', old.port);
        restarts.push({
          port: old.port,
          notReadyWhileListening: status === 503,
          exit,
          restartMs: Date.now() - started,
        });
        await sleep(1500); // traffic on the restarted process before the next one goes
      }
    } finally {
      await traffic.stop();
    }
    const failed = traffic.outcomes.filter((o) => o.status !== 'ok');
    const answered = traffic.outcomes.length - failed.length;
    const ms = traffic.outcomes.map((o) => o.ms).sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(0);
    console.log(
      `rolling restart of the API: ${traffic.outcomes.length} sent, ${answered} answered as expected`,
      `(${traffic.resent()} sent again after nginx closed an idle connection as it was reused);`,
      `latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms;`,
      JSON.stringify(restarts),
    );
    expect(failed).toEqual([]);
    expect(traffic.outcomes.length).toBeGreaterThan(100);
    for (const r of restarts) expect(r).toMatchObject({ notReadyWhileListening: true, exit: 0 });
    const stored = await withPg(
      async (c) =>
        (
          await c.query<{ n: string }>('SELECT count(*) AS n FROM beneficiaries WHERE full_name = $1', [
            `rolling ${run}`,
          ])
        ).rows[0]!.n,
    );
    expect(Number(stored)).toBe(traffic.created.length);
  }, 240_000);
});
