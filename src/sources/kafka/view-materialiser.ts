// Every API node's local view of the record (brief, "Kafka contract"): `serve` with brokers
// consumes the alerts and actions topics from the beginning, in a consumer group of its own
// (`<group>.view.<node id>`, so every node reads everything), into its SQLite store. So any node
// serves every alert, whichever worker raised it.
//
// Upserts only (Store.saveAlerts with `mirror`, Store.mirrorAction): monotone for alerts (larger
// count, earliest first_seen, latest last_seen, merged evidence) and newest-wins for actions,
// so redelivery and duplicates from the at-least-once outbox change nothing; offsets are
// committed after the store write (at-least-once is enough). Mirror writes call no store
// listeners: the alert was announced (webhooks, outbox) where it was raised.
import type { Action } from '../../alerts/alert.js';
import type { Alert } from '../../alerts/alert.js';
import type { Logger } from '../../observability/logger.js';
import type { Store } from '../../store/store.js';
import type { BusConsumer, KafkaBus } from './kafka-client.js';

export interface ViewMaterialiserDeps {
  bus: KafkaBus;
  store: Store;
  logger: Logger;
  groupId: string;
  topics: { alerts: string; actions: string };
}

export class ViewMaterialiser {
  private consumer: BusConsumer | null = null;
  private readonly log: Logger;
  private fail!: (err: Error) => void;
  readonly failed: Promise<Error> = new Promise((resolve) => (this.fail = resolve));

  constructor(private readonly d: ViewMaterialiserDeps) {
    this.log = d.logger.child({ component: 'kafka-view' });
  }

  async start(): Promise<void> {
    const { topics } = this.d;
    this.consumer = await this.d.bus.consumer({
      groupId: this.d.groupId,
      topics: [topics.alerts, topics.actions],
      fromBeginning: true,
      autoCommit: true, // handler-resolved offsets only: committed after the store write
      maxInFlight: 1,
      maxWaitMs: 100,
    });
    await this.consumer.run({
      onCrash: (err) => {
        this.log.error({ err: { message: err.message } }, 'view materialiser stopped on a non-retriable error');
        this.fail(err);
      },
      eachBatch: async (batch, ctx) => {
        if (batch.messages.length === 0) return;
        const alerts: Alert[] = [];
        const actions: Action[] = [];
        for (const m of batch.messages) {
          if (!m.value) continue;
          try {
            const v = JSON.parse(m.value.toString('utf8')) as { alert?: Alert; action?: Action };
            if (batch.topic === topics.alerts && v.alert) alerts.push(v.alert);
            else if (batch.topic === topics.actions && v.action) actions.push(v.action);
          } catch {
            // authwatch writes these topics; an unreadable value is skipped, not fatal to the view
            this.log.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset }, 'unreadable message on an output topic; skipped');
          }
        }
        if (alerts.length) this.d.store.saveAlerts(alerts, { mirror: true });
        for (const a of actions) this.d.store.mirrorAction(a);
        await this.d.store.durable(); // group commit: on disk before the offset is committed
        ctx.resolveOffset(batch.messages[batch.messages.length - 1].offset);
        await ctx.heartbeat();
      },
    });
    this.log.info({ group: this.d.groupId }, 'materialising alerts and actions topics');
  }

  async stop(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
