// Identical lines are not always one event delivered twice. An NGINX combined line has a
// one-second clock and no request id, so a client that sends the same failing request 25 times
// in a second logs 25 byte-identical lines: 25 events with one content-derived id, which the
// engine's de-duplication would count as ONE (a brute force hidden by its own uniformity).
// Within one input stream (a file, one HTTP request body, one Kafka fetch of a partition) the
// n-th repetition of a derived id is a distinct event: it gets `<id>.<n>`. A stream sent again
// (a replayed file, a retried request) numbers its repetitions the same way, so its events keep
// their ids and are still recognised as duplicates. Producer-given ids are never numbered: the
// producer said what is the same event.
//
// Memory is bounded: two generations of at most `generation` ids each. A repetition further
// than that from its previous occurrence (more distinct events in between, all with the same
// event time since the time is part of the content) starts counting again.

export class RepeatedContentIds {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();

  constructor(private readonly generation = 65_536) {}

  /** The id of this occurrence of a content-derived id: itself the first time, `<id>.<n>` the n-th time. */
  occurrence(id: string): string {
    let n = this.current.get(id);
    if (n === undefined) {
      const before = this.previous.get(id);
      n = before === undefined ? 1 : before + 1;
      if (this.current.size >= this.generation) {
        this.previous = this.current;
        this.current = new Map();
      }
    } else n++;
    this.current.set(id, n);
    return n === 1 ? id : id + '.' + n;
  }
}
