// Placeholders in scenario strings (script args, probe and fault paths), so that a scenario
// can name the drill's own folders and dates without knowing them:
//   {root}  the drill's Arkalia root        {backup}  its backup folder (--backup-dir)
//   {work}  its workspace (keys, {work}/offsite: a local offsite target, created empty)
//   {date}  today, YYYYMMDD (local time, as full-backup names backups)   {date-40d}, {date+1d}
//   {offsite_url}  the endpoint a flaky-offsite or offsite-unreachable fault put up
// A name not in this list is rejected when the scenario is loaded, before anything runs.

const PLACEHOLDER = /\{([a-z_]+)([-+]\d+d)?\}/g;
const NAMES = new Set(['root', 'backup', 'work', 'date', 'offsite_url']);

export interface PlaceholderValues {
  root: string;
  backup: string;
  work: string;
  now: Date;
  /** Values that faults provide once injected ({offsite_url}). */
  extra?: Readonly<Record<string, string>>;
}

/** Why `text` holds an unknown placeholder, or null. Pure; used by the scenario schema. */
export function placeholderProblem(text: string): string | null {
  for (const m of text.matchAll(PLACEHOLDER)) {
    const [whole, name, offset] = m;
    if (!NAMES.has(name!))
      return `unknown placeholder ${whole} (known: {root}, {backup}, {work}, {date}, {date-Nd}, {offsite_url})`;
    if (offset !== undefined && name !== 'date') return `only {date} takes a day offset (${whole})`;
  }
  return null;
}

/** `text` with every placeholder replaced. Throws for a value nobody provided yet. */
export function expandPlaceholders(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string, offset: string | undefined) => {
    if (name === 'date') return dateStamp(values.now, offset === undefined ? 0 : Number(offset.slice(0, -1)));
    const value = name === 'root' || name === 'backup' || name === 'work' ? values[name] : values.extra?.[name];
    if (value === undefined)
      throw new Error(
        `placeholder ${whole} has no value here (is the fault that provides it injected before this step?)`,
      );
    return value;
  });
}

/** YYYYMMDD in local time, `days` from `now` (like `date -d '-40 days' +%Y%m%d`). */
export function dateStamp(now: Date, days = 0): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, 12);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`;
}
