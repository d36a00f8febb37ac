import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP proxy to `upstream` that answers every nth request 503 SlowDown (as S3 does when throttling). */
export interface FailingProxy {
  url: string;
  /** Requests seen, and how many were failed on purpose. */
  stats(): { requests: number; failed: number };
  close(): Promise<void>;
}

export async function startFailingProxy(upstream: string, failEvery: number): Promise<FailingProxy> {
  const target = new URL(upstream);
  let requests = 0;
  let failed = 0;
  const server: Server = createServer((req, res) => {
    requests += 1;
    if (requests % failEvery === 0) {
      failed += 1;
      // Read the body first: failing mid-upload would be a dropped connection, another fault.
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml', connection: 'close' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate (injected by arkalia-dr).</Message></Error>',
        );
      });
      return;
    }
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, failed }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
