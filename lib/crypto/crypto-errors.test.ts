// Every way decryption or a key can go wrong gives the typed error and exit code an operator
// needs (exit 2: fix the command; exit 3: the file is damaged), and leaves nothing behind.
import { copyFile, mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import {
  decryptFile,
  encryptFile,
  inspectEncryptedFile,
  readPrivateKeys,
  readRecipientKey,
  readSigningKey,
  verifyEncryptedFile,
  type RecipientKey,
  type UnlockedKey,
} from './index.ts';
import { flipByte, ourKeyPair, payloadFile } from './testing.ts';

const PASS = 'passphrase of A';
let work: string;
let a: Awaited<ReturnType<typeof ourKeyPair>>;
let b: Awaited<ReturnType<typeof ourKeyPair>>;
let recipientA: RecipientKey;
let keysA: UnlockedKey[];
let keysB: UnlockedKey[];
let source: string;
let sourceSha: string;
let good: string;

beforeAll(async () => {
  work = await tempDir('ark-crypto-errors-');
  a = await ourKeyPair(work, 'a', { passphrase: PASS });
  b = await ourKeyPair(work, 'b');
  recipientA = await readRecipientKey(a.publicFile);
  keysA = await readPrivateKeys(a.secretFile, { passphrases: [PASS] });
  keysB = await readPrivateKeys(b.secretFile);
  source = join(work, 'archive.tar.gz');
  sourceSha = await payloadFile(source, 700_000);
  good = join(work, 'archive.tar.gz.gpg');
  await encryptFile({ source, target: good, recipients: [recipientA] });
});

/** A fresh, empty folder to decrypt into: after a failure it must still be empty. */
async function emptyDir(): Promise<string> {
  const dir = join(await tempDir('ark-out-'), 'out');
  await mkdir(dir);
  return dir;
}

async function damaged(name: string, damage: (file: string) => Promise<void>): Promise<string> {
  const file = join(work, name);
  await copyFile(good, file);
  await damage(file);
  return file;
}

describe('decryptFile: failures are typed and leave nothing behind', { timeout: 30_000 }, () => {
  it('decrypts the good file (the baseline the failures below differ from)', async () => {
    const dir = await emptyDir();
    const result = await decryptFile({
      source: good,
      target: join(dir, 'archive.tar.gz'),
      keys: keysA,
      expectedSha256: sourceSha,
    });
    expect(result).toMatchObject({
      sha256: sourceSha,
      bytes: 700_000,
      keyId: recipientA.encryptionKeyId,
      compressed: false,
    });
    expect(await readdir(dir)).toEqual(['archive.tar.gz']);
  });

  it('wrong key: names the key IDs the file is encrypted to and the key given (exit 2)', async () => {
    const dir = await emptyDir();
    const attempt = decryptFile({ source: good, target: join(dir, 'x'), keys: keysB });
    await expect(attempt).rejects.toMatchObject({ code: 'WRONG_KEY', exitCode: 2 });
    await expect(attempt).rejects.toThrow(
      new RegExp(`encrypted to key IDs ${recipientA.encryptionKeyId}; the key given is ${b.info.fingerprint}`),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('missing key: no private key given (exit 2)', async () => {
    const dir = await emptyDir();
    await expect(decryptFile({ source: good, target: join(dir, 'x'), keys: [] })).rejects.toMatchObject({
      code: 'WRONG_KEY',
      exitCode: 2,
      message: expect.stringMatching(/no private key was given/),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  const cases: { name: string; damage: (file: string) => Promise<void>; code: string }[] = [
    {
      name: 'truncated to half',
      damage: async (f) => truncate(f, Math.floor((await readFile(f)).length / 2)),
      code: 'CIPHERTEXT_TRUNCATED',
    },
    {
      name: 'last byte missing',
      damage: async (f) => truncate(f, (await readFile(f)).length - 1),
      code: 'CIPHERTEXT_TRUNCATED',
    },
    { name: 'cut inside the key packet', damage: async (f) => truncate(f, 40), code: 'CIPHERTEXT_TRUNCATED' },
    { name: 'a flipped bit in the encrypted data', damage: (f) => flipByte(f, f, 350_000), code: 'CIPHERTEXT_CORRUPT' },
    { name: 'a flipped bit in the MDC', damage: (f) => flipByte(f, f, -3), code: 'CIPHERTEXT_CORRUPT' },
    { name: 'a flipped bit in the session key packet', damage: (f) => flipByte(f, f, 40), code: 'CIPHERTEXT_CORRUPT' },
    {
      name: 'trailing garbage',
      damage: async (f) => writeFile(f, Buffer.concat([await readFile(f), Buffer.from('junk')])),
      code: 'CIPHERTEXT_CORRUPT',
    },
    {
      name: 'the unencrypted archive',
      damage: (f) => writeFile(f, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])),
      code: 'NOT_OPENPGP',
    },
    { name: 'a text file', damage: (f) => writeFile(f, 'hello, not pgp\n'), code: 'NOT_OPENPGP' },
    { name: 'an empty file', damage: (f) => writeFile(f, ''), code: 'NOT_OPENPGP' },
    {
      name: 'a key instead of a message',
      damage: async (f) =>
        writeFile(f, (await openpgp.readKey({ armoredKey: await readFile(a.publicFile, 'utf8') })).write()),
      code: 'NOT_ENCRYPTED',
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}, exit 3, no plaintext file`, async () => {
      const file = await damaged(`${c.name.replace(/\W+/g, '-')}.gpg`, c.damage);
      const dir = await emptyDir();
      await expect(
        decryptFile({ source: file, target: join(dir, 'archive.tar.gz'), keys: keysA }),
      ).rejects.toMatchObject({ code: c.code, exitCode: 3 });
      expect(await readdir(dir)).toEqual([]);
    });
  }

  it('an armored message that is cut short → truncated/corrupt, exit 3', async () => {
    const armored = join(work, 'cut.asc');
    const full = openpgp.armor(openpgp.enums.armor.message, new Uint8Array(await readFile(good)));
    await writeFile(armored, full.slice(0, Math.floor(full.length / 2)));
    const dir = await emptyDir();
    await expect(decryptFile({ source: armored, target: join(dir, 'x'), keys: keysA })).rejects.toMatchObject({
      exitCode: 3,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('plaintext that is not the expected archive → PLAINTEXT_MISMATCH, exit 3, nothing published', async () => {
    const dir = await emptyDir();
    await expect(
      decryptFile({ source: good, target: join(dir, 'x'), keys: keysA, expectedSha256: '0'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'PLAINTEXT_MISMATCH', exitCode: 3 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('never overwrites an existing target unless asked', async () => {
    const dir = await emptyDir();
    await writeFile(join(dir, 'x'), 'keep me');
    await expect(decryptFile({ source: good, target: join(dir, 'x'), keys: keysA })).rejects.toMatchObject({
      code: 'USAGE',
      exitCode: 2,
    });
    expect(await readFile(join(dir, 'x'), 'utf8')).toBe('keep me');
    await decryptFile({ source: good, target: join(dir, 'x'), keys: keysA, replace: true, expectedSha256: sourceSha });
    expect(await readdir(dir)).toEqual(['x']);
  });
});

describe('key files: the wrong kind of key is a clear usage error (exit 2)', { timeout: 30_000 }, () => {
  it('wrong passphrase, missing passphrase', async () => {
    await expect(readPrivateKeys(a.secretFile, { passphrases: ['not it'] })).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
      exitCode: 2,
      message: expect.stringContaining(a.info.fingerprint),
    });
    await expect(readPrivateKeys(a.secretFile)).rejects.toMatchObject({
      code: 'PASSPHRASE_REQUIRED',
      exitCode: 2,
      message: expect.stringMatching(/--passphrase-file FILE or set ARK_PASSPHRASE/),
    });
    // A passphrase given for a key that has none is harmless.
    expect(await readPrivateKeys(b.secretFile, { passphrases: ['whatever'] })).toHaveLength(1);
  });

  it('a public key where a private key is needed, and a private key where a recipient is expected', async () => {
    await expect(readPrivateKeys(a.publicFile)).rejects.toMatchObject({
      code: 'PUBLIC_KEY_GIVEN',
      exitCode: 2,
      message: expect.stringMatching(/is a PUBLIC key .*needs the private key/),
    });
    await expect(readSigningKey(a.publicFile)).rejects.toMatchObject({
      code: 'PUBLIC_KEY_GIVEN',
      exitCode: 2,
      message: expect.stringMatching(/signing needs the private key/),
    });
    await expect(readRecipientKey(a.secretFile)).rejects.toMatchObject({
      code: 'PRIVATE_KEY_AS_RECIPIENT',
      exitCode: 2,
      message: expect.stringMatching(/is a PRIVATE key .*takes the public key/),
    });
  });

  it('unreadable, not a key, several keys, a v6 key GnuPG 2.2 cannot use', async () => {
    await expect(readRecipientKey(join(work, 'missing.asc'))).rejects.toMatchObject({
      code: 'KEY_UNREADABLE',
      exitCode: 2,
      message: expect.stringMatching(/missing\.asc: ENOENT/),
    });
    await expect(readRecipientKey(good)).rejects.toMatchObject({ code: 'NOT_A_KEY', exitCode: 2 });
    await writeFile(join(work, 'text.asc'), 'not a key\n');
    await expect(readPrivateKeys(join(work, 'text.asc'))).rejects.toMatchObject({ code: 'NOT_A_KEY', exitCode: 2 });
    await writeFile(
      join(work, 'both.asc'),
      `${await readFile(a.publicFile, 'utf8')}\n${await readFile(b.publicFile, 'utf8')}`,
    );
    await expect(readRecipientKey(join(work, 'both.asc'))).rejects.toMatchObject({
      code: 'MULTIPLE_KEYS',
      exitCode: 2,
    });
    const v6 = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ email: 'v6@system.local' }],
      format: 'armored',
      config: { v6Keys: true },
    });
    await writeFile(join(work, 'v6.asc'), v6.publicKey);
    await expect(readRecipientKey(join(work, 'v6.asc'))).rejects.toMatchObject({
      code: 'KEY_INCOMPATIBLE',
      exitCode: 2,
      message: expect.stringMatching(/version 6 key; GnuPG 2\.2 cannot/),
    });
    const rfc9580 = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ email: 'x25519@system.local' }],
      format: 'armored',
    });
    await writeFile(join(work, 'x25519.asc'), rfc9580.publicKey);
    await expect(readRecipientKey(join(work, 'x25519.asc'))).rejects.toMatchObject({
      code: 'KEY_INCOMPATIBLE',
      exitCode: 2,
      message: expect.stringMatching(/x25519, which GnuPG 2\.2 cannot decrypt/),
    });
  });
});

describe('encryptFile and verification: nothing is published unless it verified', { timeout: 30_000 }, () => {
  it('a source that is not the verified archive: no .gpg, no temp file, an older .gpg untouched', async () => {
    const dir = await emptyDir();
    const target = join(dir, 'archive.tar.gz.gpg');
    await expect(
      encryptFile({ source, target, recipients: [recipientA], expectedSha256: 'f'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'PLAINTEXT_MISMATCH', exitCode: 3 });
    expect(await readdir(dir)).toEqual([]);
    await copyFile(good, target);
    await expect(
      encryptFile({ source, target, recipients: [recipientA], expectedSha256: 'f'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'PLAINTEXT_MISMATCH' });
    expect((await readFile(target)).equals(await readFile(good))).toBe(true);
    expect(await readdir(dir)).toEqual(['archive.tar.gz.gpg']);
  });

  it('a file not addressed to exactly the requested recipients fails verification and is not published', async () => {
    const dir = await emptyDir();
    // Fault injection: the verifier expects another subkey than the one openpgp.js encrypts to.
    const skewed: RecipientKey = { ...recipientA, encryptionKeyId: 'DEADBEEFDEADBEEF' };
    await expect(encryptFile({ source, target: join(dir, 'x.gpg'), recipients: [skewed] })).rejects.toMatchObject({
      code: 'RECIPIENTS_MISMATCH',
      exitCode: 3,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('verification levels: full with a private key, session-key when encrypting, structure with nothing; structure catches truncation and wrong recipients', async () => {
    const full = await verifyEncryptedFile({
      file: good,
      recipients: [recipientA],
      decryptionKeys: keysA,
      expectedSha256: sourceSha,
      expectedPlaintextBytes: 700_000,
    });
    expect(full).toMatchObject({ level: 'full', sha256: sourceSha, keyId: recipientA.encryptionKeyId });
    const structure = await verifyEncryptedFile({
      file: good,
      recipients: [recipientA],
      expectedPlaintextBytes: 700_000,
    });
    expect(structure).toMatchObject({ level: 'structure', sha256: null, encryptedTo: [recipientA.encryptionKeyId] });
    await expect(
      verifyEncryptedFile({ file: good, recipients: [await readRecipientKey(b.publicFile)] }),
    ).rejects.toMatchObject({ code: 'RECIPIENTS_MISMATCH', exitCode: 3 });
    await expect(verifyEncryptedFile({ file: good, expectedPlaintextBytes: 600_000 })).rejects.toMatchObject({
      code: 'CIPHERTEXT_CORRUPT',
      message: expect.stringMatching(/cannot hold the 600000-byte archive/),
    });
    const cut = await damaged('cut-for-structure.gpg', async (f) => truncate(f, 500_000));
    await expect(verifyEncryptedFile({ file: cut })).rejects.toMatchObject({
      code: 'CIPHERTEXT_TRUNCATED',
      exitCode: 3,
    });
    const info = await inspectEncryptedFile(good);
    expect(info).toMatchObject({
      recipients: [{ keyId: recipientA.encryptionKeyId, algorithm: 18, version: 3 }],
      passwordPackets: 0,
      data: { tag: 18, version: 1 },
    });
  });
});
