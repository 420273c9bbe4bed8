/**
 * Reads an endpoint that `npm test` exports from the running stack. A test run outside `npm test` gets
 * one sentence on how to provide it instead of a connection error deep inside a client library.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new Error(
      `${name} is not set. Run the tests with \`npm test\` (it starts the stack and exports it), ` +
        `or export it yourself: eval "$(npm run -s stack -- env)".`,
    );
  }
  return value;
}
