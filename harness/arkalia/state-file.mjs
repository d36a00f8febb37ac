// How the real Python modules judge a state file (`toml.load`): what the stand-ins use to
// decide that a state is corrupt (and, with `overwrite-corrupt`, to overwrite it).
import TOML from '@iarna/toml';

/** One line saying why `text` is not valid TOML, or null when it is. */
export function tomlProblem(text) {
  try {
    TOML.parse(text);
    return null;
  } catch (err) {
    const first = String(err?.message ?? err).split('\n')[0];
    return first.replace(/:$/, '');
  }
}
