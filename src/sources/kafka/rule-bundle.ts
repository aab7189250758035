// The record format of `<group>.internal.rules`: one Kafka record carries a *bundle* — the
// events one input batch sends to one rule partition, as NDJSON (validated, redacted event JSON,
// one per line; JSON.stringify never emits a raw newline, so a line is exactly one event).
//
// Why bundles and not one record per event: kafkajs encodes, checksums and decodes every record
// in JavaScript, with a few Buffer allocations per record and per header, and the worker writes
// every event a second time. One record per (input batch, rule partition) cuts that per-event
// cost to a string join and a line split (docs/kafka.md, "Throughput"). Nothing else changes:
// the bundle is written in the stage-1 transaction, and stage 2's restart point (snapshot +
// next offset) falls between records, i.e. between whole bundles.
//
// A record holding a single event is a one-line bundle, so records written one per event (by a
// worker of an older version) read the same way.
//
// Event-time progress (watermark) travels with the bundles: each input batch tells EVERY rule
// partition the newest event time it contained (header `authwatch-watermark`, on the partition's
// last bundle record of the batch, or on an empty record when no copy went there). Re-keying
// sends a partition only the events its rules match, so a partition receiving a rare kind of
// event would otherwise hold it in its reorder buffer until the next such event — seconds or
// more; with the marker its engine advances as replay's single engine does, on the newest event
// time of the whole stream. (An older worker cannot read empty marker records: stop all
// workers, then start the new version.)

/** Headers of a bundle: where its lines came from (the DLQ uses the singular offset header). */
export const BUNDLE_HEADER = {
  sourceTopic: 'authwatch-source-topic',
  sourcePartition: 'authwatch-source-partition',
  /** the input offset of each line, comma-separated, in line order */
  sourceOffsets: 'authwatch-source-offsets',
  /** newest event time (epoch ms) of the input batch this record closes */
  watermark: 'authwatch-watermark',
} as const;

/** Keep a record well under the broker's default 1 MiB message.max.bytes even on a topic authwatch did not create. */
export const MAX_BUNDLE_BYTES = 256 * 1024;

export interface BundleRecord {
  key: string | null;
  value: string;
  partition: number;
  headers: Record<string, string>;
}

/** Collects the copies of one input batch per rule partition, then cuts them into records. */
export class BundleBuilder {
  private readonly parts = new Map<number, { key: string; lines: string[]; offsets: string[]; bytes: number; records: BundleRecord[] }>();
  copies = 0;

  constructor(
    private readonly topic: string,
    private readonly sourcePartition: number,
  ) {}

  /** `key` is the first routing key sending this event to `partition` (kept as the record key). */
  add(partition: number, key: string, line: string, offset: string): void {
    let b = this.parts.get(partition);
    if (!b) this.parts.set(partition, (b = { key, lines: [], offsets: [], bytes: 0, records: [] }));
    // lengths are UTF-16 units, an estimate of bytes that is exact for ASCII (nearly all event JSON)
    if (b.lines.length && b.bytes + line.length + 1 > MAX_BUNDLE_BYTES) this.cut(partition, b);
    if (!b.lines.length) b.key = key;
    b.lines.push(line);
    b.offsets.push(offset);
    b.bytes += line.length + 1;
    this.copies++;
  }

  private cut(partition: number, b: { key: string; lines: string[]; offsets: string[]; bytes: number; records: BundleRecord[] }): void {
    b.records.push({
      key: b.key,
      value: b.lines.join('\n'),
      partition,
      headers: { [BUNDLE_HEADER.sourceTopic]: this.topic, [BUNDLE_HEADER.sourcePartition]: String(this.sourcePartition), [BUNDLE_HEADER.sourceOffsets]: b.offsets.join(',') },
    });
    b.lines = [];
    b.offsets = [];
    b.bytes = 0;
  }

  /**
   * The records of this batch. With `watermark` (the batch's newest event time), every one of
   * the `partitions` rule partitions gets it: on its last record, or on an empty one.
   */
  records(partitions: number, watermark: number | null): BundleRecord[] {
    const out: BundleRecord[] = [];
    for (const [partition, b] of this.parts) {
      if (b.lines.length) this.cut(partition, b);
      if (watermark !== null) b.records[b.records.length - 1].headers[BUNDLE_HEADER.watermark] = String(watermark);
      out.push(...b.records);
    }
    if (watermark !== null) {
      for (let partition = 0; partition < partitions; partition++) {
        if (this.parts.has(partition)) continue;
        out.push({
          key: null,
          value: '',
          partition,
          headers: { [BUNDLE_HEADER.sourceTopic]: this.topic, [BUNDLE_HEADER.sourcePartition]: String(this.sourcePartition), [BUNDLE_HEADER.watermark]: String(watermark) },
        });
      }
    }
    return out;
  }
}

/** The events of one record, as JSON text (one per line); none for a watermark-only record. */
export function bundleLines(value: Buffer | null): string[] {
  return value && value.length ? value.toString('utf8').split('\n') : [];
}

/** The watermark a record carries (epoch ms), if any. */
export function bundleWatermark(headers: Record<string, string>): number | null {
  const v = headers[BUNDLE_HEADER.watermark];
  if (v === undefined) return null;
  const t = Number(v);
  return Number.isFinite(t) ? t : null;
}
