// The reorder buffer pops in (time, id) order whatever the arrival order, whether an entry took
// the in-order ring or the heap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AwEvent } from '../../src/events/event.js';
import { EventHeap } from '../../src/rules/event-heap.js';

const key = (t: number, id: string) => `${String(t).padStart(6, '0')}|${id}`;

describe('EventHeap', () => {
  it('pops in (time, id) order for any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ t: fc.integer({ min: 0, max: 50 }), id: fc.constantFrom('a', 'b', 'c', 'd') }), fc.constant('pop' as const)), { maxLength: 3000 }),
        (ops) => {
          const h = new EventHeap();
          const ref: string[] = [];
          let n = 0;
          let base = 0;
          for (const op of ops) {
            if (op === 'pop') {
              if (!h.size) continue;
              ref.sort();
              const want = ref.shift()!;
              expect(h.minTime()).toBe(Number(want.split('|')[0]));
              h.pop();
              expect(key(h.poppedT, h.poppedEv!.id)).toBe(want);
            } else {
              // mostly rising times (the ring), sometimes behind (the heap)
              base += op.t % 3;
              const t = op.t < 40 ? base : Math.max(0, base - op.t);
              const ev = { id: `${op.id}${n++ % 7}`, time: '' } as AwEvent;
              h.push(t, ev, []);
              ref.push(key(t, ev.id));
            }
            expect(h.size).toBe(ref.length);
          }
          expect(h.sorted().map((e) => key(e.t, e.id))).toEqual([...ref].sort());
        },
      ),
      { numRuns: 200 },
    );
  });
});
