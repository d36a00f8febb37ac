// The packer's tar header for the common member — an ASCII name under 100 bytes, numbers that
// fit ustar's octal fields — written straight into a block, byte for byte what node-tar's
// Header writes for it (ustar-header.test.ts compares the two). node-tar builds an object and
// checks every field for pax on each call: ~15 µs a header, a quarter of packing 17k state
// files. Anything else (a long or non-ASCII name, a link, a huge size) returns null and goes
// to node-tar, pax header and all.

const BLOCK = 512;
const MAX_8 = 0o7777777;
const MAX_12 = 0o77777777777;
const TYPES = { File: 0x30, Directory: 0x35 } as const;

/** A block with ustar's fixed parts: the magic and version ("ustar\0" "00"), device 0,0; zeros elsewhere. */
const TEMPLATE = (() => {
  const block = Buffer.alloc(BLOCK);
  block.write('ustar\u000000', 257, 8, 'latin1');
  // Device major and minor, 0: node-tar writes them for every member.
  block.write('000000 ', 329, 7, 'latin1');
  block.write('000000 ', 337, 7, 'latin1');
  return block;
})();

/** The checksum of the template's bytes, with the checksum field counted as spaces. */
const TEMPLATE_SUM = (() => {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i += 1) if (i < 148 || i >= 156) sum += TEMPLATE[i];
  return sum;
})();

/**
 * The 512-byte ustar header node-tar would write for this member, or null when the member
 * needs more than a plain ustar header (then node-tar, with a pax header, must write it).
 */
export function ustarHeader(
  path: string,
  mode: number,
  uid: number,
  gid: number,
  size: number,
  mtime: Date,
  type: keyof typeof TYPES,
): Buffer | null {
  const seconds = mtime.getTime() / 1000;
  if (path.length >= 100 || !isAscii(path)) return null;
  if (!(uid >= 0 && uid <= MAX_8 && gid >= 0 && gid <= MAX_8 && mode >= 0 && mode <= MAX_8)) return null;
  if (!(size >= 0 && size <= MAX_12 && seconds >= 0 && seconds <= MAX_12)) return null;
  const block = Buffer.from(TEMPLATE);
  let sum = TEMPLATE_SUM;
  sum += writeAscii(block, 0, path);
  sum += writeOctal(block, 100, 8, mode);
  sum += writeOctal(block, 108, 8, uid);
  sum += writeOctal(block, 116, 8, gid);
  sum += writeOctal(block, 124, 12, size);
  sum += writeOctal(block, 136, 12, seconds);
  block[156] = TYPES[type];
  sum += TYPES[type];
  writeOctal(block, 148, 8, sum);
  return block;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Writes text at `at`; returns the sum of its bytes. */
function writeAscii(block: Buffer, at: number, text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    block[at + i] = code;
    sum += code;
  }
  return sum;
}

/**
 * node-tar's octal field: `size - 1` digits and a NUL when the number needs them all, else
 * zero-padded to `size - 2` digits, a space and a NUL. Returns the sum of the bytes written.
 */
function writeOctal(block: Buffer, at: number, size: number, value: number): number {
  const digits = Math.floor(value).toString(8);
  const field = digits.length === size - 1 ? digits : `${digits.padStart(size - 2, '0')} `;
  return writeAscii(block, at, field); // the NUL after it is already in the block
}
