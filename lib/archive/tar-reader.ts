import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Header, type Parser } from 'tar';

// The fast lane of extraction: a tar reader for the plain members every Arkalia archive is
// made of — a file or a folder with a ustar header whose fields are all clean — that hands
// each file's bytes over as slices of the chunks it was given, with no stream per member.
// node-tar's parser makes a stream, a header object and several events per member: for 17k
// small state files, ~1 s of a full recovery here. Whatever is not plain (a pax or GNU
// header, a link, a device, a bad checksum, a base-256 number, an odd field) is never
// interpreted here: from that header on, node-tar's own strict parser reads the rest of the
// stream, so an archive means exactly what node-tar says it means (differential test:
// tar-reader.test.ts). Before that header, only plain members were read, and node-tar
// would have read them the same way: each field is accepted only in a form where its
// decoding cannot differ (`plainHeader`).

const BLOCK = 512;

export interface PlainEntry {
  /** As node-tar gives it: the ustar prefix joined to the name, no normalisation. */
  path: string;
  type: 'File' | 'Directory';
  /** 0 for a folder, whatever its header says (as node-tar). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** How one member's bytes are taken: gathered whole (`whole`), or streamed (`data`, then `end`). */
export type BodyTaker =
  | { whole: (chunks: Buffer[], bytes: number) => void | Promise<void> }
  | { data: (chunk: Buffer) => void | Promise<void>; end: () => void | Promise<void> };

export interface TarReaderHooks {
  /** A plain member's header was read; null skips its bytes. May throw: the reader fails with it. */
  entry: (entry: PlainEntry) => BodyTaker | null | Promise<BodyTaker | null>;
  /** A header that is not plain: the parser that reads the rest of the archive from it. */
  handOff: () => Parser;
  /** Awaited before each chunk handed to that parser (the caller's backpressure). */
  beforeHandOffChunk?: () => Promise<void> | null;
  /** Hand every header to node-tar, from the first (tests compare the two lanes). */
  handOffAtOnce?: boolean;
}

/**
 * A writable that reads a plain tar stream (decompressed already) as node-tar's strict
 * parser would: two zero blocks end it (anything after is ignored), a member cut short is
 * "Truncated input", an archive without a member is "Unrecognized archive format".
 */
export function tarReader(hooks: TarReaderHooks): TarReader {
  // Stops a wait for node-tar's 'drain' once the reader is destroyed (the pipeline failed).
  const destroyed = new AbortController();
  let busy: Promise<void> = Promise.resolve();
  let parser: Parser | null = null;
  let parserError: unknown = null;
  let partial: Buffer | null = null; // a header split over two chunks
  let partialLength = 0;
  let sawNull = false;
  let sawEof = false;
  let sawEntry = false;
  // The member whose bytes are being read.
  let taker: BodyTaker | null = null;
  let remain = 0; // data bytes still to come
  let padding = 0; // zero bytes after them, to the block's end
  let gathered: Buffer[] = [];
  let size = 0;

  const feed = async (chunk: Buffer) => {
    const held = hooks.beforeHandOffChunk?.();
    if (held) await held;
    if (parserError !== null) throw parserError;
    if (!parser!.write(chunk)) await waitFor(parser!, 'drain', destroyed.signal);
    if (parserError !== null) throw parserError;
  };

  const startParser = () => {
    parser = hooks.handOff();
    parser.on('error', (error: unknown) => {
      parserError ??= error;
    });
  };
  const handOff = async (header: Buffer, rest: Buffer) => {
    startParser();
    await feed(header);
    if (rest.length > 0) await feed(rest);
  };

  const finishMember = async () => {
    const done = taker;
    const chunks = gathered;
    taker = null;
    gathered = [];
    sawEntry = true;
    if (done === null) return;
    if ('whole' in done) await done.whole(chunks, size);
    else await done.end();
  };

  const consume = async (chunk: Buffer) => {
    if (parser === null && hooks.handOffAtOnce) startParser();
    if (parser !== null) return feed(chunk);
    let at = 0;
    while (at < chunk.length && !sawEof) {
      if (remain > 0) {
        const n = Math.min(remain, chunk.length - at);
        const data = chunk.subarray(at, at + n);
        at += n;
        remain -= n;
        if (taker !== null) {
          if ('whole' in taker) gathered.push(data);
          else await taker.data(data);
        }
        if (remain === 0) await finishMember();
        continue;
      }
      if (padding > 0) {
        const n = Math.min(padding, chunk.length - at);
        at += n;
        padding -= n;
        continue;
      }
      let header: Buffer;
      if (partialLength === 0 && chunk.length - at >= BLOCK) {
        header = chunk.subarray(at, at + BLOCK);
        at += BLOCK;
      } else {
        partial ??= Buffer.alloc(BLOCK);
        const n = Math.min(BLOCK - partialLength, chunk.length - at);
        chunk.copy(partial, partialLength, at, at + n);
        partialLength += n;
        at += n;
        if (partialLength < BLOCK) return;
        header = partial;
        partial = null;
        partialLength = 0;
      }
      const entry = plainHeader(header);
      if (entry === 'null') {
        if (sawNull) sawEof = true;
        sawNull = true;
        continue;
      }
      sawNull = false;
      if (entry === null) return handOff(header, chunk.subarray(at));
      taker = await hooks.entry(entry);
      size = entry.size;
      remain = entry.size;
      padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
      if (remain === 0) await finishMember();
    }
  };

  const finish = async () => {
    if (parser === null && hooks.handOffAtOnce) startParser();
    if (parser !== null) {
      if (parserError !== null) throw parserError;
      const ended = waitFor(parser, 'end');
      parser.end();
      await ended;
      if (parserError !== null) throw parserError;
      return;
    }
    if (remain > 0 || padding > 0)
      throw new Error(`TAR_BAD_ARCHIVE: Truncated input (needed ${remain + padding} more bytes, only 0 available)`);
    if (!sawEntry) throw new Error('TAR_BAD_ARCHIVE: Unrecognized archive format');
  };

  const track = (work: Promise<void>, callback: (error?: Error | null) => void) => {
    busy = work.then(
      () => callback(),
      (error: Error) => callback(error),
    );
  };
  const reader = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      track(consume(chunk), callback);
    },
    final(callback) {
      track(finish(), callback);
    },
    destroy(error, callback) {
      destroyed.abort(error ?? new Error('the archive stream was closed'));
      callback(error);
    },
  }) as TarReader;
  reader.settled = () => busy;
  return reader;
}

export interface TarReader extends Writable {
  /**
   * Resolves once the chunk being read is done with (its member written or failed): a
   * pipeline rejects as soon as a stage fails, maybe while a write is still going on.
   */
  settled: () => Promise<void>;
}

/** Resolves on `event`, rejects on the parser's error (node-tar's strict mode emits one for any fault). */
function waitFor(parser: Parser, event: 'drain' | 'end', signal?: AbortSignal): Promise<void> {
  return once(parser as unknown as NodeJS.EventEmitter, event, signal ? { signal } : {}).then(() => undefined);
}

/**
 * The member a header describes when it is plain, 'null' for a zero block (as node-tar
 * tells one: no checksum, nothing else), or null when node-tar must read it. Plain means: a
 * file ('0' or NUL) or folder ('5') type; a checksum that matches; no link name; a name and
 * prefix of printable characters (valid UTF-8) followed by NULs only; mode, ids, size and
 * time in octal digits with spaces or NULs around them (no base-256, no sign, nothing else).
 */
export function plainHeader(block: Buffer): PlainEntry | 'null' | null {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i += 1) sum += block[i]!;
  for (let i = 156; i < BLOCK; i += 1) sum += block[i]!;
  const checksum = octal(block, 148, 8, true);
  // Zeros outside the checksum field: a zero block, if node-tar's Header finds no checksum
  // there. Rare (the archive's end), so its own code decides; if it throws, it must read it.
  if (sum === 8 * 0x20) {
    try {
      return new Header(block).nullBlock ? 'null' : null;
    } catch {
      return null;
    }
  }
  if (checksum === null || checksum !== sum) return null;
  const flag = block[156];
  if (flag !== 0x30 && flag !== 0x00 && flag !== 0x35) return null;
  for (let i = 157; i < 257; i += 1) if (block[i] !== 0) return null; // a link name
  let path = text(block, 0, 100);
  if (path === null) return null;
  if (isUstar(block)) {
    const prefix = text(block, 345, block[475] !== 0 ? 155 : 130);
    if (prefix === null) return null;
    if (prefix !== '') path = `${prefix}/${path}`;
  }
  if (path === '') return null;
  const mode = octal(block, 100, 8);
  const uid = octal(block, 108, 8);
  const gid = octal(block, 116, 8);
  const size = octal(block, 124, 12);
  const mtime = octal(block, 136, 12);
  if (mode === null || uid === null || gid === null || size === null || mtime === null) return null;
  const folder = flag === 0x35 || path.endsWith('/');
  return {
    path,
    type: folder ? 'Directory' : 'File',
    size: folder ? 0 : size,
    mode: mode & 0o7777,
    uid,
    gid,
    mtime: new Date(mtime * 1000),
  };
}

function isUstar(block: Buffer): boolean {
  // "ustar\0" "00", exactly as node-tar compares it; GNU's "ustar  \0" has no prefix field.
  return (
    block[257] === 0x75 &&
    block[258] === 0x73 &&
    block[259] === 0x74 &&
    block[260] === 0x61 &&
    block[261] === 0x72 &&
    block[262] === 0x00 &&
    block[263] === 0x30 &&
    block[264] === 0x30
  );
}

/**
 * A numeric field written plainly — spaces, octal digits, then spaces or NULs to its end —
 * or null. node-tar reads the checksum over 12 bytes (into the type and link name): it must
 * end within its own 8 for the two readings to agree (`ended`).
 */
function octal(block: Buffer, at: number, length: number, ended = false): number | null {
  let i = at;
  const end = at + length;
  while (i < end && block[i] === 0x20) i += 1;
  let value = 0;
  const first = i;
  for (; i < end; i += 1) {
    const c = block[i]!;
    if (c < 0x30 || c > 0x37) break;
    value = value * 8 + (c - 0x30);
  }
  if (i === first || (ended && i === end)) return null;
  for (; i < end; i += 1) if (block[i] !== 0x20 && block[i] !== 0x00) return null;
  return value;
}

/** A name field: printable characters up to the first NUL (or the end), only NULs after; null otherwise. */
function text(block: Buffer, at: number, length: number): string | null {
  const end = at + length;
  let i = at;
  let ascii = true;
  for (; i < end; i += 1) {
    const c = block[i]!;
    if (c === 0) break;
    if (c < 0x20 || c === 0x7f) return null;
    if (c > 0x7f) ascii = false;
  }
  for (let j = i; j < end; j += 1) if (block[j] !== 0) return null;
  const value = block.toString(ascii ? 'latin1' : 'utf8', at, i);
  return !ascii && value.includes('\uFFFD') ? null : value;
}
