import { describe, expect, it } from 'vitest';
import { KeyedDebouncer, type Timers } from './debouncer.ts';

/** Timers driven by hand: advance(ms) runs what falls due, in order. */
function manualTimers() {
  let now = 0;
  let next = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      due.set(++next, { at: now + ms, fn });
      return next;
    },
    clearTimeout: (h) => void due.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const [id, t] = [...due].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0] ?? [];
        if (id === undefined || !t) break;
        due.delete(id);
        now = t.at;
        t.fn();
      }
      now = end;
    },
  };
}

describe('KeyedDebouncer', () => {
  it('fires once per key, waitMs after the last touch', () => {
    const clock = manualTimers();
    const fired: string[] = [];
    const d = new KeyedDebouncer<string>({
      waitMs: 100,
      maxWaitMs: 10_000,
      fire: (k) => fired.push(`${k}@${clock.now()}`),
      timers: clock.timers,
      now: clock.now,
    });
    for (let i = 0; i < 5; i++) {
      d.touch('a');
      clock.advance(50);
    }
    expect(fired).toEqual([]); // t=250, the last touch of 'a' was at 200
    d.touch('b');
    clock.advance(49);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['a@300']);
    clock.advance(50);
    expect(fired).toEqual(['a@300', 'b@350']);
    expect(d.size).toBe(0);
  });

  it('fires at maxWaitMs after the first touch when the key never settles', () => {
    const clock = manualTimers();
    const fired: number[] = [];
    const d = new KeyedDebouncer<string>({
      waitMs: 100,
      maxWaitMs: 250,
      fire: () => fired.push(clock.now()),
      timers: clock.timers,
      now: clock.now,
    });
    for (let i = 0; i < 12; i++) {
      d.touch('a'); // every 60 ms: would never settle with a plain debounce
      clock.advance(60);
    }
    // Touches every 60 ms from 0 to 660: capped at 0+250, then (burst from 300) at 300+250;
    // the third burst (from 600) is still pending at 720.
    expect(fired).toEqual([250, 550]);
    expect(d.size).toBe(1);
  });

  it('flush cancels the timers and returns the waiting keys in order', () => {
    const clock = manualTimers();
    const fired: string[] = [];
    const d = new KeyedDebouncer<string>({
      waitMs: 100,
      maxWaitMs: 1000,
      fire: (k) => fired.push(k),
      timers: clock.timers,
      now: clock.now,
    });
    d.touch('b');
    d.touch('a');
    d.touch('b');
    expect(d.flush()).toEqual(['b', 'a']);
    clock.advance(1000);
    expect(fired).toEqual([]);
  });
});
