import { randomUUID } from 'node:crypto';
import type { RequestTemplate } from './scenario';

/** A request as the generator sends it. */
export interface LoadRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

const PLACEHOLDER = /\{\{(uuid|n|var:[A-Za-z0-9_]+|pick:[A-Za-z0-9_]+|key:[A-Za-z0-9_-]+:\d+)\}\}/g;

/** Every placeholder a template uses (the k6 export lists the variables; the runner checks them). */
export function placeholders(template: RequestTemplate): string[] {
  const texts = [template.url, ...Object.values(template.headers ?? {}), template.body ?? ''];
  return [...new Set(texts.flatMap((text) => [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string)))];
}

/** Whether every request is the same (then the generator cycles one fixed list instead of a stream). */
export function isPerRequest(template: RequestTemplate): boolean {
  return placeholders(template).some((p) => p === 'uuid' || p === 'n');
}

/**
 * How many distinct requests a template without per-request data cycles through: the least common multiple
 * of its pick lists' lengths and key counts.
 */
export function period(template: RequestTemplate, vars: Readonly<Record<string, string>>): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return placeholders(template).reduce((acc, p) => {
    const size = p.startsWith('pick:')
      ? listOf(vars, p.slice(5)).length
      : p.startsWith('key:')
        ? Number(p.split(':')[2])
        : 1;
    return (acc * size) / gcd(acc, size);
  }, 1);
}

function listOf(vars: Readonly<Record<string, string>>, name: string): string[] {
  const value = vars[name];
  if (value === undefined)
    throw new Error(`the scenario uses {{pick:${name}}}, but its preparation gave no ${name}`);
  const list = value.split(',').filter((item) => item.length > 0);
  if (list.length === 0) throw new Error(`the list ${name} is empty`);
  return list;
}

/** Compiles a template into the function that renders its n-th request; unknown variables fail here. */
export function compile(
  template: RequestTemplate,
  vars: Readonly<Record<string, string>>,
): (n: number) => LoadRequest {
  const lists = new Map<string, string[]>();
  for (const p of placeholders(template)) {
    if (p.startsWith('var:') && vars[p.slice(4)] === undefined)
      throw new Error(`the scenario uses {{${p}}}, but its preparation gave no ${p.slice(4)}`);
    if (p.startsWith('pick:')) lists.set(p.slice(5), listOf(vars, p.slice(5)));
  }
  const render = (text: string, n: number): string =>
    text.includes('{{')
      ? text.replace(PLACEHOLDER, (_all, p: string) => {
          if (p === 'uuid') return randomUUID();
          if (p === 'n') return String(n);
          if (p.startsWith('var:')) return vars[p.slice(4)] as string;
          if (p.startsWith('pick:')) {
            const list = lists.get(p.slice(5)) as string[];
            return list[n % list.length] as string;
          }
          const [, name, count] = p.split(':');
          return `${name}-${n % Number(count)}`;
        })
      : text;
  const headerEntries = Object.entries(template.headers ?? {});
  return (n) => ({
    method: template.method,
    url: render(template.url, n),
    headers: Object.fromEntries(headerEntries.map(([k, v]) => [k, render(v, n)])),
    ...(template.body === undefined ? {} : { body: render(template.body, n) }),
  });
}
