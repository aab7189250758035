// Kept for callers that still start the baseline through tsx (`node --import tsx
// bench/lib/bare-parse.ts FILE [json|nginx]`): the baseline itself is bare-parse.mjs, which the
// CLI figures start with plain node, the way the compiled CLI starts.
import './bare-parse.mjs';
