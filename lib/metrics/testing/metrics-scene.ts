import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../testing.ts';
import { BACKUP_METRICS, type MetricsUpdate, updateMetricsFile } from '../index.ts';
import { type Exposition, parseExposition } from './exposition.ts';

// What the metrics tests share: a fixed moment, the backup families, a textfile folder, and
// writing then reading one textfile as a run would.

export const AT = new Date('2026-11-26T03:00:00Z');
export const T = AT.getTime() / 1000;
export const N = BACKUP_METRICS;
export const facts = (durationSeconds: number, at = AT) => ({ at, durationSeconds });

export async function metricsDir(): Promise<string> {
  return join(await tempDir('ark-metrics-'), 'textfile');
}

export async function write(file: string, update: MetricsUpdate, at = AT) {
  return updateMetricsFile({ file, update, now: () => at });
}

export async function read(file: string): Promise<Exposition> {
  return parseExposition(await readFile(file, 'utf8'));
}

export const fullSuccess = (bytes: { states: number; logs: number }) => ({
  manifest: {
    archives: [
      { name: 'states', size_bytes: bytes.states },
      { name: 'logs', size_bytes: bytes.logs },
    ],
  } as never,
  invalidStates: [],
});
