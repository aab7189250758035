// What the suite may rely on. Outside CI a missing broker or browser skips those tests with a
// reason; in CI (CI=true) it fails them instead, because a skipped test is not a passing test.
import { existsSync } from 'node:fs';

const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function kafkaBrokers(): string[] | null {
  const v = process.env.AUTHWATCH_TEST_KAFKA_BROKERS;
  if (v) return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (IN_CI) throw new Error('CI=true but no Kafka broker: AUTHWATCH_TEST_KAFKA_BROKERS is unset (scripts/kafka.sh start should set it)');
  return null;
}

export const CHROMIUM_PATH = process.env.AUTHWATCH_TEST_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumPath(): string | null {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (IN_CI) throw new Error(`CI=true but Chromium is missing at ${CHROMIUM_PATH} (.ci/run installs Debian's chromium)`);
  return null;
}

export function commandPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  if (IN_CI) throw new Error(`CI=true but ${name} is not installed (.ci/run installs it)`);
  return null;
}

export { IN_CI };
