import type { EventSink } from '../events.ts';
import type { ServiceController, ServiceTarget } from './service-controller.ts';

export interface ApiCheck {
  service: string;
  url: string | null;
  /** The last HTTP status seen (0: unreachable), null when not checked. */
  status: number | null;
  ok: boolean;
  checked: boolean;
}

/**
 * The runbook's last step (`curl -f http://localhost:8000/status`), as data from the policy:
 * GET the API service's path until it answers 200 or the timeout passes. Not checked when
 * services are not managed. Never throws: the caller decides what a failed check means.
 */
export async function checkApi(
  controller: ServiceController,
  target: ServiceTarget,
  path: string,
  timeoutMs: number,
  sink: EventSink,
  pollMs = 500,
): Promise<ApiCheck> {
  if (!controller.probe || controller.kind === 'none') {
    sink({
      kind: 'api-check',
      service: target.name,
      url: null,
      status: null,
      ok: true,
      message: `API check ${target.name}${path} skipped: services not managed`,
    });
    return { service: target.name, url: null, status: null, ok: true, checked: false };
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = (await controller.probe(target, path)) ?? { url: null, status: 0 };
    const ok = answer.status === 200;
    if (ok || Date.now() >= deadline) {
      const message = ok
        ? `API ${answer.url} → 200`
        : `API ${answer.url ?? `${target.container}${path}`} → ${answer.status || 'unreachable'} after ${Math.round(timeoutMs / 1000)} s (expected 200)`;
      sink({ kind: 'api-check', service: target.name, url: answer.url, status: answer.status, ok, message });
      return { service: target.name, url: answer.url, status: answer.status, ok, checked: true };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
