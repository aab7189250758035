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
import type { FeedItem, Page, StoredAlert } from '../../store/store.js';

export class AlertPageJson {
  private readonly fragments = new WeakMap<StoredAlert, Buffer>();

  /** `serializeAlert`: the response-schema serialiser compiled for one alert (alertSchema). */
  constructor(private readonly serializeAlert: (alert: StoredAlert) => string) {}

  alert(a: StoredAlert): Buffer {
    let json = this.fragments.get(a);
    if (json === undefined) {
      json = Buffer.from(this.serializeAlert(a));
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
