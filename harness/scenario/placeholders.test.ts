import { describe, expect, it } from 'vitest';
import { dateStamp, expandPlaceholders, placeholderProblem } from './placeholders.ts';

const values = { root: '/r', backup: '/b', work: '/w', now: new Date(2026, 2, 1, 0, 30) };

describe('scenario placeholders', () => {
  it('expands the drill folders and dates, with day offsets across months', () => {
    expect(expandPlaceholders('{work}/keys/{root}:{backup}', values)).toBe('/w/keys//r:/b');
    expect(expandPlaceholders('--date={date}', values)).toBe('--date=20260301');
    expect(expandPlaceholders('{date-1d} {date-40d} {date+1d}', values)).toBe('20260228 20260120 20260302');
    expect(dateStamp(new Date(2024, 11, 31, 23, 59), 1)).toBe('20250101');
  });

  it('takes values that faults provide, and says when one is missing', () => {
    expect(expandPlaceholders('{offsite_url}/x', { ...values, extra: { offsite_url: 'http://127.0.0.1:9' } })).toBe(
      'http://127.0.0.1:9/x',
    );
    expect(() => expandPlaceholders('{offsite_url}', values)).toThrow(/\{offsite_url\} has no value here/);
  });

  it('names unknown placeholders and offsets on anything but {date}', () => {
    expect(placeholderProblem('{work}/a {date-3d}')).toBeNull();
    expect(placeholderProblem('plain text, {not a placeholder}')).toBeNull();
    expect(placeholderProblem('{wrok}/keys')).toMatch(/unknown placeholder \{wrok\}/);
    expect(placeholderProblem('{root-1d}')).toMatch(/only \{date\} takes a day offset/);
  });
});
