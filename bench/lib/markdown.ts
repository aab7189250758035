// Tiny markdown writer for the generated docs page: tables and number formatting.

export function escapeCell(v: unknown): string {
  return String(v ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = `| ${headers.map(escapeCell).join(' | ')} |`;
  const sep = `|${headers.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${headers.map((_, i) => escapeCell(r[i])).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

/** 3 significant digits, thousands separated for large numbers (1,234,567 → "1,230,000"). */
export function fmt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(Number(n.toPrecision(3))).toLocaleString('en-US');
  return String(Number(n.toPrecision(3)));
}

export function fmtRatio(r: number | null | undefined): string {
  return r === null || r === undefined || !Number.isFinite(r) ? '–' : `${fmt(r)}×`;
}
