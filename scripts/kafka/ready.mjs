// Exit 0 when the broker at argv[2] answers a metadata request, 1 otherwise (used by kafka.sh).
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const admin = new Kafka({
  clientId: 'authwatch-kafka-ready',
  brokers: [process.argv[2]],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 3000,
  retry: { retries: 0 },
}).admin();
try {
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [] });
  await admin.disconnect();
  process.exit(0);
} catch {
  process.exit(1);
}
