import { describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { COMMON_HELP, parseOptions } from './parse-options.ts';

function usage(argv: string[], allowPositionals: boolean): { message: string; exitCode: number } {
  try {
    parseOptions(argv, { date: { type: 'string' } }, allowPositionals);
  } catch (error) {
    return error as { message: string; exitCode: number };
  }
  throw new Error('no usage error');
}

/** Every quote and bracket in a message is closed. */
function balanced(text: string): boolean {
  return (text.match(/'/g) ?? []).length % 2 === 0 && (text.match(/"/g) ?? []).length % 2 === 0;
}

describe('parseOptions', () => {
  it('says an unknown option in one plain sentence, quotes balanced, exit 2 — with or without positionals', () => {
    const withPositionals = usage(['--force'], true);
    expect(withPositionals).toMatchObject({ exitCode: EXIT.usage });
    expect(withPositionals.message).toBe(
      `Unknown option '--force'; an argument that starts with "-" goes after "--", as in: -- --force (see --help)`,
    );
    expect(balanced(withPositionals.message)).toBe(true);
    expect(usage(['--force'], false).message).toBe(`Unknown option '--force' (see --help)`);
    expect(usage(['--date'], false).message).toBe(`Option '--date <value>' argument missing (see --help)`);
    expect(balanced(usage(['zeroia'], false).message)).toBe(true);
  });

  it('lists every exit code in the common help, 4 for a lock held by another run', () => {
    for (const code of Object.values(EXIT)) expect(COMMON_HELP).toMatch(new RegExp(`^  ${code}  \\S`, 'm'));
    expect(COMMON_HELP).toMatch(/^ {2}4 {2}another run holds the backup folder's lock/m);
  });
});
