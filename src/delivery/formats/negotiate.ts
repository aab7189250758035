// Picks the alert representation from ?format= (wins) or the Accept header.
export const ALERT_FORMATS = ['json', 'ndjson', 'ocsf', 'ecs', 'cef'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export const FORMAT_CONTENT_TYPE: Record<AlertFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  ocsf: 'application/ocsf+json; charset=utf-8',
  ecs: 'application/ecs+json; charset=utf-8',
  cef: 'text/cef; charset=utf-8',
};

const ACCEPT_MAP: Array<[RegExp, AlertFormat]> = [
  [/^application\/ocsf\+json$/, 'ocsf'],
  [/^application\/ecs\+json$/, 'ecs'],
  [/^(text|application)\/cef$/, 'cef'],
  [/^application\/(x-)?ndjson$/, 'ndjson'],
  [/^application\/json$/, 'json'],
];

export function pickFormat(query: string | undefined, accept: string | undefined): AlertFormat {
  if (query) return query as AlertFormat; // validated by the route's query schema
  if (!accept) return 'json';
  // First listed supported type wins (q-values are rare among SIEM clients; order is honoured).
  for (const part of accept.split(',')) {
    const type = part.split(';')[0].trim().toLowerCase();
    for (const [re, f] of ACCEPT_MAP) if (re.test(type)) return f;
  }
  return 'json';
}
