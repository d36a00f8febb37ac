import { describe, expect, it } from 'vitest';
import { drillEnv, scriptFailureLine } from './run-operator-script.ts';

describe('drillEnv', () => {
  it("keeps the operator's metrics file, offsite, keys and folders out of a drill's scripts", () => {
    const env = drillEnv({
      PATH: '/bin',
      ARK_METRICS_FILE: '/var/lib/node-exporter/ark.prom',
      ARK_OFFSITE: 's3://prod',
      ARK_BACKUP_DIR: '/backup',
      ARK_ROOT: '/srv',
      ARK_PASSPHRASE: 'x',
      ARK_S3_ENDPOINT: 'http://127.0.0.1:1',
    });
    expect(env).toEqual({ PATH: '/bin', ARK_S3_ENDPOINT: 'http://127.0.0.1:1' });
  });
});

describe('scriptFailureLine', () => {
  it("names why a script stopped: its --json error, else its last ✗ line, else a crash's error line, else stderr's last line", () => {
    const warning = '(Use `node --trace-warnings ...` to show where the warning was created)';
    const stderr = `▶ archiving states\n✗ cannot write arkalia_states_20261203.tar.gz (states): EACCES\n${warning}\n`;
    expect(
      scriptFailureLine({ json: { error: { code: 'ARCHIVE_FAILED', message: 'from the envelope' } }, stderr }),
    ).toBe('from the envelope');
    expect(scriptFailureLine({ json: null, stderr })).toBe(
      '✗ cannot write arkalia_states_20261203.tar.gz (states): EACCES',
    );
    expect(scriptFailureLine({ json: null, stderr: 'TypeError: x is undefined\n    at y (z.ts:1:1)\n' })).toBe(
      'TypeError: x is undefined',
    );
    expect(scriptFailureLine({ json: null, stderr: 'killed\n' })).toBe('killed');
    expect(scriptFailureLine({ json: null, stderr: '\n' })).toBeUndefined();
  });
});
