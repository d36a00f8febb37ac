import { Transform, type TransformCallback } from 'node:stream';

// Counts what a tar stream holds as it flows through, without copying it: members as
// `tar -t` lists them (metadata headers such as pax 'x'/'g' and GNU 'L'/'K' are not members),
// regular files, and bytes. Works on any producer's output (node-tar, GNU tar), so the
// manifest's member count and the progress events do not depend on which one wrote it.

const BLOCK = 512;
const META_TYPES = new Set(['x', 'g', 'L', 'K']);
const FILE_TYPES = new Set(['0', '\0', '7']);

export class TarStreamCounter extends Transform {
  bytes = 0;
  members = 0;
  files = 0;
  readonly #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  /** Data + padding still to pass before the next header. */
  #skip = 0;
  /** Collecting a pax 'x' header's records (its `size=` overrides the next header's). */
  #pax: Buffer[] | null = null;
  #paxLeft = 0;
  #paxSize: number | null = null;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - at);
        if (this.#pax !== null && this.#paxLeft > 0) {
          const take = Math.min(n, this.#paxLeft);
          this.#pax.push(chunk.subarray(at, at + take));
          this.#paxLeft -= take;
          if (this.#paxLeft === 0) this.#paxSize = paxSize(Buffer.concat(this.#pax));
        }
        this.#skip -= n;
        at += n;
        if (this.#skip === 0 && this.#pax !== null) this.#pax = null;
        continue;
      }
      const n = Math.min(BLOCK - this.#headerFill, chunk.length - at);
      chunk.copy(this.#header, this.#headerFill, at, at + n);
      this.#headerFill += n;
      at += n;
      if (this.#headerFill === BLOCK) {
        this.#headerFill = 0;
        this.#onHeader();
      }
    }
    callback(null, chunk);
  }

  #onHeader(): void {
    const h = this.#header;
    if (h.every((b) => b === 0)) return; // end-of-archive blocks
    const type = String.fromCharCode(h[156]!);
    let size = numeric(h.subarray(124, 136));
    if (META_TYPES.has(type)) {
      if (type === 'x' && size <= 1024 * 1024) {
        this.#pax = [];
        this.#paxLeft = size;
      }
    } else {
      if (this.#paxSize !== null) size = this.#paxSize;
      this.#paxSize = null;
      this.members += 1;
      if (FILE_TYPES.has(type)) this.files += 1;
      // Links, folders, devices and FIFOs carry no data whatever their size field says.
      if (!FILE_TYPES.has(type) && type !== 'S') size = 0;
    }
    this.#skip = Math.ceil(size / BLOCK) * BLOCK;
    if (this.#skip === 0) this.#pax = null;
  }
}

/** An octal field, or GNU's base-256 (high bit set) for values octal cannot hold. */
function numeric(field: Buffer): number {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i += 1) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function paxSize(records: Buffer): number | null {
  const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(records.toString('utf8'));
  return m ? Number(m[1]) : null;
}
