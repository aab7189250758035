// The `authwatch` command: dispatches to one module per subcommand (src/commands/*).
// Each command module exports `run(argv: string[]): Promise<number>` (the exit code).
const USAGE = `authwatch — watch OAuth 2.0 token use against APIs

Usage:
  authwatch serve  [--port N] [--data DIR] [--config FILE]   API + HTTP ingest (+ Kafka when brokers are set)
  authwatch worker [--data DIR] [--config FILE]              Kafka ingest alone
  authwatch replay [--rules DIR] [--input-format auto|authwatch|nginx|envoy|kong] FILE... (- for stdin)
  authwatch rules lint [DIR]
  authwatch rules test [DIR]
  authwatch token --scope "S1 S2" [--ttl D] [--aud A] [--data DIR]   mint a dev-issuer access token

Run 'authwatch <command> --help' for a command's options.`;

const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  serve: () => import('./commands/serve.js'),
  worker: () => import('./commands/worker.js'),
  replay: () => import('./commands/replay.js'),
  rules: () => import('./commands/rules.js'),
  token: () => import('./commands/token.js'),
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`authwatch: unknown command "${cmd}"\n\n${USAGE}\n`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Errors reaching here carry codes and safe messages (config, usage); never a stack by default.
    const e = err as { code?: string; message?: string };
    process.stderr.write(`authwatch: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
