import type { ParseArgsConfig } from 'node:util';
import { recordingSink, type ArkEvent, type EventSink } from '../../lib/events.ts';
import { EXIT, toArkError, UsageError, type ExitCode } from '../../lib/errors.ts';
import { commonOptions, parseOptions, type CommonOptions } from './parse-options.ts';
import { ProgressRenderer } from './progress-renderer.ts';
import { renderEvent } from './render-event.ts';
import { jsonEnvelope } from './json-envelope.ts';
import { scriptArgs, scriptName } from './script-args.ts';
import { versionLine } from './version.ts';

export interface ScriptContext {
  argv: string[];
  /** Renders each event on stderr as it happens and records it for the JSON result. */
  sink: EventSink;
  events: ArkEvent[];
  /** Print a line for the operator (stderr). */
  say(line: string): void;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** What a script is: its --help text, its own options (the common ones are added), whether it takes positionals. */
export interface ScriptSpec<O extends Options> {
  help: string;
  options: O;
  positionals?: boolean;
  /** import.meta.url of the script (undefined under zx: its __filename is used). */
  scriptUrl?: string;
}

/** The parsed command line a script's body gets. */
export interface ScriptArgs<O extends Options> {
  values: ReturnType<typeof parseOptions<O>>['values'];
  positionals: string[];
  common: CommonOptions;
}

export interface ScriptOutcome {
  exitCode: ExitCode;
  /** The --json envelope's `result` (keys made snake_case: json-envelope.ts). */
  result?: Record<string, unknown>;
  /** Where the policy came from ("built-in" or its file): the envelope's `policy`. */
  policy?: string;
  /** Final human line(s). */
  summary?: string;
}

/**
 * The frame of every operator script: parse its options (a bad flag is a usage error, exit 2),
 * answer --help, render events, turn errors into a clear message and an exit code (no stack
 * trace for bad input; ARK_DEBUG=1 shows one), print --json results. A script is its spec and
 * its body.
 */
export async function runScript<O extends Options>(
  spec: ScriptSpec<O>,
  main: (ctx: ScriptContext, args: ScriptArgs<O>) => Promise<ScriptOutcome>,
): Promise<void> {
  const argv = scriptArgs(process.argv, spec.scriptUrl); // undefined: zx's __filename, else argv[2..]
  const started = performance.now();
  const command = scriptName(spec.scriptUrl);
  // Known before parsing, so that a usage error under --json is still reported as JSON.
  let json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  const recorder = recordingSink();
  // Replaced once the options are parsed (-v: progress off a terminal too; -q: none).
  let progress = new ProgressRenderer({ stream: process.stderr });
  let quiet = false;
  let verbose = false;
  const say = (text: string) => {
    if (!quiet) return progress.line(text);
    for (const line of text.split('\n')) if (isProblem(line)) progress.line(line);
  };
  const ctx: ScriptContext = {
    argv,
    sink: (event) => {
      // Progress is drawn, not kept: the --json result lists what happened, not how fast.
      if (event.kind === 'progress') return quiet ? undefined : progress.progress(event);
      recorder(event);
      if (event.kind === 'dry-run' && event.detail && !verbose) return; // one line per file: -v
      const line = renderEvent(event);
      if (line !== null) say(line);
    },
    events: recorder.events,
    say,
  };
  let exitCode: ExitCode;
  try {
    const { values, positionals } = parseOptions(argv, spec.options, spec.positionals ?? false);
    const common = commonOptions(values);
    json = common.json;
    if (common.quiet && common.verbose) throw new UsageError('-q/--quiet and -v/--verbose cannot be combined');
    quiet = common.quiet;
    verbose = common.verbose;
    progress = new ProgressRenderer({ stream: process.stderr, plain: common.verbose });
    if (common.help || common.version) {
      process.stdout.write(`${common.help ? spec.help : versionLine()}\n`);
      process.exitCode = EXIT.ok;
      return;
    }
    const outcome = await main(ctx, { values, positionals, common });
    progress.finish();
    exitCode = outcome.exitCode;
    if (outcome.summary) say(outcome.summary);
    if (json) {
      const envelope = jsonEnvelope({
        exitCode,
        command,
        durationMs: performance.now() - started,
        policy: outcome.policy ?? null,
        result: outcome.result ?? {},
      });
      process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
    }
  } catch (thrown) {
    progress.finish();
    const error = toArkError(thrown);
    exitCode = error.exitCode;
    // Always shown, -q or not: this is what went wrong.
    progress.line(`✗ ${error.message}`);
    if (error.code === 'UNEXPECTED') progress.line('  (unexpected error: rerun with ARK_DEBUG=1 for details)');
    if (process.env.ARK_DEBUG) progress.line(String((thrown as Error)?.stack ?? thrown));
    if (json) {
      const envelope = jsonEnvelope({
        exitCode,
        command,
        durationMs: performance.now() - started,
        error: { code: error.code, message: error.message, ...error.details },
        result: null,
      });
      process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
    }
  }
  process.exitCode = exitCode;
}

/** What -q keeps: a line that says something is wrong (our ⚠ and ✗ marks). */
function isProblem(line: string): boolean {
  return /^\s*(⚠|✗)/.test(line);
}
