// Reading and writing a state file the way a careful service must: parse it as the real
// Python modules do (`toml.load`), and replace it atomically so a crash or a concurrent
// reader never sees half a file.
import { createHash } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import TOML from '@iarna/toml';

/** One line saying why `text` is not valid TOML, or null when it is. */
export function tomlProblem(text) {
  try {
    TOML.parse(text);
    return null;
  } catch (err) {
    const first = String(err?.message ?? err).split('\n')[0];
    return first.replace(/:$/, '');
  }
}

/**
 * @returns {Promise<{kind:'missing'} | {kind:'invalid', reason:string, sha256:string}
 *   | {kind:'valid', text:string, bytes:Buffer, sha256:string}>}
 */
export async function loadState(file) {
  let bytes;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if (err?.code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: `cannot read: ${err?.code ?? err}`, sha256: '' };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // A zero-byte state parses as TOML but holds no key: the real services would fail on the
  // first lookup (KeyError), so an existing empty file is invalid; only a missing one is fresh.
  if (bytes.length === 0) return { kind: 'invalid', reason: 'state file is empty', sha256 };
  const text = bytes.toString('utf8');
  // Invalid UTF-8 is invalid TOML; decoding would silently replace the bad bytes.
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    return { kind: 'invalid', reason: 'not valid UTF-8', sha256 };
  }
  const problem = tomlProblem(text);
  return problem === null ? { kind: 'valid', text, bytes, sha256 } : { kind: 'invalid', reason: problem, sha256 };
}

/**
 * tmp file in the same directory + fsync + rename over + fsync the directory.
 * With `unchangedFrom`, the file is re-read just before the rename and left alone (returns
 * false) if someone else changed it since: an operator or a fault injector writing the
 * file must never be silently overwritten by a heartbeat based on older bytes.
 */
export async function writeStateAtomic(file, text, unchangedFrom) {
  const tmp = `${file}.tmp-${process.pid}`;
  // Keep the file's permissions: a rename would otherwise give it the tmp file's.
  const previous = await stat(file).catch(() => null);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.chmod(previous ? previous.mode & 0o7777 : 0o644);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (unchangedFrom !== undefined) {
      const now = await readFile(file).catch(() => null);
      if (now === null || !now.equals(unchangedFrom)) {
        await unlink(tmp);
        return false;
      }
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return true;
}
