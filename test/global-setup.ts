// Shared services for the suite. The Kafka broker (issue 5): when AUTHWATCH_TEST_KAFKA_BROKERS is
// unset, we are not in CI (.ci/run starts the broker itself) and Java is present, start the
// single-node broker with scripts/kafka.sh and export its address to the test workers (they are
// forked after global setup and inherit process.env). A run whose file filters name no Kafka test
// does not start it, so `npx vitest run test/store` costs no JVM.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KAFKA_SH = join(ROOT, 'scripts', 'kafka.sh');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

function wantsKafka(): boolean {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && !/^\d+$/.test(a) && !a.includes('='));
  return filters.length === 0 || filters.some((f) => /kafka|bench/i.test(f));
}

export default async function setup(): Promise<void | (() => Promise<void>)> {
  const inCi = process.env.CI === 'true' || process.env.CI === '1';
  if (process.env.AUTHWATCH_TEST_KAFKA_BROKERS || inCi || !wantsKafka() || !onPath('java') || !existsSync(KAFKA_SH)) return undefined;
  // already running (a developer's `npm run kafka:start`): use it and leave it running
  let started = false;
  let bootstrap: string;
  try {
    bootstrap = execFileSync('bash', [KAFKA_SH, 'status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    bootstrap = execFileSync('bash', [KAFKA_SH, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }).trim();
    started = true;
  }
  process.env.AUTHWATCH_TEST_KAFKA_BROKERS = bootstrap.split('\n').pop()!.trim();
  if (!started) return undefined;
  return async () => {
    execFileSync('bash', [KAFKA_SH, 'stop'], { stdio: 'ignore', timeout: 60_000 });
  };
}
