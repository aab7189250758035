// Types for bin/dist-freshness.js (plain JS: it runs before any compiler is loaded).
export declare const STAMP_FILE: string;
export declare function sourceFingerprint(root: string): string;
export declare function distIsFresh(root: string): boolean;
