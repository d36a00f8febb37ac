#!/usr/bin/env -S npx tsx
// Verify signed drill evidence: evidence.json against evidence.json.asc.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EXIT, NotFoundError, UsageError } from '../lib/errors.ts';
import { verifyDetached } from '../lib/crypto/index.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: verify-evidence.mts <evidence-dir> [--key FILE] [--fingerprint FPR] [--json]

Checks the detached OpenPGP signature evidence.json.asc over evidence.json in <evidence-dir>
(as written by npm run drill in reports/evidence/<run-id>/). The signature is checked with
--key FILE (a public key you trust) or, without it, with signer.pub.asc beside the evidence;
that proves the file was not changed after signing, but only --key or --fingerprint (the
fingerprint you expect the signer to have) proves who signed it.
Equivalent with GnuPG: gpg --import signer.pub.asc && gpg --verify evidence.json.asc evidence.json

Exit codes: 0 valid, 1 files missing, 2 usage, 3 signature invalid or signer not the expected one.`;

await runScript(
  {
    help: HELP,
    options: { key: { type: 'string' }, fingerprint: { type: 'string' } },
    positionals: true,
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, positionals }) => {
    const [dirArg, ...extra] = positionals;
    if (!dirArg || extra.length > 0) throw new UsageError('give exactly one evidence folder (see --help)');
    const dir = resolve(dirArg);
    const read = (path: string, what: string) =>
      readFile(path).catch((error: NodeJS.ErrnoException) => {
        throw new NotFoundError('EVIDENCE_MISSING', `${what} ${path} cannot be read (${error.code ?? error})`);
      });
    const json = await read(join(dir, 'evidence.json'), 'evidence');
    const signature = (await read(join(dir, 'evidence.json.asc'), 'signature')).toString('utf8');
    const keyFile = values.key ? resolve(values.key) : join(dir, 'signer.pub.asc');
    const key = (await read(keyFile, 'public key')).toString('utf8');
    const result = await verifyDetached(json, signature, key);
    const expected = values.fingerprint?.replace(/\s/g, '').toUpperCase();
    const signerOk = result.ok && (expected === undefined || result.fingerprint === expected);
    const summary = !result.ok
      ? `✗ signature INVALID: ${result.reason}`
      : signerOk
        ? `✓ signature valid: evidence.json is unchanged since it was signed by ${result.fingerprint}${values.key || expected ? '' : ' (key taken from the evidence folder: pass --key or --fingerprint to check who signed)'}`
        : `✗ signature valid, but the signer ${result.fingerprint} is not the expected ${expected}`;
    return {
      exitCode: signerOk ? EXIT.ok : EXIT.integrity,
      summary,
      result: {
        dir,
        valid: result.ok,
        signer: result.fingerprint,
        expected_signer: expected ?? null,
        reason: result.reason,
      },
    };
  },
);
