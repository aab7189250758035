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
// Identical content has an identical event time (the time is part of the content), so ids are
// remembered per event time, for the last RECENT_TIMES distinct times of the stream: small
// maps, dropped whole when their time leaves (one Map of every id of a stream cost ≈ 1.5 µs per
// event, measured, most of it in growing and collecting the big map). Logs are written in
// time order, give or take a few seconds; a repetition whose time has left the window (more
// than RECENT_TIMES other times since) starts counting again. Each time keeps at most
// MAX_IDS_PER_TIME ids; past that a repetition may be missed (memory stays bounded).

const RECENT_TIMES = 8;
const MAX_IDS_PER_TIME = 1 << 20;

interface TimeRun {
  time: string;
  /** the first id seen at this time; the map is made only when a second id arrives */
  first: string;
  firstCount: number;
  more: Map<string, number> | null;
}

export class RepeatedContentIds {
  private readonly runs: TimeRun[] = [];
  private last: TimeRun | null = null;

  /** Give an event whose id was derived from its content the id of this occurrence (see occurrence). */
  renumber(event: { id: string; time: string }): void {
    event.id = this.occurrence(event.id, event.time);
  }

  /** The id of this occurrence of a content-derived id with its event time: itself the first time, `<id>.<n>` the n-th time. */
  occurrence(id: string, time: string): string {
    let run = this.last;
    if (run === null || run.time !== time) run = this.runFor(time);
    let n: number;
    if (run.firstCount === 0) {
      run.first = id;
      n = run.firstCount = 1;
    } else if (run.first === id) n = ++run.firstCount;
    else if (run.more === null) {
      run.more = new Map([[id, 1]]);
      n = 1;
    } else {
      n = (run.more.get(id) ?? 0) + 1;
      if (n > 1 || run.more.size < MAX_IDS_PER_TIME) run.more.set(id, n);
    }
    return n === 1 ? id : id + '.' + n;
  }

  private runFor(time: string): TimeRun {
    const runs = this.runs;
    for (let i = runs.length - 1; i >= 0; i--) {
      if (runs[i].time === time) return (this.last = runs[i]);
    }
    if (runs.length >= RECENT_TIMES) runs.shift();
    // firstCount 0: the next occurrence() claims `first`
    const run: TimeRun = { time, first: '', firstCount: 0, more: null };
    runs.push(run);
    return (this.last = run);
  }
}
