import { UsageError } from '../errors.ts';

/** A module name as Arkalia's folders use them: the only thing ever joined into modules/<m>/state/. */
export const MODULE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** UsageError (exit 2) for anything else: "..", "/", spaces, shell syntax, flags, uppercase, empty, over 64 characters. */
export function assertModuleName(module: string): void {
  if (!MODULE_NAME.test(module)) {
    throw new UsageError(
      `module must be a plain identifier such as "zeroia" (lowercase letters, digits, _), got ${JSON.stringify(module.length > 80 ? `${module.slice(0, 80)}…` : module)}`,
    );
  }
}
