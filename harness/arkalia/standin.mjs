// A stand-in for one Arkalia module (reflexia, zeroia, helloria, assistantia): it keeps
// its state TOML the way the real service does and answers /health (and /status when it
// aggregates peers). Runs as PID 1 in a FROM scratch image with node + @iarna/toml only.
import { createServer } from 'node:http';
import { createStateKeeper } from './state-keeper.mjs';
import { aggregateStatus, parsePeers } from './status.mjs';

const env = process.env;
const service = env.ARK_SERVICE || 'standin';
const port = Number(env.ARK_PORT || 8000);
const stateFile = env.ARK_STATE_FILE;
const intervalMs = Number(env.ARK_WRITE_INTERVAL_MS ?? 300);
const peers = env.ARK_PEERS === undefined ? null : parsePeers(env.ARK_PEERS);

if (!stateFile || !stateFile.startsWith('/')) {
  console.log(`${service}: ARK_STATE_FILE must be an absolute path (got "${stateFile ?? ''}")`);
  process.exit(2);
}

const keeper = createStateKeeper({ service, stateFile, intervalMs, log: (line) => console.log(line) });

function send(res, { code, body }) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health') return send(res, keeper.health());
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
process.on('SIGINT', () => void shutdown('SIGINT'));

await keeper.start();
server.listen(port, '0.0.0.0', () => {
  const report = keeper.health();
  if (report.code === 200) console.log(`${service} ready on :${port} (sequence ${report.body.sequence})`);
  else console.log(`${service} serving /health 503 on :${port}`);
});
