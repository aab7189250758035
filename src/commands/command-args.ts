// Shared option parsing for the subcommands: strict flags, `--help`, and usage errors that
// print the command's help and exit 2, so every command fails the same way on bad input.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags, or the exit code when the command should stop (help shown, or a usage error). */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  help: string,
): { values: ReturnType<typeof parseArgs<{ args: string[]; options: O & { help: { type: 'boolean'; short: 'h' } }; strict: true; allowPositionals: false }>>['values'] } | number {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } };
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: all, strict: true, allowPositionals: false }));
  } catch (err) {
    process.stderr.write(`authwatch ${command}: ${(err as Error).message}\n\n${help}`);
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help);
    return 0;
  }
  return { values };
}
