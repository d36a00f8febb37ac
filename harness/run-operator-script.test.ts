import { describe, expect, it } from 'vitest';
import { drillEnv } from './run-operator-script.ts';

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
