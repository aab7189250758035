// Publishes the kafka_outbox rows (alert and action changes) to their topics, oldest first, and
// deletes them once the broker acknowledged (acks=all). At-least-once: a crash between send and
// delete re-sends; consumers keep the latest value per key. Ingest never waits for this loop.
import type { Logger } from '../../observability/logger.js';
import type { Store } from '../../store/store.js';
import type { BusProducer, OutMessage } from './kafka-client.js';
import type { KafkaStateStore } from './kafka-state.js';

const BATCH_ROWS = 500;
const IDLE_POLL_MS = 500;
const MAX_BACKOFF_MS = 5000;

export class OutboxPublisher {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private offCommit: (() => void) | null = null;

  constructor(
    private readonly producer: BusProducer,
    private readonly state: KafkaStateStore,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.offCommit = this.store.onCommit(() => this.wake?.());
    this.loop = this.run();
  }

  /** Publish what is pending (bounded by `timeoutMs`), then stop. */
  async stop(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running && this.state.pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.running = false;
    this.offCommit?.();
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      const rows = this.state.peek(BATCH_ROWS);
      if (rows.length === 0) {
        await this.sleep(IDLE_POLL_MS);
        continue;
      }
      try {
        // consecutive rows of one topic go in one request; order within each topic is kept
        let i = 0;
        while (i < rows.length) {
          const topic = rows[i].topic;
          const msgs: OutMessage[] = [];
          while (i < rows.length && rows[i].topic === topic) {
            msgs.push({ key: rows[i].key, value: rows[i].value });
            i++;
          }
          await this.producer.send(topic, msgs);
        }
        this.state.ack(rows[rows.length - 1].seq);
        backoff = 100;
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error).message }, pending: rows.length }, 'kafka outbox publish failed; retrying');
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }
}
