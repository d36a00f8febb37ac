import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { EXIT } from '../../lib/errors.ts';
import { ARK_COMMANDS, arkHelp, arkScript } from './ark-commands.ts';
import { versionLine } from './version.ts';

// bin/ark.mjs's body: `ark <command> ARGS` runs the command's script in this process, with
// ARGS as its own (ark-commands.ts holds the table).

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${arkHelp()}\n`);
    process.exitCode = command === undefined ? EXIT.usage : EXIT.ok;
    return;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`${versionLine()}\n`);
    return;
  }
  const script = arkScript(command);
  if (script === null || !existsSync(script)) {
    const close = Object.keys(ARK_COMMANDS).filter((c) => c.startsWith(command.slice(0, 2)));
    process.stderr.write(
      `✗ ark: unknown command ${JSON.stringify(command)}${close.length > 0 ? ` (did you mean ${close.join(' or ')}?)` : ''}; ark --help lists them\n`,
    );
    process.exitCode = EXIT.usage;
    return;
  }
  // The script finds its own arguments after its path in argv (script-args.ts).
  process.argv = [process.argv[0]!, script, ...rest];
  await import(pathToFileURL(script).href);
}

await main(process.argv.slice(2));
