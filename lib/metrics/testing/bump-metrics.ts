// Test helper, run as a subprocess: merge `count` updates into a metrics file, one at a time,
// as a script finishing would (one failure and one observed duration each).
//   node --import tsx bump-metrics.ts <metrics-file> <count> <type>
import { toArkError } from '../../errors.ts';
import { MetricsUpdate } from '../metrics-update.ts';
import { updateMetricsFile } from '../update-metrics-file.ts';

const [file, count, type] = process.argv.slice(2) as [string, string, string];
try {
  for (let i = 0; i < Number(count); i += 1) {
    const update = new MetricsUpdate()
      .inc('failures', { type, reason: 'lock_held' })
      .observe('duration', { type }, 0.2 * (i + 1))
      .set('size', { type }, i);
    await updateMetricsFile({ file, update });
  }
} catch (thrown) {
  process.stderr.write(`ERROR ${toArkError(thrown).message}\n`);
  process.exitCode = 1;
}
