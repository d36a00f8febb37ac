import { describe, expect, it } from 'vitest';
import { parseByteSize } from './fields.ts';

describe('chaos suite scenario language', () => {
  it('reads byte sizes', () => {
    expect([parseByteSize('4096'), parseByteSize('16KiB'), parseByteSize('2MiB')]).toEqual([
      4096,
      16384,
      2 * 1024 * 1024,
    ]);
  });
});
