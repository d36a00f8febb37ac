// ISO-8601 durations (PT30S, PT6H, P7D) to milliseconds. Months and years use 30 and 365
// days: good enough for retention windows and objectives, and stated here so nobody guesses.

const pattern = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseDuration(iso: string): number {
  const m = pattern.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) throw new RangeError(`not an ISO-8601 duration: ${JSON.stringify(iso)}`);
  const [, y, mo, w, d, h, mi, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  const days = y * 365 + mo * 30 + w * 7 + d;
  return Math.round(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000);
}
