// JSON bodies of the alert list and feed pages, assembled from each alert's serialised JSON.
// A feed page is 100 alerts (~60 KB); serialising it on every request was most of a feed
// request's cost, although consecutive pages share almost all their alerts. The store hands
// out one shared, never-mutated object per unchanged alert (its parsed-alert cache), so the
// alert's JSON is kept per object: a changed alert is a new object, and a dropped one takes
// its JSON with it (WeakMap).
//
// The bodies are byte-identical to the route's response-schema serialiser on the whole page
// (test/api/alert-page-json.test.ts): the alert fragments come from that serialiser compiled
// for the alert schema, and the wrapper is the same fixed shape it emits.
import type { FeedItem, Page, StoredAlert } from '../../store/store.js';

export class AlertPageJson {
  private readonly fragments = new WeakMap<StoredAlert, string>();

  /** `serializeAlert`: the response-schema serialiser compiled for one alert (alertSchema). */
  constructor(private readonly serializeAlert: (alert: StoredAlert) => string) {}

  alert(a: StoredAlert): string {
    let json = this.fragments.get(a);
    if (json === undefined) {
      json = this.serializeAlert(a);
      this.fragments.set(a, json);
    }
    return json;
  }

  /** `{"items":[...],"next_cursor":string|null}` */
  list(page: Page<StoredAlert>): string {
    let out = '{"items":[';
    for (let i = 0; i < page.items.length; i++) out += (i ? ',' : '') + this.alert(page.items[i]);
    return out + '],"next_cursor":' + (page.next_cursor === null ? 'null' : JSON.stringify(page.next_cursor)) + '}';
  }

  /** `{"items":[{"seq","change","alert"}...],"next_cursor":string}` */
  feed(items: readonly FeedItem[], nextCursor: string): string {
    let out = '{"items":[';
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      out += (i ? ',' : '') + '{"seq":' + it.seq + ',"change":' + JSON.stringify(it.change) + ',"alert":' + this.alert(it.alert) + '}';
    }
    return out + '],"next_cursor":' + JSON.stringify(nextCursor) + '}';
  }
}
