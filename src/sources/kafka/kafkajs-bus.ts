// KafkaBus on kafkajs 2.2.4 — the only module in src/ that imports kafkajs.
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka as KafkaClient, KafkaMessage, Producer, LogEntry } from 'kafkajs';
import type { Logger } from '../../observability/logger.js';
import type {
  BusConsumer,
  BusProducer,
  BusTransaction,
  BusTransactionalProducer,
  ConsumerOptions,
  InMessage,
  KafkaBus,
  OutMessage,
  PartitionOffset,
  PartitionWatermarks,
  TopicSpec,
} from './kafka-client.js';

const { Kafka, logLevel, CompressionTypes, Partitioners } = kafkajs;

export interface KafkajsBusOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
}

function toIn(m: KafkaMessage): InMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    headers[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  }
  return { key: m.key ? m.key.toString() : null, value: m.value, headers, offset: m.offset, timestamp: m.timestamp };
}

function toOut(messages: OutMessage[]) {
  return messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: m.partition }));
}

const CONCURRENT_TX = /another concurrent operation on the same transaction/;

/** The broker refuses a produce request whose record batch exceeds message.max.bytes (1 MiB by default). */
const MAX_REQUEST_BYTES = 512 * 1024;

function* chunks(messages: OutMessage[]): Generator<OutMessage[]> {
  let cur: OutMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.value) + (m.key?.length ?? 0) + 64;
    if (cur.length && bytes + size > MAX_REQUEST_BYTES) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += size;
  }
  if (cur.length) yield cur;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * kafkajs sends AddOffsetsToTxn without retrying CONCURRENT_TRANSACTIONS (its send retries
 * AddPartitionsToTxn). Sent first in a transaction, or alongside the produce, it meets the
 * previous transaction's completion too: retry it the same way (nothing was added on that error).
 */
async function sendOffsetsRetried(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (err) {
      if ((err as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 250) throw err;
      await sleep(Math.min(20, 5 * (attempt + 1)));
    }
  }
}

function byTopic(offsets: PartitionOffset[]) {
  const topics = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const o of offsets) {
    const list = topics.get(o.topic) ?? [];
    list.push({ partition: o.partition, offset: o.offset });
    topics.set(o.topic, list);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

export class KafkajsBus implements KafkaBus {
  private readonly kafka: KafkaClient;
  private readonly closers: Array<() => Promise<void>> = [];
  private adminConn: Promise<Admin> | null = null;

  constructor(private readonly opts: KafkajsBusOptions) {
    const log = opts.logger.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      connectionTimeout: 5000,
      requestTimeout: 30000,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
      // kafkajs messages go through pino (never console); they carry no event payloads.
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          // CONCURRENT_TRANSACTIONS right after a commit is expected and retried (see the
          // transactional producer's retry): kafkajs reports each retry as an error
          if (CONCURRENT_TX.test(message) || CONCURRENT_TX.test(String(rest.error ?? ''))) log.debug(rest, message);
          else if (level <= logLevel.ERROR) log.error(rest, message);
          else if (level === logLevel.WARN) log.warn(rest, message);
          else log.debug(rest, message);
        },
    });
  }

  async producer(): Promise<BusProducer> {
    const p = this.kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await p.connect();
    this.closers.push(() => p.disconnect());
    return {
      send: async (topic, messages) => {
        for (const part of chunks(messages)) await p.send({ topic, messages: toOut(part), acks: -1, compression: CompressionTypes.None });
      },
      disconnect: () => p.disconnect(),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<BusTransactionalProducer> {
    const p: Producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId,
      idempotent: true,
      // >1 so a transaction's produce and its offset commit can be in flight together (worker.ts
      // drainTxQueue); produce requests of an idempotent producer stay one at a time per broker
      // (kafkajs serialises them), and Kafka keeps ordering for up to 5 in flight
      maxInFlightRequests: 5,
      // short: a transaction left open by a crashed worker that never comes back is aborted by the broker after this
      transactionTimeout: 15000,
      // CONCURRENT_TRANSACTIONS answers the first AddPartitionsToTxn after a commit until the
      // broker has written the previous transaction's markers (a few ms). kafkajs retries the
      // whole send with exponential backoff (10, 20, 40, 80 ms ...), which overshot that and was
      // the largest part of a stage-1 transaction; a short capped backoff polls instead (the
      // Java client retries it after 20 ms). ~250 retries keep ~5 s of patience for a broker outage.
      retry: { retries: 250, initialRetryTime: 5, maxRetryTime: 20 },
    });
    await p.connect();
    this.closers.push(() => p.disconnect());
    return {
      transaction: async (): Promise<BusTransaction> => {
        const tx = await p.transaction();
        return {
          send: async (topic, messages) => {
            for (const part of chunks(messages)) await tx.send({ topic, messages: toOut(part), acks: -1 });
          },
          sendOffsets: (groupId, offsets) => sendOffsetsRetried(() => tx.sendOffsets({ consumerGroupId: groupId, topics: byTopic(offsets) })),
          commit: () => tx.commit(),
          abort: () => tx.abort(),
        };
      },
      disconnect: () => p.disconnect(),
    };
  }

  async consumer(opts: ConsumerOptions): Promise<BusConsumer> {
    const c: Consumer = this.kafka.consumer({
      groupId: opts.groupId,
      allowAutoTopicCreation: false,
      readUncommitted: false, // read_committed: never see an aborted stage-1 transaction
      maxWaitTimeInMs: opts.maxWaitMs ?? 100,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1024 * 1024,
      // the broker's minimum: a crashed worker's partitions move on after 6 s
      sessionTimeout: 6000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 500,
    });
    await c.connect();
    for (const topic of opts.topics) await c.subscribe({ topic, fromBeginning: opts.fromBeginning });
    this.closers.push(() => c.disconnect());
    return {
      run: async (handlers) => {
        if (handlers.onCrash) {
          const onCrash = handlers.onCrash;
          c.on(c.events.CRASH, (e) => {
            if (!e.payload.restart) onCrash(e.payload.error);
          });
        }
        if (handlers.onBatchEnd) {
          const onBatchEnd = handlers.onBatchEnd;
          c.on(c.events.END_BATCH_PROCESS, (e) => onBatchEnd({ topic: e.payload.topic, partition: e.payload.partition, lag: Number(e.payload.offsetLag) }));
        }
        if (handlers.onAssignment) {
          const cb = handlers.onAssignment;
          c.on(c.events.GROUP_JOIN, (e) => {
            const assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })));
            cb(assigned);
          });
        }
        await c.run({
          autoCommit: opts.autoCommit,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: opts.maxInFlight,
          eachBatch: async ({ batch, heartbeat, isStale, resolveOffset }) => {
            await handlers.eachBatch(
              { topic: batch.topic, partition: batch.partition, messages: batch.messages.map(toIn), highWatermark: batch.highWatermark },
              { heartbeat, isStale, resolveOffset },
            );
          },
        });
      },
      seek: (to) => c.seek(to),
      commit: (offsets) => c.commitOffsets(offsets),
      stop: () => c.stop(),
      disconnect: () => c.disconnect(),
    };
  }

  /** one admin connection, reused: lag is polled every second */
  private admin(): Promise<Admin> {
    if (!this.adminConn) {
      const admin = this.kafka.admin();
      this.adminConn = admin.connect().then(() => admin);
      this.adminConn.catch(() => {
        this.adminConn = null;
      });
      this.closers.push(async () => {
        this.adminConn = null;
        await admin.disconnect();
      });
    }
    return this.adminConn;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.admin();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => {
          const configEntries: Array<{ name: string; value: string }> = [];
          if (s.compacted) configEntries.push({ name: 'cleanup.policy', value: 'compact' });
          if (s.maxMessageBytes) configEntries.push({ name: 'max.message.bytes', value: String(s.maxMessageBytes) });
          return { topic: s.topic, numPartitions: s.partitions, replicationFactor: -1, configEntries };
        }),
      });
    } catch (err) {
      // two workers starting together race to create the same topics: the loser's error is harmless
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }

  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    const admin = await this.admin();
    const offs = await admin.fetchTopicOffsets(topic);
    return offs.map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.admin();
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0]?.partitions.length ?? 0;
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const admin = await this.admin();
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return res.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })));
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}
