/**
 * Docker multiplexes stdout/stderr of non-TTY containers in frames: 1 byte stream type,
 * 3 zero bytes, 4 bytes big-endian length, payload. A TTY container's logs are raw text.
 */
export function demuxDockerLogs(buffer: Buffer): string {
  const looksFramed = buffer.length >= 8 && [0, 1, 2].includes(buffer[0]!) && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!looksFramed) return buffer.toString('utf8');
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}
