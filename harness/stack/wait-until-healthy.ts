import type Dockerode from 'dockerode';
import type { WaitStrategy } from 'testcontainers';
import { setTimeout as sleep } from 'node:timers/promises';
import { publishedUrl } from './host-url.ts';

/**
 * Ready as soon as GET /health answers 200 from the host (about 0.1 s after start, where
 * Docker's first HEALTHCHECK probe only comes after its 1 s interval). Fails fast when the
 * container exits or Docker's health check declares it unhealthy (a 503 alone might be a
 * real image warming up). `explain` turns the reason into the error to throw while the
 * container still exists (Testcontainers removes it right after), so it can read its logs.
 */
export function waitUntilHealthy(
  port: number,
  explain: (container: Dockerode.Container, why: string) => Promise<Error>,
): WaitStrategy {
  let timeoutMs = 60_000;
  let timeoutSet = false;
  const strategy: WaitStrategy = {
    async waitUntilReady(container) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = await container.inspect();
        const health = info.State.Health?.Status;
        if (!info.State.Running) throw await explain(container, `it exited with code ${info.State.ExitCode}`);
        if (health === 'healthy' || (await answers200(publishedUrl(info, port, '/health')))) return;
        if (health === undefined) throw await explain(container, 'its image has no HEALTHCHECK');
        if (health === 'unhealthy') throw await explain(container, 'its health check reports unhealthy');
        if (Date.now() > deadline) throw await explain(container, `it was not healthy after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    withStartupTimeout(ms) {
      timeoutMs = ms;
      timeoutSet = true;
      return strategy;
    },
    isStartupTimeoutSet: () => timeoutSet,
    getStartupTimeout: () => timeoutMs,
  };
  return strategy;
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}
