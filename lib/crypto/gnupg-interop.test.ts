// GnuPG 2.2 and we read each other's files and keys, byte for byte: what we encrypt, gpg
// decrypts (and verifies our signature); a key pair GnuPG made is a recipient for us, and its
// exported secret key (passphrase-protected or not) decrypts with our lib.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { tempDir } from '../testing.ts';
import { decryptFile, encryptFile, readPrivateKeys, readRecipientKey, readSigningKey } from './index.ts';
import { gnupgHome, ourKeyPair, payloadFile, type GnupgHome } from './testing.ts';

const PASS = 'correct horse battery staple';
let work: string;
let gpgHome: GnupgHome;
let source: string;
let sourceBytes: Buffer;

beforeAll(async () => {
  work = await tempDir('ark-interop-');
  gpgHome = await gnupgHome();
  source = join(work, 'arkalia_states_20261126.tar.gz');
  await payloadFile(source, 1_500_000);
  sourceBytes = await readFile(source);
});

afterAll(async () => {
  await gpgHome?.close();
});

describe('GnuPG 2.2 interoperability', { timeout: 60_000 }, () => {
  it('gpg decrypts what we encrypt byte-identical (SEIPDv1, AES-256, no compression) and verifies our signature', async () => {
    const dir = join(work, 'ours');
    const key = await ourKeyPair(dir, 'backup', { passphrase: PASS });
    const target = join(dir, 'a.tar.gz.gpg');
    const signer = await readSigningKey(key.secretFile, { passphrases: [PASS] });
    const encrypted = await encryptFile({
      source,
      target,
      recipients: [await readRecipientKey(key.publicFile)],
      signingKey: signer,
    });
    expect(encrypted.verification.level).toBe('full'); // the signing key is also the recipient
    expect(encrypted.signedBy).toBe(key.info.fingerprint);

    await gpgHome.gpgOk(['--import', key.secretFile], { passphrase: PASS });
    const out = join(dir, 'by-gpg.tar.gz');
    const result = await gpgHome.gpgOk(['--status-fd', '2', '--output', out, '--decrypt', target], {
      passphrase: PASS,
    });
    expect((await readFile(out)).equals(sourceBytes)).toBe(true);
    // mdc_method 2 (SEIPDv1 + MDC), cipher 9 (AES-256), no AEAD; signature good, by our key.
    expect(result.stderr).toMatch(/\[GNUPG:\] DECRYPTION_INFO 2 9( 0)?\n/);
    expect(result.stderr).toContain(`[GNUPG:] VALIDSIG ${key.info.fingerprint}`);
    expect(result.stderr).toMatch(/\[GNUPG:\] GOODSIG /);
    expect(result.stderr).toContain('[GNUPG:] DECRYPTION_OKAY');
    const packets = (await gpgHome.gpgOk(['--list-packets', target], { passphrase: PASS })).stdout.toString();
    expect(packets).toMatch(/:pubkey enc packet: version 3, algo 18/);
    expect(packets).toMatch(/:encrypted data packet:[\s\S]*mdc_method: 2/);
    expect(packets).toContain(':literal data packet:');
    expect(packets).toContain('name="arkalia_states_20261126.tar.gz"');
    expect(packets).not.toContain('compressed packet');
  });

  it('a GnuPG-made ed25519/cv25519 key pair works: its public key as recipient, its exported secret key (with or without passphrase) decrypts with our lib', async () => {
    const dir = join(work, 'gpg-made');
    await mkdir(dir);
    const protectedFpr = await gpgHome.generate('GPG protected <gpg-protected@system.local>', PASS);
    const plainFpr = await gpgHome.generate('GPG plain <gpg-plain@system.local>', '');
    const files: Record<string, { pub: string; sec: string; passphrase: string }> = {};
    for (const [fpr, passphrase] of [
      [protectedFpr, PASS],
      [plainFpr, ''],
    ] as const) {
      const pub = join(dir, `${fpr}.pub.asc`);
      const sec = join(dir, `${fpr}.sec.asc`);
      await writeFile(pub, (await gpgHome.gpgOk(['--armor', '--export', fpr])).stdout);
      await writeFile(sec, (await gpgHome.gpgOk(['--armor', '--export-secret-keys', fpr], { passphrase })).stdout);
      files[fpr] = { pub, sec, passphrase };
    }
    // gpg's own export of a protected key stays protected: without the passphrase it is refused.
    await expect(readPrivateKeys(files[protectedFpr]!.sec)).rejects.toMatchObject({
      code: 'PASSPHRASE_REQUIRED',
      exitCode: 2,
    });

    for (const fpr of [protectedFpr, plainFpr]) {
      const { pub, sec, passphrase } = files[fpr]!;
      const recipient = await readRecipientKey(pub);
      expect(recipient.info).toMatchObject({ fingerprint: fpr, algorithm: 'ed25519/cv25519', version: 4 });
      const keys = await readPrivateKeys(sec, { passphrases: passphrase ? [passphrase] : [] });

      // We encrypt to GnuPG's key: gpg and our lib both get the archive back.
      const ours = join(dir, `ours-${fpr}.gpg`);
      await encryptFile({ source, target: ours, recipients: [recipient] });
      const out = join(dir, `gpg-out-${fpr}`);
      await gpgHome.gpgOk(['--output', out, '--decrypt', ours], { passphrase });
      expect((await readFile(out)).equals(sourceBytes)).toBe(true);
      const back = await decryptFile({ source: ours, target: join(dir, `lib-out-${fpr}`), keys });
      expect((await readFile(back.file)).equals(sourceBytes)).toBe(true);

      // GnuPG encrypts (uncompressed, as recovery expects): our lib decrypts with gpg's exported key.
      const theirs = join(dir, `theirs-${fpr}.gpg`);
      await gpgHome.gpgOk([
        '--trust-model',
        'always',
        '--compress-algo',
        'none',
        '--recipient',
        fpr,
        '--output',
        theirs,
        '--encrypt',
        source,
      ]);
      const sink = recordingSink();
      const result = await decryptFile({ source: theirs, target: join(dir, `theirs-out-${fpr}`), keys, sink });
      expect((await readFile(result.file)).equals(sourceBytes)).toBe(true);
      expect(result.compressed).toBe(false);
      expect(sink.events).toEqual([]);
    }
  });

  it('a copy gpg compressed (its default for its own keys) or armored still decrypts; a compressed one is flagged', async () => {
    const dir = join(work, 'gpg-compressed');
    await mkdir(dir);
    const fpr = await gpgHome.generate('GPG compress <gpg-compress@system.local>', '');
    const sec = join(dir, 'sec.asc');
    await writeFile(sec, (await gpgHome.gpgOk(['--armor', '--export-secret-keys', fpr])).stdout);
    const keys = await readPrivateKeys(sec);
    // gpg sniffs the first bytes and does not compress what looks compressed already: a gzip,
    // bzip2 or zip magic, or an OpenPGP compressed-packet header (random bytes start with one
    // about once in a few thousand runs). A fixed text start makes its choice deterministic.
    const plain = join(dir, 'plain.bin');
    const plainBytes = Buffer.concat([Buffer.from('arkalia-dr interop payload\n'), sourceBytes]);
    await writeFile(plain, plainBytes);
    const compressed = join(dir, 'compressed.gpg');
    await gpgHome.gpgOk(['--trust-model', 'always', '--recipient', fpr, '--output', compressed, '--encrypt', plain]);
    expect((await gpgHome.gpgOk(['--list-packets', compressed])).stdout.toString()).toContain(':compressed packet:');
    const sink = recordingSink();
    const result = await decryptFile({ source: compressed, target: join(dir, 'out-compressed'), keys, sink });
    expect((await readFile(result.file)).equals(plainBytes)).toBe(true);
    expect(result.compressed).toBe(true);
    expect(sink.events).toEqual([
      expect.objectContaining({
        kind: 'warning',
        code: 'OPENPGP_COMPRESSED',
        message: expect.stringMatching(/--compress-algo none/),
      }),
    ]);

    const armored = join(dir, 'armored.asc');
    await gpgHome.gpgOk([
      '--trust-model',
      'always',
      '--armor',
      '--compress-algo',
      'none',
      '--recipient',
      fpr,
      '--output',
      armored,
      '--encrypt',
      source,
    ]);
    const fromArmor = await decryptFile({ source: armored, target: join(dir, 'out-armored'), keys });
    expect((await readFile(fromArmor.file)).equals(sourceBytes)).toBe(true);
  });

  it('two recipients: each one alone decrypts, with our lib and with gpg', async () => {
    const dir = join(work, 'two');
    const a = await ourKeyPair(dir, 'a', { passphrase: PASS });
    const b = await ourKeyPair(dir, 'b');
    const target = join(dir, 'two.gpg');
    const encrypted = await encryptFile({
      source,
      target,
      recipients: [await readRecipientKey(a.publicFile), await readRecipientKey(b.publicFile)],
    });
    expect(encrypted.verification.encryptedTo).toHaveLength(2);
    const outA = await decryptFile({
      source: target,
      target: join(dir, 'out-a'),
      keys: await readPrivateKeys(a.secretFile, { passphrases: [PASS] }),
    });
    const outB = await decryptFile({
      source: target,
      target: join(dir, 'out-b'),
      keys: await readPrivateKeys(b.secretFile),
    });
    expect(outA.keyId).not.toBe(outB.keyId);
    for (const out of [outA, outB]) expect((await readFile(out.file)).equals(sourceBytes)).toBe(true);
    // Each in its own GnuPG home, holding only that one secret key.
    for (const [key, passphrase] of [
      [a, PASS],
      [b, ''],
    ] as const) {
      const home = await gnupgHome();
      try {
        await home.gpgOk(['--import', key.secretFile], { passphrase });
        const out = join(dir, `gpg-${key.info.fingerprint}`);
        await home.gpgOk(['--output', out, '--decrypt', target], { passphrase });
        expect((await readFile(out)).equals(sourceBytes)).toBe(true);
      } finally {
        await home.close();
      }
    }
  });
});
