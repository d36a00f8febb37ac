import TOML from '@iarna/toml';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_MARKER, readHeartbeat, stripHeartbeat, withHeartbeat } from './heartbeat.mjs';

// modules/zeroia/state/zeroia_state.toml of the Arkalia fixture.
const FIXTURE = `timestamp = "2025-06-26 09:55:01"

[decision]
last_decision = "reduce_load"
confidence_score = 0.75
justification = "cpu=72.1, severity=warning"
timestamp = "2025-06-26T09:55:01.017133"
`;
const beat = (sequence: number) => ({ service: 'zeroia', sequence, writtenAt: '2026-01-02T03:04:05.000Z' });

describe('heartbeat block', () => {
  it('appends a block that keeps the file valid TOML and is read back', () => {
    const text = withHeartbeat(FIXTURE, beat(7));
    expect(text.startsWith(FIXTURE)).toBe(true);
    expect(text).toContain(`\n${HEARTBEAT_MARKER}\n[standin]\n`);
    const doc = TOML.parse(text) as { standin: Record<string, unknown>; decision: Record<string, unknown> };
    expect(doc.standin).toEqual({ service: 'zeroia', sequence: 7, written_at: '2026-01-02T03:04:05.000Z' });
    expect(doc.decision.last_decision).toBe('reduce_load');
    expect(readHeartbeat(text)).toEqual({ sequence: 7, writtenAt: '2026-01-02T03:04:05.000Z' });
  });

  it('gives back the exact original bytes, with or without a final newline', () => {
    for (const original of [FIXTURE, FIXTURE.trimEnd(), '', 'a = 1']) {
      expect(stripHeartbeat(withHeartbeat(original, beat(1)))).toBe(original);
    }
  });

  it('replaces the block instead of stacking a second one', () => {
    const twice = withHeartbeat(withHeartbeat(FIXTURE, beat(1)), beat(2));
    expect(twice.split(HEARTBEAT_MARKER)).toHaveLength(2);
    expect(readHeartbeat(twice)?.sequence).toBe(2);
    expect(() => TOML.parse(twice)).not.toThrow();
  });

  it('reads no heartbeat from a file the stand-in never wrote', () => {
    expect(readHeartbeat(FIXTURE)).toBeNull();
    expect(stripHeartbeat(FIXTURE)).toBe(FIXTURE);
  });

  it('ignores the marker text when it is not a line of its own', () => {
    const text = `note = "${HEARTBEAT_MARKER}"\n`;
    expect(stripHeartbeat(text)).toBe(text);
  });
});
