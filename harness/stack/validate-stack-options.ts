import type { StackOptions } from './types.ts';

/** Rejects a stack that could only half start: checked before any container exists. */
export function validateStackOptions(opts: StackOptions): void {
  const problems: string[] = [];
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(opts.runId)) {
    problems.push(`runId "${opts.runId}" is not a valid Docker name part`);
  }
  const names = new Set(opts.services.map((s) => s.name));
  if (names.size !== opts.services.length) problems.push('two services share a name');
  const ordered = opts.order.flat();
  for (const name of ordered) if (!names.has(name)) problems.push(`order names unknown service ${name}`);
  for (const name of names) {
    const times = ordered.filter((n) => n === name).length;
    if (times !== 1) problems.push(`service ${name} appears ${times} times in order (expected once)`);
  }
  for (const spec of opts.services) {
    for (const peer of spec.peers ?? []) if (!names.has(peer)) problems.push(`${spec.name} has unknown peer ${peer}`);
    if (spec.stateFile.startsWith('/') || spec.stateFile.split('/').includes('..')) {
      problems.push(`${spec.name}: stateFile must be relative to the root, inside it`);
    }
  }
  if (problems.length > 0) throw new Error(`Invalid Arkalia stack options: ${problems.join('; ')}`);
}
