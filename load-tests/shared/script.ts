/** A variable the stack exports (`npm run load:*` runs through `stack exec`): its absence is a usage error. */
export function required(name: string, hint: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: ${hint}`);
  return value;
}

/** Runs a script's main: a failure is one line on stderr and exit code 1, not a stack trace. */
export function runScript(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
