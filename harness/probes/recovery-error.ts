import { z } from 'zod';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/**
 * The recovery script stopped on this error: its --json envelope's `error.code`, and its
 * message matches `message` (a regular expression). What an operator reads is part of the
 * drill: a refused recovery must say why in words.
 */
const schema = z.strictObject({
  probe: z.literal('recovery-error'),
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  message: z
    .string()
    .min(1)
    .refine(
      (text) => {
        try {
          new RegExp(text);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a valid regular expression' },
    ),
});

export const recoveryErrorProbe = defineProbe({
  probe: 'recovery-error',
  schema,
  needsStack: false,
  describe: (probe) => `recovery-error ${probe.code} /${probe.message}/`,
  run: async (probe, ctx) => recoveryError({ code: probe.code, message: probe.message }, ctx),
});

export function recoveryError(input: { code: string; message: string }, ctx: ProbeContext): ProbeResult {
  const probe = `recovery-error ${input.code} /${input.message}/`;
  const error = ctx.recoveryError;
  if (!error) return { probe, ok: false, detail: 'the recovery script stopped on no error (or printed no --json)' };
  const message = String(error.message ?? '');
  const ok = error.code === input.code && new RegExp(input.message).test(message);
  return { probe, ok, detail: `${String(error.code)}: ${message.slice(0, 600)}` };
}
