import { describe, expect, it } from 'vitest';
import { demuxDockerLogs } from './demux-docker-logs.ts';

/** A frame as the Docker engine writes it for a container without a TTY. */
function frame(stream: 1 | 2, payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('demuxDockerLogs', () => {
  it('joins stdout and stderr frames in order, dropping the 8-byte headers', () => {
    const raw = Buffer.concat([
      frame(1, 'zeroia: loading state\n'),
      frame(2, 'WARN slow disk\n'),
      frame(1, 'zeroia: healthy\n'),
    ]);
    expect(demuxDockerLogs(raw)).toBe('zeroia: loading state\nWARN slow disk\nzeroia: healthy\n');
  });

  it('keeps a UTF-8 character that the engine split across two frames', () => {
    const text = Buffer.from('état restauré ✅\n');
    const cut = text.indexOf(Buffer.from('✅')) + 1; // inside the 3-byte character
    expect(demuxDockerLogs(Buffer.concat([frame(1, text.subarray(0, cut)), frame(1, text.subarray(cut))]))).toBe(
      'état restauré ✅\n',
    );
  });

  it('handles frames of 256 bytes and more (the length is a 32-bit big-endian field)', () => {
    const long = `${'x'.repeat(70_000)}\n`;
    expect(demuxDockerLogs(Buffer.concat([frame(1, long), frame(2, 'end\n')]))).toBe(`${long}end\n`);
  });

  it('returns a TTY container’s raw text, short or empty logs as they are', () => {
    expect(demuxDockerLogs(Buffer.from('plain tty output\nsecond line\n'))).toBe('plain tty output\nsecond line\n');
    expect(demuxDockerLogs(Buffer.from('ok\n'))).toBe('ok\n');
    expect(demuxDockerLogs(Buffer.alloc(0))).toBe('');
  });

  it('keeps what follows the frames as text instead of reading a garbage length', () => {
    expect(demuxDockerLogs(Buffer.concat([frame(1, 'framed\n'), Buffer.from('not a frame header at all\n')]))).toBe(
      'framed\nnot a frame header at all\n',
    );
  });
});
