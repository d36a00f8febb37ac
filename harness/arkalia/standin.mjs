// A stand-in for one Arkalia service: it writes what the real service writes, the way it
// does (traits.mjs: in place, plain open("w"), appends; a corrupted state overwritten), on
// the files ARK_FILE_<ROLE> names, and answers its health path the way the real one does
// (200, whatever its state holds). Runs as PID 1 in a FROM scratch image with node +
// @iarna/toml only.
import { createServer } from 'node:http';
import { createRealisticService } from './realistic.mjs';
import { traitsFor } from './traits.mjs';

const env = process.env;
const service = env.ARK_SERVICE || 'standin';
const port = Number(env.ARK_PORT || 8000);
const intervalMs = Number(env.ARK_WRITE_INTERVAL_MS ?? 300);
const healthPath = env.ARK_HEALTH_PATH || '/health';

let traits;
try {
  traits = traitsFor(service, env.ARK_TRAITS);
} catch (error) {
  console.log(`${service}: ${error.message}`);
  process.exit(2);
}

const log = (line) => console.log(line);
const keeper = createRealisticService({
  service,
  traits,
  files: Object.fromEntries(
    Object.entries(env)
      .filter(([k, v]) => k.startsWith('ARK_FILE_') && v)
      .map(([k, v]) => [k.slice('ARK_FILE_'.length).toLowerCase(), v]),
  ),
  cycleMs: intervalMs,
  tearMs: Number(env.ARK_TEAR_MS ?? 0),
  log,
});

function send(res, { code, body }) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === healthPath) return send(res, keeper.health());
  if (req.method === 'GET' && path === '/status' && traits.has('status-always-ok'))
    return send(res, { code: 200, body: { status: 'ok', service } });
  send(res, { code: 404, body: { status: 'not found', path } });
});

// Node as PID 1 gets no default signal handlers: without these, `docker stop` would wait
// its full grace period and then SIGKILL, possibly mid-write.
let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${service} stopping on ${signal}`);
  await keeper.stop();
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// SIGUSR2 from the harness: the disk turns slow (an in-place write then takes ARK_TEAR_MS).
process.on('SIGUSR2', () => keeper.slowDown());
process.on('SIGINT', () => void shutdown('SIGINT'));

await keeper.start();
server.listen(port, '0.0.0.0', () => {
  console.log(`${service} ready on :${port} (sequence ${keeper.health().body.sequence})`);
});
