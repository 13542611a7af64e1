// npm run gateway:bundle — the gateway as one file for the box (.data/gateway/solar-gateway.mjs),
// everything but serialport (native; installed beside the file only for Modbus RTU, and loaded only
// when an RTU link opens).
//
// Node's built-in modules are loaded with require(), not as ES module imports: importing one as an
// ES module makes Node evaluate every lazy export it has, and node:http's include WebSocket, which
// loads undici (0.8 MB of source) with http2, zlib, web streams and more; node:fs's loads readline
// and the REPL's history. The gateway uses none of them (a heap snapshot showed them; 2-3 MB).
import { createRequire, isBuiltin } from 'node:module';
import { build, type Plugin } from 'esbuild';

/**
 * Built-ins that only some commands or settings use are loaded on first use: node:http and
 * node:https (commissioning; the `https` time source), dgram (modbus-serial's UDP ports) and
 * worker_threads (pino asks only whether it runs in the main thread). Loaded at start they were
 * their modules' code and bytecode in every gateway's memory. The stand-in has the built-in's
 * exports (listed when bundling) as getters that load it.
 */
const ON_FIRST_USE = /^(node:)?(http|https|dgram|worker_threads)$/;
const builtinsOnFirstUse: Plugin = {
  name: 'builtins-on-first-use',
  setup(b) {
    b.onResolve({ filter: ON_FIRST_USE }, (args) =>
      args.namespace === 'builtin-on-first-use'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'builtin-on-first-use' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin-on-first-use' }, (args) => {
      const names = Object.keys(createRequire(import.meta.url)(args.path));
      return {
        contents: `let real;
const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));
for (const name of ${JSON.stringify(names)}) Object.defineProperty(module.exports, name, { enumerable: true, get: () => load()[name] });`,
        loader: 'js',
      };
    });
  },
};

const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) =>
      args.kind === 'import-statement' && isBuiltin(args.path) ? { path: args.path, namespace: 'builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * Packages the gateway never runs are left out: mqtt.js's WebSocket transport (`ws`; the gateway
 * speaks mqtts only) and pino's worker-thread transports (`thread-stream`; it logs to stdout).
 * Each is replaced by a module that says so if it is ever used.
 */
const leftOut: Plugin = {
  name: 'left-out',
  setup(b) {
    b.onResolve({ filter: /^(ws|thread-stream)$/ }, (args) => ({ path: args.path, namespace: 'left-out' }));
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `const no = () => { throw new Error('${args.path} is not in the gateway bundle'); };
module.exports = no; module.exports.createWebSocketStream = no; module.exports.WebSocket = no;`,
      loader: 'js',
    }));
  },
};

/**
 * serialport is loaded when a Modbus RTU link opens, not at start: modbus-serial requires it as it
 * loads (for its RTU port and server classes), so every gateway on a box where it is installed, TCP
 * only or not, had its native binding, streams and parsers in memory. This stand-in loads the real
 * package on first use, and says how to install it when it is missing.
 */
const serialportOnUse: Plugin = {
  name: 'serialport-on-use',
  setup(b) {
    b.onResolve({ filter: /^serialport$/ }, (args) =>
      args.namespace === 'serialport-on-use'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'serialport-on-use' },
    );
    b.onLoad({ filter: /.*/, namespace: 'serialport-on-use' }, () => ({
      contents: `let real;
function load() {
  if (real) return real;
  try { real = require('serialport'); } catch (error) {
    throw new Error('Modbus RTU needs the serialport package beside the gateway (npm install --omit=dev serialport@13): ' + error.message.split('\\n')[0]);
  }
  return real;
}
class SerialPort { constructor(...args) { return new (load().SerialPort)(...args); } static list() { return load().SerialPort.list(); } }
module.exports = { SerialPort };`,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: ['gateway/src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  outfile: '.data/gateway/solar-gateway.mjs',
  external: ['@serialport/*'],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  plugins: [builtinsOnFirstUse, builtinsByRequire, leftOut, serialportOnUse],
  logLevel: 'warning',
});
