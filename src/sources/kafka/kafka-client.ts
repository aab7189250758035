// The small slice of Kafka that authwatch uses, as an interface. kafkajs-bus.ts implements it
// with kafkajs; nothing else in src/ imports kafkajs, so the worker's logic reads as data flow
// (fetch batch → transform → produce/commit) and the client library can be swapped.

export interface OutMessage {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
  /** explicit partition (the rule stage's re-keying); otherwise the key's hash decides */
  partition?: number;
}

export interface InMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  offset: string;
  /** broker timestamp (ms since epoch, as text), producer-set by default */
  timestamp: string;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset extends TopicPartition {
  /** the next offset to read */
  offset: string;
}

export interface InBatch extends TopicPartition {
  messages: InMessage[];
  /** the partition's log end offset when the batch was fetched */
  highWatermark: string;
}

export interface BatchContext {
  /** keep the group membership alive during long batches */
  heartbeat(): Promise<void>;
  /** true when the partition was revoked or seeked meanwhile: stop and drop this batch */
  isStale(): boolean;
  /** mark the consumer's position after `offset` (the next fetch continues from there) */
  resolveOffset(offset: string): void;
}

export interface ConsumerHandlers {
  /**
   * Called with each fetched batch, one partition at a time per consumer (batches of one
   * consumer never overlap, which bounds in-flight work; see `maxInFlight`).
   */
  eachBatch(batch: InBatch, ctx: BatchContext): Promise<void>;
  /** the group handed this member a new assignment (state for these partitions must be (re)loaded) */
  onAssignment?(assigned: TopicPartition[]): void;
  /**
   * After every fetched batch of a partition (also batches holding only transaction markers or
   * aborted records, which never reach eachBatch): how many records are left after it.
   */
  onBatchEnd?(at: TopicPartition & { lag: number }): void;
  /** the consumer stopped for good (a non-retriable error): the process should exit and be restarted */
  onCrash?(error: Error): void;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** where a group with no committed offset starts */
  fromBeginning: boolean;
  /** commit offsets the handler resolved (false when offsets are committed in a transaction) */
  autoCommit: boolean;
  /** partitions processed concurrently by this member: the bound on in-flight batches */
  maxInFlight: number;
  /** how long a fetch may wait for data; low values cut latency at some CPU cost */
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
}

export interface BusConsumer {
  run(handlers: ConsumerHandlers): Promise<void>;
  seek(to: PartitionOffset): void;
  commit(offsets: PartitionOffset[]): Promise<void>;
  stop(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface BusProducer {
  send(topic: string, messages: OutMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A Kafka transaction: the sends and the consumer offsets become visible together, or not at all. */
export interface BusTransaction {
  send(topic: string, messages: OutMessage[]): Promise<void>;
  sendOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface BusTransactionalProducer {
  transaction(): Promise<BusTransaction>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** log compaction (keep the latest value per key), for state topics */
  compacted?: boolean;
  /** per-topic message size limit, bytes */
  maxMessageBytes?: number;
}

export interface PartitionWatermarks {
  partition: number;
  low: string;
  high: string;
}

export interface KafkaBus {
  producer(): Promise<BusProducer>;
  /**
   * A stable `transactionalId` fences a previous incarnation of the same worker: its open
   * transaction is aborted when the new one starts, so a crash never leaves half a batch visible.
   */
  transactionalProducer(transactionalId: string): Promise<BusTransactionalProducer>;
  consumer(opts: ConsumerOptions): Promise<BusConsumer>;
  /** create missing topics; existing ones are left as they are */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  watermarks(topic: string): Promise<PartitionWatermarks[]>;
  /** how many partitions a topic has (metadata only: no leader needed) */
  partitionCount(topic: string): Promise<number>;
  /** the group's committed offsets for a topic (-1 when none) */
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  close(): Promise<void>;
}

/** Consumer lag for one partition: messages between the committed/consumed position and the log end. */
export function lagOf(high: string, position: string): number {
  const h = BigInt(high);
  const p = BigInt(position);
  return p < 0n ? Number(h) : Number(h > p ? h - p : 0n);
}
