/** A service of the stack did not become healthy; the stack has been removed. */
export class StackStartError extends Error {
  override name = 'StackStartError';
  readonly service: string;
  readonly container: string;
  readonly logTail: string;

  constructor(service: string, container: string, why: string, logTail: string, cause?: unknown) {
    const logs = logTail.trim() === '' ? '(no output)' : logTail.trimEnd().replace(/^/gm, '  ');
    const what = `Arkalia service ${service} (container ${container})`;
    super(`${what} did not start: ${why}.\nIts last log lines:\n${logs}`, { cause });
    this.service = service;
    this.container = container;
    this.logTail = logTail;
  }
}
