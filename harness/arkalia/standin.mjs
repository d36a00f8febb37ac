// A stand-in for one Arkalia service. Realistic (ARK_MODE=realistic): it writes what the
// real service writes, the way it does (traits.mjs). Otherwise the careful stand-in: it
// keeps its state TOML atomically and answers /health 503 on a bad state (and /status when
// it aggregates peers). Runs as PID 1 in a FROM scratch image with node + @iarna/toml only.
import { createServer } from 'node:http';
import { createRealisticService } from './realistic.mjs';
import { createStateKeeper } from './state-keeper.mjs';
import { traitsFor } from './traits.mjs';
import { aggregateStatus, parsePeers } from './status.mjs';

const env = process.env;
const service = env.ARK_SERVICE || 'standin';
const port = Number(env.ARK_PORT || 8000);
const stateFile = env.ARK_STATE_FILE;
const intervalMs = Number(env.ARK_WRITE_INTERVAL_MS ?? 300);
const peers = env.ARK_PEERS === undefined ? null : parsePeers(env.ARK_PEERS);
// ARK_MODE=realistic: the service as the real one behaves (traits.mjs), on the files
// ARK_FILE_<ROLE> names; otherwise the careful stand-in (atomic writes, 503 on bad state).
const realistic = env.ARK_MODE === 'realistic';
const healthPath = env.ARK_HEALTH_PATH || '/health';

if (!realistic && (!stateFile || !stateFile.startsWith('/'))) {
  console.log(`${service}: ARK_STATE_FILE must be an absolute path (got "${stateFile ?? ''}")`);
  process.exit(2);
}

const log = (line) => console.log(line);
const keeper = realistic
  ? createRealisticService({
      service,
      traits: traitsFor(service, env.ARK_TRAITS),
      files: Object.fromEntries(
        Object.entries(env)
          .filter(([k, v]) => k.startsWith('ARK_FILE_') && v)
          .map(([k, v]) => [k.slice('ARK_FILE_'.length).toLowerCase(), v]),
      ),
      cycleMs: intervalMs,
      tearMs: Number(env.ARK_TEAR_MS ?? 0),
      log,
    })
  : createStateKeeper({ service, stateFile, intervalMs, log });
const traits = realistic ? traitsFor(service, env.ARK_TRAITS) : new Set();

function send(res, { code, body }) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === healthPath) return send(res, keeper.health());
  if (req.method === 'GET' && path === '/status' && traits.has('status-always-ok'))
    return send(res, { code: 200, body: { status: 'ok', service } });
  if (req.method === 'GET' && path === '/status' && peers !== null) {
    aggregateStatus({ self: service, selfReport: keeper.health(), peers }).then(
      (report) => send(res, report),
      (err) => send(res, { code: 500, body: { status: 'error', error: String(err) } }),
    );
    return;
  }
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
// SIGUSR2 from the harness: the disk turns slow (a realistic writer's in-place write then takes ARK_TEAR_MS).
process.on('SIGUSR2', () => keeper.slowDown?.());
process.on('SIGINT', () => void shutdown('SIGINT'));

await keeper.start();
server.listen(port, '0.0.0.0', () => {
  const report = keeper.health();
  if (report.code === 200) console.log(`${service} ready on :${port} (sequence ${report.body.sequence})`);
  else console.log(`${service} serving /health 503 on :${port}`);
});
