/**
 * Docker multiplexes stdout/stderr of non-TTY containers in frames: 1 byte stream type,
 * 3 zero bytes, 4 bytes big-endian length, payload. A TTY container's logs are raw text.
 * Payloads are joined before decoding, so a UTF-8 character split across frames survives;
 * anything from the first byte that is not a frame header on is kept as raw text.
 */
export function demuxDockerLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (!isFrameHeader(buffer, offset)) {
      parts.push(buffer.subarray(offset));
      break;
    }
    const length = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}

function isFrameHeader(buffer: Buffer, at: number): boolean {
  return (
    at + 8 <= buffer.length && buffer[at]! <= 2 && buffer[at + 1] === 0 && buffer[at + 2] === 0 && buffer[at + 3] === 0
  );
}
