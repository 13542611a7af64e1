// npm run gateway:bundle — the gateway as one file for the box (.data/gateway/solar-gateway.mjs),
// everything but serialport (native; installed beside the file only for Modbus RTU).
//
// Node's built-in modules are loaded with require(), not as ES module imports: importing one as an
// ES module makes Node evaluate every lazy export it has, and node:http's include WebSocket, which
// loads undici (0.8 MB of source) with http2, zlib, web streams and more; node:fs's loads readline
// and the REPL's history. The gateway uses none of them (a heap snapshot showed them; 2-3 MB).
import { isBuiltin } from 'node:module';
import { build, type Plugin } from 'esbuild';

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

await build({
  entryPoints: ['gateway/src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  outfile: '.data/gateway/solar-gateway.mjs',
  external: ['serialport', '@serialport/*'],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  plugins: [builtinsByRequire, leftOut],
  logLevel: 'warning',
});
