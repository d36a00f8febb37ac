// The life of one stand-in service's state: load it once at start (refuse to be healthy
// when it is invalid, like the real `toml.load`), then rewrite the heartbeat every
// interval until the file goes bad. A bad file is evidence: it is never rewritten.
import { loadState, tomlProblem, writeStateAtomic } from './state-file.mjs';
import { readHeartbeat, withHeartbeat } from './heartbeat.mjs';

export function createStateKeeper({ service, stateFile, intervalMs, now = () => new Date(), log = () => {} }) {
  let sequence = 0;
  let writtenAt = null;
  let loadedSha256 = null;
  // The heartbeat found in the file at start: what a restore brought back (drills measure
  // data loss against the heartbeat at the moment of the fault).
  let loadedBeat = { sequence: null, written_at: null };
  let reason = null;
  let timer = null;
  let inFlight = Promise.resolve();
  let stopped = false;

  function fail(why) {
    reason = why;
    clearTimeout(timer);
    log(`state invalid: ${why}`);
  }

  async function write(baseText, unchangedFrom, nextSequence = sequence + 1) {
    const next = { service, sequence: nextSequence, writtenAt: now().toISOString() };
    const text = withHeartbeat(baseText, next);
    // A file that parses but would not once the block is appended (say it already has a
    // [standin] table) must not be damaged by the stand-in.
    const problem = tomlProblem(text);
    if (problem !== null) return fail(`heartbeat would make the state invalid (${problem})`);
    try {
      if (await writeStateAtomic(stateFile, text, unchangedFrom)) {
        sequence = next.sequence;
        writtenAt = next.writtenAt;
      }
    } catch (err) {
      fail(`cannot write the state file (${err?.code ?? err})`);
    }
  }

  async function tick() {
    if (stopped || reason !== null) return;
    const current = await loadState(stateFile);
    if (current.kind === 'missing') return fail('state file disappeared');
    if (current.kind === 'invalid') return fail(current.reason);
    await write(current.text, current.bytes);
    schedule();
  }

  function schedule() {
    if (stopped || reason !== null || intervalMs <= 0) return;
    timer = setTimeout(() => {
      inFlight = tick().catch((err) => fail(`unexpected: ${err?.message ?? err}`));
    }, intervalMs);
  }

  return {
    async start() {
      const loaded = await loadState(stateFile);
      if (loaded.kind === 'invalid') {
        loadedSha256 = loaded.sha256 || null;
        return fail(loaded.reason);
      }
      if (loaded.kind === 'missing') {
        // A fresh service creates its state, starting from sequence 0.
        await write('', undefined, 0);
        if (reason !== null) return;
      } else {
        loadedSha256 = loaded.sha256;
        const beat = readHeartbeat(loaded.text);
        sequence = beat?.sequence ?? 0;
        writtenAt = beat?.writtenAt ?? null;
        loadedBeat = { sequence: beat?.sequence ?? null, written_at: beat?.writtenAt ?? null };
      }
      schedule();
    },

    /** Stops the heartbeat after the write in progress, if any, has finished. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },

    health() {
      if (reason !== null) return { code: 503, body: { status: 'unhealthy', service, reason } };
      return {
        code: 200,
        body: {
          status: 'ok',
          service,
          sequence,
          written_at: writtenAt,
          loaded_sha256: loadedSha256,
          loaded: loadedBeat,
        },
      };
    },
  };
}
