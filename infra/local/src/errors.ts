/**
 * A failure of the stack command: one sentence saying what went wrong and one naming the fix.
 * The CLI prints both and exits non-zero; nothing else is printed for an expected failure.
 */
export class StackError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StackError';
  }

  override toString(): string {
    return `${this.message} ${this.fix}`;
  }
}

export const toolMissing = (tool: string, neededFor: string, install: string): StackError =>
  new StackError(
    `\`${tool}\` was not found on PATH; it is needed to ${neededFor}.`,
    `Install it (${install}) and run the command again.`,
  );

export const portTaken = (port: number, component: string, envVar?: string): StackError =>
  new StackError(
    `Port ${port} on 127.0.0.1, needed by ${component}, is already in use by another process.`,
    envVar
      ? `Stop that process, or point ${envVar} at the ${component} already running there so it is not provisioned.`
      : `Stop that process and run the command again.`,
  );

export const downloadFailed = (what: string, logFile: string, tail: string): StackError =>
  new StackError(
    `Could not download or build ${what} (log: ${logFile}).${tail ? `\n${indent(tail)}` : ''}`,
    'Check that the package registry is reachable (proxy settings, disk space), then run the command again; finished downloads are cached.',
  );

export const startFailed = (component: string, reason: string, logFile: string, tail: string): StackError =>
  new StackError(
    `${component} did not become healthy: ${reason} (log: ${logFile}).${tail ? `\n${indent(tail)}` : ''}`,
    `Read the log above, fix the cause, then run \`npm run stack -- up\` again.`,
  );

export const badEnv = (name: string, value: string, expected: string): StackError =>
  new StackError(`${name}=${JSON.stringify(value)} is not ${expected}.`, `Fix or unset ${name}.`);

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
