import { backupDirName } from '../layout/index.ts';
import { backupSize } from './backup-size.ts';
import { dailyBackups, SIZE_CHANGE_LIMIT, SIZE_HISTORY, type ChecklistOptions, type Outcome } from './check-result.ts';

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Daily: the newest backup vs the median of up to 7 previous ones; > 50 % change either way is a warning (never a failure). */
export async function checkSizes(options: ChecklistOptions): Promise<Outcome> {
  const all = await dailyBackups(options);
  if (all.length === 0) return { status: 'skipped', detail: 'no backup to measure' };
  const [newest, ...history] = await Promise.all(all.slice(0, SIZE_HISTORY + 1).map(backupSize));
  const name = backupDirName(newest!.date);
  if (history.length === 0)
    return {
      status: 'ok',
      detail: `${name}: ${newest!.bytes} bytes; no earlier backup to compare with`,
      data: { newest },
    };
  const anomalies: string[] = [];
  const compare = (what: string, value: number, previous: number[]) => {
    if (previous.length === 0) return;
    const m = median(previous);
    const change = m === 0 ? (value === 0 ? 0 : Infinity) : (value - m) / m;
    if (Math.abs(change) > SIZE_CHANGE_LIMIT)
      anomalies.push(
        `${what} ${value} vs median ${m} (${Number.isFinite(change) ? `${change > 0 ? '+' : ''}${Math.round(change * 100)} %` : 'from 0'})`,
      );
  };
  compare(
    'total bytes',
    newest!.bytes,
    history.map((h) => h.bytes),
  );
  for (const [archive, members] of Object.entries(newest!.members))
    compare(
      `${archive} members`,
      members,
      history.flatMap((h) => (h.members[archive] === undefined ? [] : [h.members[archive]!])),
    );
  const data = { newest, compared_with: history.map((h) => h.date) };
  if (anomalies.length > 0)
    return {
      status: 'warning',
      detail: `${name} differs by more than 50 % from the median of ${history.length} previous backup(s) (a warning, not a failure): ${anomalies.join('; ')}`,
      data,
    };
  return {
    status: 'ok',
    detail: `${name}: ${newest!.bytes} bytes, within 50 % of the median of ${history.length} previous backup(s)`,
    data,
  };
}
