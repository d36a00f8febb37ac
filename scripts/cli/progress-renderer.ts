import type { ArkEvent } from '../../lib/events.ts';
import { formatBytes } from './render-event.ts';

// Progress for people, on stderr. On a terminal: one line that updates in place, at most
// every `ttyIntervalMs`, cut to the terminal's width (a width of 0, as some terminals report,
// counts as unknown); a task's first update is drawn at once, so even a short one shows.
// Elsewhere (cron mail, CI logs): nothing, unless `plain` (-v): then a plain line when a task
// crosses a 10 % step or every `plainIntervalMs`, never a flood, and one when it ends for a
// task that had none, so the log names every piece of work. stdout is never touched (--json).

export type ProgressEvent = Extract<ArkEvent, { kind: 'progress' }>;

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressRendererOptions {
  stream: ProgressStream;
  now?: () => number;
  ttyIntervalMs?: number;
  plainIntervalMs?: number;
  plainStepPercent?: number;
  /** Off a terminal, print plain progress lines (-v/--verbose); default: none. */
  plain?: boolean;
}

const CLEAR_LINE = '\r\x1b[2K';

export class ProgressRenderer {
  readonly #stream: ProgressStream;
  readonly #now: () => number;
  readonly #tty: boolean;
  readonly #ttyInterval: number;
  readonly #plainInterval: number;
  readonly #step: number;
  readonly #plain: boolean;
  /** The line currently drawn on the terminal (null: none). */
  #status: string | null = null;
  #lastDraw = -Infinity;
  #lastPlain: number;
  readonly #lastStep = new Map<string, number>();
  /** Tasks already shown (drawn on the terminal, or a plain line printed). */
  readonly #shown = new Set<string>();

  constructor(options: ProgressRendererOptions) {
    this.#stream = options.stream;
    this.#now = options.now ?? Date.now;
    this.#tty = options.stream.isTTY === true;
    this.#ttyInterval = options.ttyIntervalMs ?? 100;
    this.#plainInterval = options.plainIntervalMs ?? 10_000;
    this.#step = options.plainStepPercent ?? 10;
    this.#plain = options.plain ?? false;
    this.#lastPlain = this.#now();
  }

  progress(event: ProgressEvent): void {
    if (this.#tty) return this.#drawTty(event);
    if (!this.#plain) return;
    if (event.done) {
      this.#lastStep.delete(event.task);
      if (!this.#shown.has(event.task)) this.#printPlain(event);
      this.#shown.delete(event.task); // a task id used again (a fallback's archive) is new work
      return;
    }
    const now = this.#now();
    const percent = event.totalBytes
      ? Math.floor((100 * event.bytes) / event.totalBytes / this.#step) * this.#step
      : null;
    const crossed = percent !== null && percent > (this.#lastStep.get(event.task) ?? 0);
    if (!crossed && now - this.#lastPlain < this.#plainInterval) return;
    if (percent !== null) this.#lastStep.set(event.task, percent);
    this.#lastPlain = now;
    this.#printPlain(event);
  }

  #printPlain(event: ProgressEvent): void {
    this.#shown.add(event.task);
    this.#stream.write(`… ${formatProgress(event)}\n`);
  }

  /** Any other line for the operator: the live line is cleared first, and drawn again after. */
  line(text: string): void {
    if (this.#tty && this.#status !== null) {
      this.#stream.write(`${CLEAR_LINE}${text}\n${this.#status}`);
    } else {
      this.#stream.write(`${text}\n`);
    }
  }

  /** Leave the terminal clean (call before exiting). */
  finish(): void {
    if (this.#tty && this.#status !== null) this.#stream.write(CLEAR_LINE);
    this.#status = null;
  }

  #drawTty(event: ProgressEvent): void {
    if (event.done) {
      this.#shown.delete(event.task);
      this.finish();
      return;
    }
    const now = this.#now();
    const first = !this.#shown.has(event.task);
    if (!first && now - this.#lastDraw < this.#ttyInterval) return;
    this.#shown.add(event.task);
    this.#lastDraw = now;
    const columns = this.#stream.columns ?? 0;
    const width = columns > 0 ? Math.max(1, columns - 1) : 100;
    const text = formatProgress(event);
    this.#status = [...text].length > width ? `${[...text].slice(0, width - 1).join('')}…` : text;
    this.#stream.write(`${CLEAR_LINE}${this.#status}`);
  }
}

/** `ollama_models_20261126.tar.gz 120.0 MiB / 368.0 MiB (32%), 3/6 files, 45.2 MiB/s, ETA 6 s | all 41%, ETA 14 s` */
export function formatProgress(event: ProgressEvent): string {
  const parts: string[] = [];
  const of = event.totalBytes
    ? ` / ${formatBytes(event.totalBytes)} (${percentOf(event.bytes, event.totalBytes)}%)`
    : '';
  parts.push(`${event.label} ${formatBytes(event.bytes)}${of}`);
  if (event.files !== null)
    parts.push(`${event.files}${event.totalFiles !== null ? `/${event.totalFiles}` : ''} files`);
  const rate = event.elapsedMs > 0 ? (event.bytes * 1000) / event.elapsedMs : 0;
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  const eta = etaSeconds(event.bytes, event.totalBytes, event.elapsedMs);
  if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  let text = parts.join(', ');
  if (event.overall && event.overall.totalBytes > 0) {
    const overallEta = etaSeconds(event.overall.bytes, event.overall.totalBytes, event.overall.elapsedMs);
    text += ` | all ${percentOf(event.overall.bytes, event.overall.totalBytes)}%${overallEta !== null ? `, ETA ${formatDuration(overallEta)}` : ''}`;
  }
  return text;
}

function percentOf(bytes: number, total: number): number {
  return Math.min(100, Math.floor((100 * bytes) / total));
}

function etaSeconds(bytes: number, total: number | null, elapsedMs: number): number | null {
  if (!total || bytes <= 0 || elapsedMs < 500) return null;
  return Math.max(0, ((total - bytes) * elapsedMs) / bytes / 1000);
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
