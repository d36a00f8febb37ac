import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { CiphertextError } from './crypto-errors.ts';

// A walk over the OpenPGP packet headers of an encrypted file (RFC 4880 §4.2), without any
// key: who it is addressed to, which data packet follows, and whether every declared length
// fits the file exactly. This is what can be verified of an encrypted file without a key,
// and it gives clearer errors (truncated at byte N, trailing junk) than a failing decrypt.

export const TAG = {
  pkesk: 1,
  signature: 2,
  skesk: 3,
  onePass: 4,
  secretKey: 5,
  publicKey: 6,
  secretSubkey: 7,
  compressed: 8,
  sed: 9,
  marker: 10,
  literal: 11,
  publicSubkey: 14,
  seipd: 18,
  aead: 20,
} as const;

export interface SessionKeyPacket {
  /** 16 upper-case hex digits; 0000000000000000 is a hidden ("wildcard") recipient. */
  keyId: string;
  /** OpenPGP public-key algorithm number (1 RSA, 16 Elgamal, 18 ECDH, 25 X25519...). */
  algorithm: number;
  version: number;
}

export interface EncryptedFileInfo {
  file: string;
  bytes: number;
  recipients: SessionKeyPacket[];
  /** Symmetric (password) session key packets, as `gpg -c` writes. */
  passwordPackets: number;
  /** The encrypted data packet: 18 = SEIPD (v1 CFB+MDC, v2 AEAD), 9 = legacy without integrity, 20 = AEAD draft. */
  data: { tag: number; version: number | null; bodyBytes: number; head: Buffer };
}

const ARMOR = Buffer.from('-----BEGIN PGP ');
const KEY_TAGS: ReadonlySet<number> = new Set([TAG.secretKey, TAG.publicKey, TAG.secretSubkey, TAG.publicSubkey]);

/** True when the file starts with an ASCII armor line rather than binary packets. */
export function isArmored(head: Buffer): boolean {
  return head.subarray(0, ARMOR.length).equals(ARMOR);
}

/** `name` labels messages (default: the file's base name). */
export async function inspectEncryptedFile(file: string, name = basename(file)): Promise<EncryptedFileInfo> {
  const handle = await open(file, 'r');
  try {
    return await walk(handle, file, name, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

async function walk(handle: FileHandle, file: string, name: string, size: number): Promise<EncryptedFileInfo> {
  const read = async (position: number, length: number): Promise<Buffer> => {
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
    if (buffer.length > 0) await handle.read(buffer, 0, buffer.length, position);
    return buffer;
  };
  const truncated = (what: string, at: number) =>
    new CiphertextError(
      'CIPHERTEXT_TRUNCATED',
      `${name} is truncated: ${what} runs past the end of the file (${size} bytes, needed ${at}). The copy is incomplete: take another copy.`,
    );
  if (size === 0) throw new CiphertextError('NOT_OPENPGP', `${name} is empty, not an OpenPGP file`);
  const first = await read(0, 32);
  if (isArmored(first))
    throw new CiphertextError(
      'NOT_OPENPGP',
      `${name} is ASCII-armored; the structure check reads binary OpenPGP files only`,
    );
  if ((first[0]! & 0x80) === 0)
    throw new CiphertextError('NOT_OPENPGP', `${name} is not an OpenPGP file (${describeBytes(first)})`);

  const recipients: SessionKeyPacket[] = [];
  let passwordPackets = 0;
  let position = 0;
  while (position < size) {
    const header = await read(position, 6);
    const b0 = header[0]!;
    if ((b0 & 0x80) === 0)
      throw new CiphertextError(
        'CIPHERTEXT_CORRUPT',
        `${name} is damaged: no OpenPGP packet starts at byte ${position}`,
      );
    const newFormat = (b0 & 0x40) !== 0;
    const tag = newFormat ? b0 & 0x3f : (b0 >> 2) & 0x0f;
    const field = newFormat ? lengthField(header, 1) : oldLength(header, size - position);
    const { length, partial } = field;
    const headerBytes = newFormat ? 1 + field.bytes : field.bytes;
    if (headerBytes > header.length)
      throw truncated(`the header of packet ${tag} at byte ${position}`, position + headerBytes);
    let bodyStart = position + headerBytes;
    if (data(tag)) {
      if (recipients.length === 0 && passwordPackets === 0) throw notEncrypted(name, tag);
      const head = await read(bodyStart, Math.min(length, 64));
      let bodyBytes = length;
      let end = bodyStart + length;
      let more = partial;
      while (more) {
        if (end > size) throw truncated('the encrypted data', end);
        const next = lengthField(await read(end, 5), 0);
        if (end + next.bytes > size) throw truncated('the encrypted data', end + next.bytes);
        end += next.bytes + next.length;
        bodyBytes += next.length;
        more = next.partial;
      }
      if (end > size) throw truncated('the encrypted data', end);
      if (end < size)
        throw new CiphertextError(
          'CIPHERTEXT_CORRUPT',
          `${name} is damaged: ${size - end} unexpected byte(s) after the encrypted data (at byte ${end})`,
        );
      return {
        file,
        bytes: size,
        recipients,
        passwordPackets,
        data: { tag, version: tag === TAG.sed ? null : (head[0] ?? null), bodyBytes, head },
      };
    }
    if (partial)
      throw new CiphertextError(
        'CIPHERTEXT_CORRUPT',
        `${name} is damaged: packet ${tag} at byte ${position} has a partial length`,
      );
    if (bodyStart + length > size) throw truncated(`packet ${tag} at byte ${position}`, bodyStart + length);
    if (tag === TAG.pkesk)
      recipients.push(sessionKeyPacket(await read(bodyStart, Math.min(length, 40)), name, position));
    else if (tag === TAG.skesk) passwordPackets += 1;
    else if (tag !== TAG.marker) throw notEncrypted(name, tag);
    bodyStart += length;
    position = bodyStart;
  }
  if (recipients.length > 0 || passwordPackets > 0)
    throw truncated('the message (it ends before its encrypted data)', size + 1);
  throw new CiphertextError('NOT_OPENPGP', `${name} holds no OpenPGP message`);
}

function data(tag: number): boolean {
  return tag === TAG.seipd || tag === TAG.sed || tag === TAG.aead;
}

/** A new-format length field at `at` (after the tag byte, or between partial body chunks). */
function lengthField(h: Buffer, at: number): { bytes: number; length: number; partial: boolean } {
  const o = h[at];
  if (o === undefined) return { bytes: 1, length: 0, partial: false };
  if (o < 192) return { bytes: 1, length: o, partial: false };
  if (o < 224) return { bytes: 2, length: h.length < at + 2 ? 0 : ((o - 192) << 8) + h[at + 1]! + 192, partial: false };
  if (o === 255) return { bytes: 5, length: h.length < at + 5 ? 0 : h.readUInt32BE(at + 1), partial: false };
  return { bytes: 1, length: 1 << (o & 0x1f), partial: true };
}

/** An old-format header's length (the length type sits in the tag byte). */
function oldLength(h: Buffer, remaining: number): { bytes: number; length: number; partial: boolean } {
  switch (h[0]! & 3) {
    case 0:
      return { bytes: 2, length: h[1] ?? 0, partial: false };
    case 1:
      return { bytes: 3, length: h.length < 3 ? 0 : h.readUInt16BE(1), partial: false };
    case 2:
      return { bytes: 5, length: h.length < 5 ? 0 : h.readUInt32BE(1), partial: false };
    default:
      return { bytes: 1, length: remaining - 1, partial: false }; // indeterminate: to the end of the file
  }
}

function sessionKeyPacket(body: Buffer, name: string, at: number): SessionKeyPacket {
  const version = body[0] ?? 0;
  if (version === 3 && body.length >= 10)
    return { version, keyId: body.subarray(1, 9).toString('hex').toUpperCase(), algorithm: body[9]! };
  if (version === 6) {
    // v6 PKESK: length, key version, fingerprint; the key ID is the fingerprint's first 8 bytes.
    const fingerprint = body.subarray(3, 2 + (body[1] ?? 0));
    return {
      version,
      keyId: fingerprint.subarray(0, 8).toString('hex').toUpperCase().padEnd(16, '0'),
      algorithm: body[2 + (body[1] ?? 0)] ?? 0,
    };
  }
  throw new CiphertextError(
    'CIPHERTEXT_CORRUPT',
    `${name} is damaged: unknown session key packet version ${version} at byte ${at}`,
  );
}

function notEncrypted(name: string, tag: number): CiphertextError {
  if (KEY_TAGS.has(tag))
    return new CiphertextError('NOT_ENCRYPTED', `${name} is an OpenPGP key, not an encrypted file`);
  return new CiphertextError(
    'NOT_ENCRYPTED',
    `${name} is an OpenPGP message that is not encrypted to a key (first packet: tag ${tag})`,
  );
}

function describeBytes(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'it is a gzip file: the unencrypted archive?';
  const text = head.toString('latin1');
  if (/^[\x20-\x7e\r\n\t]+$/.test(text)) return `it starts with text ${JSON.stringify(text.slice(0, 24))}`;
  return `first bytes ${head.subarray(0, 4).toString('hex')}`;
}
