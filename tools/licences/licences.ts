// The rule "every npm dependency is open source", as code. Every installed package (production and
// development, transitive) must declare an SPDX expression that the allowlist below satisfies, or be listed
// in exceptions.json with the reason it is acceptable. docs/licences.md describes the rule.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { init } from 'license-checker-rseidelsohn';
import parseSpdx from 'spdx-expression-parse';

/** OSI-approved licences that need no review. Anything else fails unless exceptions.json admits it. */
export const ALLOWED_LICENCES: ReadonlySet<string> = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'ISC',
  'MIT',
  'MPL-2.0',
  'Python-2.0',
  'Unlicense', // the public-domain dedication; not to be confused with "UNLICENSED" (no rights granted)
]);

/**
 * Licences no exception can admit: network copyleft (AGPL) and source-available licences that are not open
 * source (SSPL, the Business Source License, Redis's RSAL, Elastic's, the Commons Clause).
 */
const NEVER =
  /\b(AGPL|SSPL|BUSL|RSAL)|Business Source|Server Side Public|Redis Source Available|\bElastic-|Commons Clause/i;

export interface LicenceException {
  /** Exactly what the package declares (as the checker reports it), e.g. "MIT*" or "CC-BY-4.0". */
  licence: string;
  /** Why it is acceptable all the same. */
  reason: string;
}

export type Exceptions = Record<string, LicenceException>;

export interface InstalledPackage {
  name: string;
  version: string;
  /** The declared licence: an SPDX expression when the package is well behaved. */
  licence: string;
}

export type Verdict = { ok: true; by: 'allowlist' | 'exception' } | { ok: false; why: string };

function satisfied(node: parseSpdx.Node): boolean {
  if ('conjunction' in node) {
    return node.conjunction === 'or'
      ? satisfied(node.left) || satisfied(node.right)
      : satisfied(node.left) && satisfied(node.right);
  }
  // "+" (or any later version) and "WITH <exception>" only widen what the licence grants.
  return ALLOWED_LICENCES.has(node.license);
}

function leaves(node: parseSpdx.Node): string[] {
  return 'conjunction' in node ? [...leaves(node.left), ...leaves(node.right)] : [node.license];
}

function parse(licence: string): parseSpdx.Node | undefined {
  try {
    return parseSpdx(licence);
  } catch {
    return undefined;
  }
}

/** Whether a package declaring `licence` may be installed; `exception` is its entry in exceptions.json. */
export function classify(licence: string, exception?: LicenceException): Verdict {
  const tree = parse(licence);
  if (tree && satisfied(tree)) return { ok: true, by: 'allowlist' };
  if (NEVER.test(licence)) return { ok: false, why: 'not open source or network copyleft; never admitted' };
  if (exception && exception.licence === licence) return { ok: true, by: 'exception' };
  if (tree) {
    const outside = [...new Set(leaves(tree).filter((id) => !ALLOWED_LICENCES.has(id)))];
    return { ok: false, why: `${outside.join(', ')} not in the allowlist` };
  }
  if (/^(UNKNOWN|Undefined)?$/.test(licence)) return { ok: false, why: 'no licence declared' };
  if (licence === 'UNLICENSED') return { ok: false, why: 'UNLICENSED: no rights granted (proprietary)' };
  if (licence.endsWith('*')) {
    return { ok: false, why: 'guessed from the package files, not declared in its package.json' };
  }
  return { ok: false, why: 'a custom licence, not an SPDX expression' };
}

export interface LicenceReport {
  /** "name@version: licence (why)" for every package that may not be installed. */
  offenders: string[];
  /** Entries of exceptions.json that are malformed or admit no installed package. */
  staleExceptions: string[];
  /** "name@version: licence" for every package admitted by an exception. */
  admitted: string[];
}

export function checkLicences(packages: readonly InstalledPackage[], exceptions: Exceptions): LicenceReport {
  const report: LicenceReport = { offenders: [], staleExceptions: [], admitted: [] };
  const used = new Set<string>();
  for (const pkg of [...packages].sort((a, b) => a.name.localeCompare(b.name))) {
    const verdict = classify(
      pkg.licence,
      Object.hasOwn(exceptions, pkg.name) ? exceptions[pkg.name] : undefined,
    );
    if (!verdict.ok) {
      report.offenders.push(`${pkg.name}@${pkg.version}: ${pkg.licence} (${verdict.why})`);
    } else if (verdict.by === 'exception') {
      used.add(pkg.name);
      report.admitted.push(`${pkg.name}@${pkg.version}: ${pkg.licence}`);
    }
  }
  for (const [name, exception] of Object.entries(exceptions)) {
    if (
      typeof exception?.licence !== 'string' ||
      typeof exception.reason !== 'string' ||
      !exception.reason.trim()
    ) {
      report.staleExceptions.push(`${name}: an exception needs a "licence" and a "reason"`);
    } else if (!used.has(name)) {
      const installed = packages.filter((pkg) => pkg.name === name);
      report.staleExceptions.push(
        installed.length === 0
          ? `${name}: no such package is installed`
          : `${name}: no installed version needs an exception for "${exception.licence}" (installed: ${installed
              .map((pkg) => `${pkg.version} declares "${pkg.licence}"`)
              .join(', ')})`,
      );
    }
  }
  return report;
}

/** A licence as one string: the checker reports the old `licenses: [...]` field as a list (a choice). */
function declared(licences: string | string[] | undefined): string {
  if (licences === undefined || licences.length === 0) return 'UNKNOWN';
  if (typeof licences === 'string') return licences;
  return licences.length === 1 ? licences[0] : licences.map((licence) => `(${licence})`).join(' OR ');
}

/** Every package installed under `root`'s node_modules (all dependency types, transitive), `root` itself excluded. */
export function readInstalledPackages(root: string): Promise<InstalledPackage[]> {
  const self = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return new Promise((resolve, reject) => {
    init({ start: root, excludePackages: `${self.name}@${self.version}` }, (error, infos) => {
      if (error) {
        reject(error);
        return;
      }
      resolve(
        Object.entries(infos).map(([id, info]) => {
          const at = id.lastIndexOf('@');
          return { name: id.slice(0, at), version: id.slice(at + 1), licence: declared(info.licenses) };
        }),
      );
    });
  });
}

export function readExceptions(file: string): Exceptions {
  return JSON.parse(readFileSync(file, 'utf8')) as Exceptions;
}
