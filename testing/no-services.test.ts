// The guard testing/no-services.ts puts on every test outside a test/ folder, this one included:
// a TCP service listening on loopback (a stand-in for PostgreSQL, InfluxDB or Mosquitto) is refused
// to the clients the platform uses, with a message naming where the test tried to go.
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let service: Server;
let port: number;
beforeAll(async () => {
  service = createServer((socket) => socket.end());
  await new Promise<void>((listening) => service.listen(0, '127.0.0.1', listening));
  port = (service.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((closed) => service.close(() => closed())));

const REFUSED = /a unit test opened a connection to .*: a test outside a test\/ folder reaches no service/;

describe('a unit test', () => {
  it('reaches no service over TCP, whatever the client', async () => {
    const socket = tcpConnect(port, '127.0.0.1');
    const outcome = await new Promise<string>((done) => {
      socket.on('connect', () => done('connected'));
      socket.on('error', (error) => done(error.message));
    });
    socket.destroy();
    expect(outcome).toMatch(REFUSED);
    await expect(new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x' }).connect()).rejects.toThrow(
      REFUSED,
    );
    await expect(fetch(`http://127.0.0.1:${port}/ping`)).rejects.toMatchObject({
      cause: { message: expect.stringMatching(REFUSED) },
    });
  });
});
