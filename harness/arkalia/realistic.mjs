// One real Arkalia service's way of writing, trait by trait (traits.mjs): what it writes
// each cycle, how (in place, plain open("w"), appends), and what it does with a state it
// cannot parse. Nothing here is careful on purpose: the real services are not, and the
// recovery must cope with that. Every write carries the heartbeat (sequence + time).
import { createHash } from 'node:crypto';
import { appendFile, copyFile, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readHeartbeat, stripHeartbeat, withHeartbeat } from './heartbeat.mjs';
import { tomlProblem } from './state-file.mjs';

export const FRESH_ZEROIA_STATE =
  '# ZeroIA state, written fresh: the previous one did not parse\nlast_decision = "init"\nconfidence = 0.0\n';

/**
 * @param {{ service: string, traits: Set<string>, files: Record<string, string>, cycleMs: number,
 *   tearMs?: number, log?: (line: string) => void, now?: () => Date }} o
 *   files: container paths by role (state, backup, log, json, jsonl).
 */
export function createRealisticService(o) {
  const log = o.log ?? (() => {});
  const now = o.now ?? (() => new Date());
  const has = (trait) => o.traits.has(trait);
  let sequence = 0;
  let writtenAt = null;
  let loaded = { sha256: null, sequence: null, written_at: null };
  let timer = null;
  let inFlight = Promise.resolve();
  let stopped = false;
  let lastError = null;
  // The slow disk (tearMs) starts only when the harness says so (slowDown): a backup taken
  // before the fault never catches a write half done.
  let slow = false;

  async function cycle() {
    const beat = { service: o.service, sequence: sequence + 1, writtenAt: now().toISOString() };
    if (o.files.state) await writeState(beat);
    if (o.files.json && has('writes-json')) await writeJson(o.files.json, beat);
    if (o.files.jsonl && has('appends-jsonl'))
      await appendLine(
        o.files.jsonl,
        `${JSON.stringify({ service: o.service, sequence: beat.sequence, at: beat.writtenAt })}\n`,
      );
    if (o.files.log && has('appends-log'))
      await appendLine(o.files.log, `${beat.writtenAt} ${o.service}: conversation turn ${beat.sequence}\n`);
    sequence = beat.sequence;
    writtenAt = beat.writtenAt;
  }

  async function writeState(beat) {
    const file = o.files.state;
    if (has('json-in-toml')) {
      // reflexia: json.dump into reflexia_state.toml, plain open("w").
      await ensureDir(file);
      await writeFile(file, `${JSON.stringify({ status: 'active', standin: heartbeatObject(beat) }, null, 2)}\n`);
      return;
    }
    const current = await readFile(file, 'utf8').catch((e) => (e?.code === 'ENOENT' ? null : Promise.reject(e)));
    // zeroia copies its state to the backup file first, whatever it holds.
    if (current !== null && o.files.backup && has('state-backup-copy')) await copyFile(file, o.files.backup);
    let base = current === null ? '' : stripHeartbeat(current);
    if (current !== null && tomlProblem(current) !== null) {
      if (!has('overwrite-corrupt')) return; // leaves the damage where it is
      log(`${o.service}: state ${file} does not parse (${tomlProblem(current)}): overwritten with a fresh state`);
      base = FRESH_ZEROIA_STATE;
      beat.sequence = 1; // a fresh state starts its count again
    }
    const text = withHeartbeat(base, beat);
    if (has('in-place-rewrite')) await rewriteInPlace(file, text);
    else await writeFile(file, text);
  }

  /**
   * Truncate, write half, wait (a kill now leaves a torn file), write the rest. On a fast disk
   * (before slowDown) the three steps are synchronous, as Python's open("w").write() is: the
   * file is torn only for the microseconds between them.
   */
  async function rewriteInPlace(file, text) {
    await ensureDir(file);
    const bytes = Buffer.from(text);
    if (!slow || !o.tearMs) {
      writeFileSync(file, bytes);
      return;
    }
    const half = Math.floor(bytes.length / 2);
    const handle = await open(file, 'w');
    try {
      await handle.write(bytes, 0, half, 0);
      if (slow && o.tearMs) await new Promise((r) => setTimeout(r, o.tearMs));
      await handle.write(bytes, half, bytes.length - half, half);
    } finally {
      await handle.close();
    }
  }

  async function writeJson(file, beat) {
    let data = {};
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed;
    } catch {
      // missing or not JSON: the real services start from an empty dict
    }
    await ensureDir(file);
    await writeFile(file, `${JSON.stringify({ ...data, standin: heartbeatObject(beat) }, null, 2)}\n`);
  }

  async function appendLine(file, line) {
    await ensureDir(file);
    await appendFile(file, line);
  }

  function schedule() {
    if (stopped || o.cycleMs <= 0) return;
    timer = setTimeout(() => {
      inFlight = cycle()
        .catch((err) => {
          lastError = String(err?.code ?? err?.message ?? err);
          log(`${o.service}: write failed: ${lastError}`);
        })
        .finally(schedule);
    }, o.cycleMs);
  }

  return {
    async start() {
      const file = o.files.state ?? o.files.json;
      const bytes = file ? await readFile(file).catch(() => null) : null;
      if (bytes !== null) {
        const text = bytes.toString('utf8');
        const beat = readHeartbeat(text) ?? jsonHeartbeat(text);
        loaded = {
          sha256: createHash('sha256').update(bytes).digest('hex'),
          sequence: beat?.sequence ?? null,
          written_at: beat?.writtenAt ?? null,
        };
        sequence = beat?.sequence ?? 0;
        writtenAt = beat?.writtenAt ?? null;
      }
      // What it started on, in its log: drills prove from it that a restarted service read the restored bytes.
      log(
        `${o.service} started on ${file ?? '(no state file)'} sha256=${loaded.sha256 ?? 'none'} sequence=${loaded.sequence ?? 'none'}`,
      );
      schedule();
    },
    /** Stops after the write in progress, if any. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
    /** What the health endpoint says: always 200 with `health-ignores-state`. */
    health() {
      return {
        code: 200,
        body: {
          status: 'ok',
          service: o.service,
          sequence,
          written_at: writtenAt,
          loaded_sha256: loaded.sha256,
          loaded: { sequence: loaded.sequence, written_at: loaded.written_at },
          ...(lastError ? { last_error: lastError } : {}),
        },
      };
    },
    cycle,
    /** From now on, each in-place write pauses tearMs between its halves. */
    slowDown() {
      slow = true;
      log(`${o.service}: slow disk: in-place writes now take ${o.tearMs ?? 0} ms`);
    },
  };
}

function heartbeatObject(beat) {
  return { service: beat.service, sequence: beat.sequence, written_at: beat.writtenAt };
}

/** The heartbeat of a JSON file the stand-in wrote (`standin.sequence`), or null. */
export function jsonHeartbeat(text) {
  try {
    const s = JSON.parse(text)?.standin;
    return typeof s?.sequence === 'number' ? { sequence: s.sequence, writtenAt: s.written_at ?? null } : null;
  } catch {
    return null;
  }
}

async function ensureDir(file) {
  await mkdir(dirname(file), { recursive: true });
}
