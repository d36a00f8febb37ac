// The heartbeat is the only part of a state file the stand-in owns: a trailing block
// after a marker line. Everything before the marker belongs to Arkalia and must survive
// byte for byte, so drills can compare a restored file with its backup.

export const HEARTBEAT_MARKER = '# --- arkalia-dr stand-in heartbeat (rewritten by the service) ---';

// The block starts with its own newline so that stripping it gives back the exact
// original bytes, whether or not the original ended with a newline.
const BLOCK_START = `\n${HEARTBEAT_MARKER}\n`;

function blockStart(text) {
  if (text.startsWith(BLOCK_START.slice(1))) return 0;
  return text.indexOf(BLOCK_START);
}

/** The file without the heartbeat block (from the marker to EOF), else unchanged. */
export function stripHeartbeat(text) {
  const at = blockStart(text);
  return at === -1 ? text : text.slice(0, at);
}

/** The heartbeat a file carries, or null when it has none. */
export function readHeartbeat(text) {
  const at = blockStart(text);
  if (at === -1) return null;
  const block = text.slice(at);
  const sequence = /^sequence = (\d+)$/m.exec(block);
  const writtenAt = /^written_at = "([^"]*)"$/m.exec(block);
  return {
    sequence: sequence ? Number(sequence[1]) : 0,
    writtenAt: writtenAt ? writtenAt[1] : null,
  };
}

/** Replaces any heartbeat block of `text` with a fresh one. */
export function withHeartbeat(text, { service, sequence, writtenAt }) {
  return (
    stripHeartbeat(text) +
    BLOCK_START +
    '[standin]\n' +
    `service = ${JSON.stringify(service)}\n` +
    `sequence = ${sequence}\n` +
    `written_at = ${JSON.stringify(writtenAt)}\n`
  );
}
