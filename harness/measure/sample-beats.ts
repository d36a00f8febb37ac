import type { ArkaliaStack } from '../stack/index.ts';
import type { Beat } from './objectives.ts';

/** Every service's heartbeat as its /health reports it (nulls when it does not answer 200). */
export async function sampleBeats(stack: ArkaliaStack, services: readonly string[]): Promise<Beat[]> {
  return Promise.all(
    services.map(async (service) => {
      const health = await stack.health(service).catch(() => ({ status: 0, body: null }));
      const body = (health.status === 200 ? health.body : null) as Record<string, unknown> | null;
      return {
        service,
        sequence: typeof body?.sequence === 'number' ? body.sequence : null,
        writtenAt: typeof body?.written_at === 'string' ? body.written_at : null,
        loaded: (body?.loaded as Beat['loaded']) ?? null,
        loadedSha256: typeof body?.loaded_sha256 === 'string' ? body.loaded_sha256 : null,
      };
    }),
  );
}
