import { createHash } from 'node:crypto';
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { stripHeartbeat, withHeartbeat } from './heartbeat.mjs';
import { createStateKeeper, type StateKeeper } from './state-keeper.mjs';

const ORIGINAL = 'timestamp = "2025-06-26 09:55:01"\n\n[decision]\nlast_decision = "reduce_load"\n';
const CONFLICT = '<<<<<<< HEAD\nstatus = "a"\n=======\nstatus = "b"\n>>>>>>> dev\n';
const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

let dir: string;
let file: string;
let keeper: StateKeeper | undefined;
const logs: string[] = [];

const start = async (intervalMs = 10) => {
  keeper = createStateKeeper({ service: 'zeroia', stateFile: file, intervalMs, log: (line) => logs.push(line) });
  await keeper.start();
  return keeper;
};
const until = async (check: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met within 2 s');
};

beforeEach(async () => {
  dir = await tempDir('state-keeper-');
  file = join(dir, 'zeroia_state.toml');
  logs.length = 0;
});
afterEach(async () => {
  await keeper?.stop();
  keeper = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('createStateKeeper', () => {
  it('is healthy on a valid file, reports the loaded hash and bumps the sequence', async () => {
    await writeFile(file, ORIGINAL);
    const k = await start();
    expect(k.health()).toMatchObject({
      code: 200,
      body: { status: 'ok', sequence: 0, loaded_sha256: sha256(ORIGINAL) },
    });
    await until(() => (k.health().body.sequence as number) >= 3);
    const text = await readFile(file, 'utf8');
    expect(stripHeartbeat(text)).toBe(ORIGINAL);
    expect(() => TOML.parse(text)).not.toThrow();
  });

  it('continues the sequence found in the file (a restored backup restarts from its value)', async () => {
    await writeFile(file, withHeartbeat(ORIGINAL, { service: 'zeroia', sequence: 41, writtenAt: 'x' }));
    const k = await start(0);
    expect(k.health().body).toMatchObject({ sequence: 41, written_at: 'x', loaded: { sequence: 41, written_at: 'x' } });
  });

  it('treats an existing empty state file as invalid (the real services would fail on the first key)', async () => {
    await writeFile(file, '');
    const k = await start(0);
    expect(k.health()).toMatchObject({ code: 503, body: { status: 'unhealthy', reason: 'state file is empty' } });
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('creates a missing file from sequence 0', async () => {
    const k = await start(0);
    expect(k.health()).toMatchObject({ code: 200, body: { sequence: 0, loaded_sha256: null } });
    expect(TOML.parse(await readFile(file, 'utf8'))).toMatchObject({ standin: { sequence: 0 } });
  });

  it('refuses an invalid file at start and never writes it', async () => {
    await writeFile(file, CONFLICT);
    const k = await start();
    expect(k.health()).toMatchObject({ code: 503, body: { status: 'unhealthy', service: 'zeroia' } });
    expect(logs.join('\n')).toMatch(/^state invalid: .*row 1/m);
    await new Promise((r) => setTimeout(r, 60));
    expect(await readFile(file, 'utf8')).toBe(CONFLICT);
  });

  it('turns unhealthy when the file is corrupted while running and keeps the evidence', async () => {
    await writeFile(file, ORIGINAL);
    const k = await start();
    await until(() => (k.health().body.sequence as number) >= 1);
    await writeFile(file, CONFLICT);
    await until(() => k.health().code === 503);
    await new Promise((r) => setTimeout(r, 60));
    expect(await readFile(file, 'utf8')).toBe(CONFLICT);
  });

  it('turns unhealthy when the file disappears, and does not recreate it', async () => {
    await writeFile(file, ORIGINAL);
    const k = await start();
    await until(() => (k.health().body.sequence as number) >= 1);
    await unlink(file);
    await until(() => k.health().code === 503);
    expect(k.health().body.reason).toMatch(/disappeared/);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  it('will not damage a file that already has a [standin] table of its own', async () => {
    const own = `${ORIGINAL}\n[standin]\nowner = "arkalia"\n`;
    await writeFile(file, own);
    const k = await start();
    await until(() => k.health().code === 503);
    expect(k.health().body.reason).toMatch(/heartbeat would make the state invalid/);
    expect(await readFile(file, 'utf8')).toBe(own);
  });
});
