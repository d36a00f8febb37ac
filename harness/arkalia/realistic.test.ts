import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { readHeartbeat } from './heartbeat.mjs';
import { createRealisticService, FRESH_ZEROIA_STATE, jsonHeartbeat } from './realistic.mjs';
import { SERVICES, traitsFor } from './traits.mjs';

const CONFLICT = '<<<<<<< HEAD\nlast_decision = "a"\n=======\nlast_decision = "b"\n>>>>>>> dev-migration\n';

async function zeroia(initial: string | null, tearMs = 0) {
  const dir = await tempDir('ark-realistic-');
  const state = join(dir, 'zeroia_state.toml');
  const backup = join(dir, 'zeroia_state_backup.toml');
  if (initial !== null) await writeFile(state, initial);
  const service = createRealisticService({
    service: 'zeroia',
    traits: traitsFor('zeroia', undefined),
    files: { state, backup },
    cycleMs: 0,
    tearMs,
    now: () => new Date('2026-12-01T03:00:00Z'),
  });
  await service.start();
  return { service, state, backup };
}

describe('the realistic stand-ins (traits.mjs)', () => {
  it('zeroia: rewrites its state in place with the heartbeat, and copies it to the backup file first', async () => {
    const z = await zeroia('last_decision = "hold"\n');
    await z.service.cycle();
    await z.service.cycle();
    const text = await readFile(z.state, 'utf8');
    expect(text.startsWith('last_decision = "hold"\n')).toBe(true);
    expect(readHeartbeat(text)).toEqual({ sequence: 2, writtenAt: '2026-12-01T03:00:00.000Z' });
    expect(readHeartbeat(await readFile(z.backup, 'utf8'))?.sequence).toBe(1); // the copy made before the second rewrite
  });

  it('zeroia: a state it cannot parse is copied to the backup (corruption included), then overwritten with a fresh one', async () => {
    const z = await zeroia(CONFLICT);
    await z.service.cycle();
    expect(await readFile(z.backup, 'utf8')).toBe(CONFLICT);
    const text = await readFile(z.state, 'utf8');
    expect(text.startsWith(FRESH_ZEROIA_STATE)).toBe(true);
    expect(readHeartbeat(text)?.sequence).toBe(1);
  });

  it('zeroia: the in-place write is torn while it is in flight (the file holds half of it)', async () => {
    const z = await zeroia('last_decision = "hold"\nconfidence = 0.5\n', 300);
    await z.service.cycle(); // not slow yet: no pause
    z.service.slowDown();
    const writing = z.service.cycle();
    await new Promise((r) => setTimeout(r, 100));
    const torn = await readFile(z.state, 'utf8');
    await writing;
    const whole = await readFile(z.state, 'utf8');
    expect(torn.length).toBe(Math.floor(Buffer.byteLength(whole) / 2));
    expect(whole.startsWith(torn)).toBe(true);
  });

  it('health ignores state: 200 with a corrupted state file all the same', async () => {
    const z = await zeroia(CONFLICT);
    expect(z.service.health()).toMatchObject({ code: 200, body: { status: 'ok', service: 'zeroia' } });
  });

  it('reflexia writes JSON into its .toml; sandozia and cognitive-reactor plain JSON and appends', async () => {
    const dir = await tempDir('ark-realistic-');
    await mkdir(join(dir, 'state/chronalia'), { recursive: true });
    await writeFile(join(dir, 'cognitive.json'), '{"active": true, "mode": "production"}\n');
    const run = async (service: string, files: Record<string, string>) => {
      const s = createRealisticService({ service, traits: traitsFor(service, undefined), files, cycleMs: 0 });
      await s.start();
      await s.cycle();
      await s.cycle();
    };
    await run('reflexia', { state: join(dir, 'reflexia_state.toml') });
    expect(JSON.parse(await readFile(join(dir, 'reflexia_state.toml'), 'utf8'))).toMatchObject({
      standin: { sequence: 2 },
    });
    await run('cognitive-reactor', {
      json: join(dir, 'cognitive.json'),
      jsonl: join(dir, 'state/chronalia/mind_timeline.jsonl'),
    });
    const cognitive = await readFile(join(dir, 'cognitive.json'), 'utf8');
    expect(JSON.parse(cognitive)).toMatchObject({ active: true, mode: 'production' });
    expect(jsonHeartbeat(cognitive)?.sequence).toBe(2);
    expect((await readFile(join(dir, 'state/chronalia/mind_timeline.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(
      2,
    );
    await run('assistantia', { log: join(dir, 'assistantia_chat.log') });
    expect(await readFile(join(dir, 'assistantia_chat.log'), 'utf8')).toMatch(/assistantia: conversation turn 2\n$/);
  });

  it('every service of the table has real ports and health paths; an unknown trait is refused', () => {
    expect(SERVICES.assistantia.health).toBe('/api/v1/health');
    expect(SERVICES['arkalia-api'].port).toBe(8000);
    expect(SERVICES['cognitive-reactor'].port).toBe(8003);
    expect([...traitsFor('zeroia', 'heartbeat,in-place-rewrite')]).toEqual(['heartbeat', 'in-place-rewrite']);
    expect(() => traitsFor('zeroia', 'atomic')).toThrow('unknown trait "atomic"');
  });
});
