// helloria's /status: the API is only "ok" when every module it depends on answers
// /health with 200, as seen from inside the container network.

/** `reflexia=http://reflexia:8002,zeroia=http://zeroia:8000` -> [{ name, url }] */
export function parsePeers(spec) {
  return (spec ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new Error(`ARK_PEERS entry "${item}" is not name=url`);
      return { name: item.slice(0, eq), url: item.slice(eq + 1).replace(/\/$/, '') };
    });
}

async function peerHealth({ url }, fetchImpl, timeoutMs) {
  try {
    const res = await fetchImpl(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.json().catch(() => ({}));
    return { ...body, http: res.status, status: body.status ?? (res.ok ? 'ok' : 'unhealthy') };
  } catch (err) {
    const error = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err;
    return { http: 0, status: 'unreachable', error: String(error) };
  }
}

export async function aggregateStatus({ self, selfReport, peers, fetchImpl = fetch, timeoutMs = 1000 }) {
  const services = { [self]: { http: selfReport.code, ...selfReport.body } };
  const answers = await Promise.all(peers.map((peer) => peerHealth(peer, fetchImpl, timeoutMs)));
  peers.forEach((peer, i) => (services[peer.name] = answers[i]));
  const ok = Object.values(services).every((s) => s.http === 200 && s.status === 'ok');
  return { code: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', services } };
}
