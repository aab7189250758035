// JSON bodies of the alert list and feed pages, assembled from each alert's serialised JSON.
// A feed page is 100 alerts (~60 KB); serialising it on every request was most of a feed
// request's cost, although consecutive pages share almost all their alerts. The store hands
// out one shared, never-mutated object per unchanged alert (its parsed-alert cache), so the
// alert's JSON is kept per object: a changed alert is a new object, and a dropped one takes
// its JSON with it (WeakMap). Kept as UTF-8 bytes and copied into the body: encoding a 60 KB
// string assembled from 300 pieces cost more than the rest of the request.
//
// The bodies are byte-identical to the route's response-schema serialiser on the whole page
// (test/api/alert-page-json.test.ts): the alert fragments come from that serialiser compiled
// for the alert schema, and the wrapper is the same fixed shape it emits.
//
// Backfill feed pages (older than the store's in-memory tail) are built from each alert's
// stored text instead (`feedFromText`): the evidence column is already the JSON the serialiser
// would emit for it (JSON.stringify of {event_ids, samples}: the schema declares those two
// keys in that order and passes samples through with JSON.stringify), and the scalar columns
// are quoted like the serialiser quotes strings. Only the small group and proposed columns are
// parsed and re-serialised with the schema's own serialisers (the schema drops undeclared
// proposal fields and type-checks group values).
import type { FeedItem, FeedTextItem, Page, StoredAlert, StoredAlertText } from '../../store/store.js';

export interface AlertSerializers {
  /** the response-schema serialiser compiled for one alert (alertSchema) */
  alert: (alert: StoredAlert) => string;
  /** ... for alertSchema.properties.group */
  group: (group: unknown) => string;
  /** ... for alertSchema.properties.proposed */
  proposed: (proposed: unknown) => string;
}

export class AlertPageJson {
  private readonly fragments = new WeakMap<StoredAlert, Buffer>();
  /** stored proposed_json → its serialised form: a rule's proposals are the same text on every alert it raises */
  private readonly proposedJson = new Map<string, string>();

  constructor(private readonly ser: AlertSerializers) {}


  alert(a: StoredAlert): Buffer {
    let json = this.fragments.get(a);
    if (json === undefined) {
      json = Buffer.from(this.ser.alert(a));
      this.fragments.set(a, json);
    }
    return json;
  }

  /** `{"items":[...],"next_cursor":string|null}` */
  list(page: Page<StoredAlert>): Buffer {
    const parts: Array<string | Buffer> = ['{"items":['];
    for (let i = 0; i < page.items.length; i++) {
      if (i) parts.push(',');
      parts.push(this.alert(page.items[i]));
    }
    parts.push('],"next_cursor":' + (page.next_cursor === null ? 'null' : JSON.stringify(page.next_cursor)) + '}');
    return join(parts);
  }

  /** `{"items":[{"seq","change","alert"}...],"next_cursor":string}` */
  feed(items: readonly FeedItem[], nextCursor: string): Buffer {
    const parts: Array<string | Buffer> = ['{"items":['];
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      parts.push((i ? ',' : '') + '{"seq":' + it.seq + ',"change":' + JSON.stringify(it.change) + ',"alert":', this.alert(it.alert), '}');
    }
    parts.push('],"next_cursor":' + JSON.stringify(nextCursor) + '}');
    return join(parts);
  }

  /** The alert's JSON from its stored text (see the header): equal to the serialiser's output for the parsed row. */
  alertFromText(r: StoredAlertText): string {
    let proposed = this.proposedJson.get(r.proposed_json);
    if (proposed === undefined) {
      proposed = this.ser.proposed(JSON.parse(r.proposed_json));
      if (this.proposedJson.size >= 1000) this.proposedJson.clear();
      this.proposedJson.set(r.proposed_json, proposed);
    }
    return (
      '{"id":' + JSON.stringify(r.id) +
      ',"rule":{"id":' + JSON.stringify(r.rule_id) + ',"name":' + JSON.stringify(r.rule_name) + ',"title":' + JSON.stringify(r.rule_title) + ',"level":' + JSON.stringify(r.level) +
      '},"group":' + this.groupJson(r.group_json) +
      ',"count":' + r.count +
      ',"first_seen":' + JSON.stringify(r.first_seen) + ',"last_seen":' + JSON.stringify(r.last_seen) + ',"status":' + JSON.stringify(r.status) +
      ',"evidence":' + r.evidence_json +
      ',"proposed":' + proposed +
      ',"created_at":' + JSON.stringify(r.created_at) + ',"updated_at":' + JSON.stringify(r.updated_at) + '}'
    );
  }

  /**
   * The stored group text is JSON.stringify of the group; when every value is a string, number,
   * boolean or null (no '[' and no '{' but the first: nothing nested) the schema's serialiser
   * emits the same text, so it is used as is. Anything else (a value that is an array, or a
   * bracket inside a string) goes through the serialiser.
   */
  private groupJson(text: string): string {
    if (text.indexOf('[') === -1 && text.lastIndexOf('{') === 0) return text;
    return this.ser.group(JSON.parse(text));
  }

  /** A feed page from stored text (`Store.alertFeedForJson` rows): same shape as `feed`. */
  feedFromText(items: readonly FeedTextItem[], nextCursor: string): Buffer {
    let body = '{"items":[';
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      body += (i ? ',' : '') + '{"seq":' + it.seq + ',"change":' + JSON.stringify(it.change) + ',"alert":' + this.alertFromText(it.alert) + '}';
    }
    return Buffer.from(body + '],"next_cursor":' + JSON.stringify(nextCursor) + '}');
  }
}

/** One buffer holding the pieces in order (strings as UTF-8). */
function join(parts: ReadonlyArray<string | Buffer>): Buffer {
  let size = 0;
  for (const p of parts) size += typeof p === 'string' ? Buffer.byteLength(p) : p.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of parts) at += typeof p === 'string' ? out.write(p, at) : p.copy(out, at);
  return out;
}
