// Placeholder until the owning issue lands: says so plainly instead of pretending.
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('authwatch rules: not implemented yet\n');
  return 1;
}
