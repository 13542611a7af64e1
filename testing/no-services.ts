// Loaded before every test file (vitest.config.ts and vitest.unit.config.ts): a test outside a
// `test/` folder reaches no service (docs/decisions/005-tests-in-test-folders.md), so for such a file
// every TCP connection this process opens is refused, naming where it went. `npm test` runs the unit
// files with the services up: one that silently needed PostgreSQL, InfluxDB or Mosquitto fails
// there instead of passing, as it would fail on a contributor's machine under `npm run test:unit`.
import { Socket } from 'node:net';
import { relative, sep } from 'node:path';
import { expect } from 'vitest';

const GUARDED = Symbol.for('solar.unit-tests-reach-no-service');
type Connect = typeof Socket.prototype.connect & { [GUARDED]?: true };

/** Where a connect() call goes: a port (and host), or a path (a Unix socket, which is no service's). */
function destination(args: unknown[]): { port?: unknown; host?: unknown; path?: unknown } {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]; // net.connect() passes its arguments normalized
  if (typeof first === 'object' && first !== null) return first;
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
}

const testFile = relative(process.cwd(), expect.getState().testPath ?? '');
const unitTest = !testFile.split(sep).includes('test');
const connect = Socket.prototype.connect as Connect;
if (unitTest && !connect[GUARDED]) {
  const guarded = function (this: Socket, ...args: unknown[]) {
    const to = destination(args);
    if (to.path !== undefined) return connect.apply(this, args as Parameters<Connect>);
    const error = Object.assign(
      new Error(
        `a unit test opened a connection to ${to.host ?? 'localhost'}:${to.port}: a test outside a test/ folder reaches no ` +
          "service (docs/decisions/005-tests-in-test-folders.md); move it to its component's test/ folder",
      ),
      { code: 'ECONNREFUSED' },
    );
    process.nextTick(() => this.destroy(error));
    return this;
  } as Connect;
  guarded[GUARDED] = true;
  Socket.prototype.connect = guarded;
}
