import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, ProgressRenderer, type ProgressEvent } from './progress-renderer.ts';

const MiB = 1024 * 1024;

function fakeStream(isTTY: boolean, columns = 120) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (text: string) => writes.push(text), text: () => writes.join('') };
}

function event(bytes: number, elapsedMs: number, extra: Partial<ProgressEvent> = {}): ProgressEvent {
  return {
    kind: 'progress',
    task: 'archive:logs',
    label: 'arkalia_logs_20260101.tar.gz',
    bytes,
    totalBytes: 100 * MiB,
    files: 3,
    totalFiles: 6,
    bytesOut: bytes / 5,
    elapsedMs,
    done: false,
    ...extra,
  };
}

describe('formatProgress', () => {
  it('shows bytes of the total, files, rate and ETA, and the whole run when known', () => {
    const line = formatProgress(
      event(25 * MiB, 5000, { overall: { bytes: 50 * MiB, totalBytes: 200 * MiB, elapsedMs: 10_000 } }),
    );
    expect(line).toBe(
      'arkalia_logs_20260101.tar.gz 25.0 MiB / 100.0 MiB (25%), 3/6 files, 5.0 MiB/s, ETA 15 s | all 25%, ETA 30 s',
    );
    expect(formatProgress(event(1 * MiB, 100, { totalBytes: null, files: null }))).toBe(
      'arkalia_logs_20260101.tar.gz 1.0 MiB, 10.0 MiB/s',
    );
    expect(formatDuration(3725)).toBe('1 h 02 min');
    expect(formatDuration(75)).toBe('1 min 15 s');
  });
});

describe('ProgressRenderer', () => {
  it('on a terminal: one line redrawn in place, throttled, cleared for other lines and at the end', () => {
    let now = 0;
    const stream = fakeStream(true);
    const renderer = new ProgressRenderer({ stream, now: () => now, ttyIntervalMs: 100 });
    renderer.progress(event(10 * MiB, 1000));
    now = 50;
    renderer.progress(event(11 * MiB, 1050)); // within 100 ms: not drawn
    now = 150;
    renderer.progress(event(20 * MiB, 1150));
    expect(stream.writes).toHaveLength(2);
    expect(stream.writes.every((w) => w.startsWith('\r\x1b[2K') && !w.includes('\n'))).toBe(true);
    expect(stream.writes[1]).toContain('20.0 MiB / 100.0 MiB (20%)');
    renderer.line('✓ arkalia_states_20260101.tar.gz: 8.0 MiB');
    expect(stream.writes[2]).toBe(
      `\r\x1b[2K✓ arkalia_states_20260101.tar.gz: 8.0 MiB\n${stream.writes[1]!.slice('\r\x1b[2K'.length)}`,
    );
    renderer.progress(event(100 * MiB, 5000, { done: true }));
    expect(stream.writes.at(-1)).toBe('\r\x1b[2K');
    renderer.line('after');
    expect(stream.writes.at(-1)).toBe('after\n');
  });

  it('on a terminal: a task that starts within the interval of another one still shows at once', () => {
    let now = 0;
    const stream = fakeStream(true);
    const renderer = new ProgressRenderer({ stream, now: () => now, ttyIntervalMs: 100 });
    renderer.progress(event(10 * MiB, 1000));
    now = 10;
    renderer.progress(event(100 * MiB, 1010, { done: true }));
    now = 20; // a short task: its first event is all there may be before it is done
    renderer.progress(event(1 * MiB, 10, { task: 'archive:states', label: 'arkalia_states_20260101.tar.gz' }));
    now = 30;
    renderer.progress(event(2 * MiB, 20, { task: 'archive:states', label: 'arkalia_states_20260101.tar.gz' }));
    const drawn = stream.writes.filter((w) => w !== '\r\x1b[2K');
    expect(drawn).toHaveLength(2);
    expect(drawn[1]).toMatch(/^\r\x1b\[2Karkalia_states_20260101\.tar\.gz 1\.0 MiB/);
  });

  it('cuts the line to the terminal width; a terminal that reports 0 columns gets the whole line', () => {
    const stream = fakeStream(true, 40);
    new ProgressRenderer({ stream, now: () => 0 }).progress(event(10 * MiB, 1000));
    expect([...stream.writes[0]!.slice('\r\x1b[2K'.length)]).toHaveLength(39);
    const zero = fakeStream(true, 0);
    new ProgressRenderer({ stream: zero, now: () => 0 }).progress(event(10 * MiB, 1000));
    expect(zero.writes[0]).toBe(`\r\x1b[2K${formatProgress(event(10 * MiB, 1000))}`);
    const narrow = fakeStream(true, 12);
    new ProgressRenderer({ stream: narrow, now: () => 0 }).progress(event(10 * MiB, 1000));
    expect([...narrow.writes[0]!.slice('\r\x1b[2K'.length)]).toHaveLength(11);
  });

  it('elsewhere, by default: no progress at all (cron mail, CI logs), only the lines it is given', () => {
    const stream = fakeStream(false);
    const renderer = new ProgressRenderer({ stream, now: () => 0 });
    for (let i = 1; i <= 100; i += 1) renderer.progress(event(i * MiB, i * 100));
    renderer.line('✓ done');
    expect(stream.text()).toBe('✓ done\n');
  });

  it('elsewhere with -v: plain lines at each 10 % step or every 10 s, never a flood, no escape codes', () => {
    let now = 0;
    const stream = fakeStream(false);
    const renderer = new ProgressRenderer({ stream, now: () => now, plain: true });
    for (let i = 1; i <= 400; i += 1) {
      now = i * 25; // 400 events over 10 s, 0.25 % each
      renderer.progress(event((i / 4) * MiB, now));
    }
    const lines = stream.text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(10); // 10 %, 20 %, ... 100 %
    renderer.progress(event(100 * MiB, now, { done: true }));
    expect(stream.text().split('\n').filter(Boolean)).toHaveLength(10); // done: already shown
    expect(lines[0]).toMatch(/^… arkalia_logs_20260101\.tar\.gz 10\.0 MiB \/ 100\.0 MiB \(10%\)/);
    expect(stream.text()).not.toMatch(/\x1b|\r/);

    // No total: one line per 10 s.
    const plain = fakeStream(false);
    const untotalled = new ProgressRenderer({ stream: plain, now: () => now, plain: true });
    for (let i = 1; i <= 100; i += 1) {
      now += 1000;
      untotalled.progress(event(i * MiB, i * 1000, { totalBytes: null }));
    }
    untotalled.progress(event(100 * MiB, 100_000, { totalBytes: null, done: true }));
    expect(plain.text().split('\n').filter(Boolean)).toHaveLength(10);
  });

  it('elsewhere with -v: a task over before its first step still leaves one line, when done', () => {
    const stream = fakeStream(false);
    const renderer = new ProgressRenderer({ stream, now: () => 5, plain: true });
    renderer.progress(event(1 * MiB, 1));
    expect(stream.text()).toBe('');
    renderer.progress(event(100 * MiB, 200, { done: true }));
    expect(stream.text()).toMatch(/^… arkalia_logs_20260101\.tar\.gz 100\.0 MiB \/ 100\.0 MiB \(100%\)[^\n]*\n$/);
  });
});
