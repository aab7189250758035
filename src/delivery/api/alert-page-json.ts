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
import { ALERT_CHANGE_KINDS, type FeedItem, type FeedTextItem, type Page, type StoredAlert, type StoredAlertText } from '../../store/store.js';

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
    const frags = page.items.map((a) => this.alert(a));
    const tail = Buffer.from('],"next_cursor":' + (page.next_cursor === null ? 'null' : JSON.stringify(page.next_cursor)) + '}');
    let size = ITEMS_OPEN.length + Math.max(0, frags.length - 1) + tail.length;
    for (const f of frags) size += f.length;
    const out = Buffer.allocUnsafe(size);
    let at = put(out, 0, ITEMS_OPEN);
    for (let i = 0; i < frags.length; i++) {
      if (i) out[at++] = COMMA;
      at = put(out, at, frags[i]);
    }
    put(out, at, tail);
    return out;
  }

  /** `{"items":[{"seq","change","alert"}...],"next_cursor":string}` */
  feed(items: readonly FeedItem[], nextCursor: string): Buffer {
    const frags: Buffer[] = new Array(items.length);
    const seqs: string[] = new Array(items.length);
    const kinds: Buffer[] = new Array(items.length);
    const tail = Buffer.from('],"next_cursor":' + JSON.stringify(nextCursor) + '}');
    let size = ITEMS_OPEN.length + Math.max(0, items.length - 1) + tail.length;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      frags[i] = this.alert(it.alert);
      seqs[i] = String(it.seq); // an integer: ASCII digits
      kinds[i] = CHANGE_JSON.get(it.change) ?? Buffer.from(',"change":' + JSON.stringify(it.change) + ',"alert":');
      size += SEQ_OPEN.length + seqs[i].length + kinds[i].length + frags[i].length + 1;
    }
    const out = Buffer.allocUnsafe(size);
    let at = put(out, 0, ITEMS_OPEN);
    for (let i = 0; i < items.length; i++) {
      if (i) out[at++] = COMMA;
      at = put(out, at, SEQ_OPEN);
      const seq = seqs[i];
      for (let k = 0; k < seq.length; k++) out[at++] = seq.charCodeAt(k);
      at = put(out, at, kinds[i]);
      at = put(out, at, frags[i]);
      out[at++] = CLOSE_BRACE;
    }
    put(out, at, tail);
    return out;
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

// Page bodies are written straight into one buffer: the alerts' bytes with Uint8Array#set,
// the fixed pieces from bytes made once. Assembling them from ~300 strings and buffers with
// Buffer#write/#copy (argument checks in JavaScript per call, UTF-8 encoding of short strings)
// cost ≈ 80 µs per 100-item feed page, several times the copying itself.
const ITEMS_OPEN = Buffer.from('{"items":[');
const SEQ_OPEN = Buffer.from('{"seq":');
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
/** `,"change":"<kind>","alert":` for each change kind (between a feed item's seq and its alert) */
const CHANGE_JSON = new Map<string, Buffer>(ALERT_CHANGE_KINDS.map((k) => [k, Buffer.from(',"change":' + JSON.stringify(k) + ',"alert":')]));

function put(out: Buffer, at: number, bytes: Uint8Array): number {
  out.set(bytes, at);
  return at + bytes.length;
}
