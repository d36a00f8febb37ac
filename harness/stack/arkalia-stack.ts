import type Dockerode from 'dockerode';
import { containerLogs } from './container-logs.ts';
import { hostUrl } from './host-url.ts';
import { removeArkaliaContainers } from './remove-arkalia-containers.ts';
import type { ArkaliaStack, HealthAnswer, StackServiceSpec } from './types.ts';

/**
 * The handle drills hold. It keeps no container handles nor ports: everything is looked
 * up by name or label each time, because operator scripts stop and start the containers
 * behind its back.
 */
export function createArkaliaStack(input: {
  docker: Dockerode;
  runId: string;
  root: string;
  services: readonly StackServiceSpec[];
}): ArkaliaStack {
  const { docker, runId, root } = input;
  const spec = (service: string): StackServiceSpec => {
    const found = input.services.find((s) => s.name === service);
    if (found === undefined) {
      throw new Error(`No service ${service} in stack ${runId} (has ${input.services.map((s) => s.name).join(', ')})`);
    }
    return found;
  };
  let stopping: Promise<void> | undefined;

  const stack: ArkaliaStack = {
    runId,
    root,
    containerName: (service) => spec(service).container,

    url: (service, path = '/') => hostUrl(docker, spec(service).container, spec(service).port, path),

    async health(service): Promise<HealthAnswer> {
      const url = await stack.url(service, '/health').catch(() => undefined);
      return url === undefined ? { status: 0, body: null } : getHealthAnswer(url);
    },

    logs: (service, tail = 50) => containerLogs(docker.getContainer(spec(service).container), tail),

    stop() {
      // Shared while in progress; forgotten on failure so that a retry can finish the job.
      stopping ??= removeArkaliaContainers(runId, { docker }).then(
        () => undefined,
        (err: unknown) => {
          stopping = undefined;
          throw err;
        },
      );
      return stopping;
    },

    [Symbol.asyncDispose]: () => stack.stop(),
  };
  return stack;
}

/** One GET: the status and the body (JSON when it parses, else the text); status 0 when unreachable. Never throws. */
export async function getHealthAnswer(url: string): Promise<HealthAnswer> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return { status: res.status, body: text }; // not JSON: the text is still worth showing
    }
  } catch {
    return { status: 0, body: null };
  }
}
