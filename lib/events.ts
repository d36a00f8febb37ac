// Typed events that pipelines emit to a sink passed in. Scripts render them for people
// (stderr) or collect them for --json; the harness turns them into Allure steps.

export type ArkEvent =
  | { kind: 'step'; step: string; message: string }
  | { kind: 'info'; message: string }
  | { kind: 'warning'; code: string; message: string; path?: string }
  | { kind: 'invalid-state'; path: string; reason: string }
  | { kind: 'dataset-skipped'; archive: string; path: string; reason: string }
  | { kind: 'archive-written'; archive: string; file: string; bytes: number; members: number; sha256: string }
  | { kind: 'backup-published'; dir: string; date: string }
  | { kind: 'backup-selected'; dir: string; date: string; source: string }
  | { kind: 'checksum-verified'; file: string; sha256: string }
  | { kind: 'entry-refused'; entry: string; reason: string }
  | { kind: 'state-preserved'; from: string; to: string }
  | { kind: 'file-restored'; path: string; sha256: string; previousSha256: string | null }
  | { kind: 'service'; service: string; container: string; action: 'stop' | 'start' | 'healthy' | 'skip' | 'absent'; message: string }
  | { kind: 'service-logs'; service: string; lines: string }
  | { kind: 'dry-run'; message: string };

export type EventKind = ArkEvent['kind'];
export type EventSink = (event: ArkEvent) => void;

/** A sink that drops everything: the default where a caller does not care. */
export const silentSink: EventSink = () => {};

/** A sink that records events in order, for tests and --json output. */
export function recordingSink(): EventSink & { events: ArkEvent[] } {
  const events: ArkEvent[] = [];
  const sink = ((event: ArkEvent) => {
    events.push(event);
  }) as EventSink & { events: ArkEvent[] };
  sink.events = events;
  return sink;
}
