import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { prefixLines, runSideBySide } from './side-by-side.ts';

describe('prefixLines', () => {
  it('writes whole lines only, each after the prefix, and keeps the unfinished rest', () => {
    const out: string[] = [];
    const write = (t: string) => out.push(t);
    let pending = prefixLines('', 'one\ntw', 'a │ ', write);
    expect(pending).toBe('tw');
    pending = prefixLines(pending, 'o\nthree\n', 'a │ ', write);
    expect(pending).toBe('');
    expect(prefixLines('', 'no newline yet', 'a │ ', write)).toBe('no newline yet');
    expect(out.join('')).toBe('a │ one\na │ two\na │ three\n');
  });
});

describe('runSideBySide', () => {
  it('runs the jobs at once, every line named by its job and never cut by the other, and returns each exit code', async () => {
    const dir = await tempDir();
    const out: string[] = [];
    // Each job writes half a line, then waits for the other's marker file (it exits 9 after
    // 20 s without it: run one after the other, the first would), then ends its line.
    const job = (name: string, code: number, me: string, other: string) => ({
      name,
      command: process.execPath,
      args: [
        '-e',
        `const fs=require('fs');process.stdout.write('${me} half');fs.writeFileSync(${JSON.stringify(join(dir, me))},'');
         const t0=Date.now();const wait=()=>{if(fs.existsSync(${JSON.stringify(join(dir, other))})){process.stdout.write(' whole\\n${me} last');process.stderr.write('${me} err\\n');process.exit(${code})}
         if(Date.now()-t0>20000)process.exit(9);setTimeout(wait,20)};wait();`,
      ],
    });
    const results = await runSideBySide([job('a', 0, 'A', 'B'), job('bb', 3, 'B', 'A')], (t) => out.push(t));
    expect(results.map((r) => [r.name, r.code])).toEqual([
      ['a', 0],
      ['bb', 3],
    ]);
    const lines = out.join('').split('\n').filter(Boolean).sort();
    expect(lines).toEqual([
      'a  │ A err',
      'a  │ A half whole',
      'a  │ A last',
      'bb │ B err',
      'bb │ B half whole',
      'bb │ B last',
    ]);
  });

  it('a command that cannot start is exit 127, said on its own line', async () => {
    const out: string[] = [];
    const [result] = await runSideBySide([{ name: 'x', command: '/nonexistent/vitest', args: [] }], (t) => out.push(t));
    expect(result!.code).toBe(127);
    expect(out.join('')).toMatch(/^x │ ✗ could not start \/nonexistent\/vitest: .*ENOENT/);
  });
});
