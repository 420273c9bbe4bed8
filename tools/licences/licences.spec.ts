import path from 'node:path';
import {
  checkLicences,
  classify,
  readExceptions,
  readInstalledPackages,
  type InstalledPackage,
} from './licences';

const root = path.resolve(__dirname, '../..');

describe('classify', () => {
  it.each(['MIT', 'ISC', 'Apache-2.0', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'MPL-2.0', 'Unlicense'])(
    'admits %s',
    (licence) => expect(classify(licence)).toEqual({ ok: true, by: 'allowlist' }),
  );

  it('admits an OR expression when one branch is allowed', () => {
    expect(classify('MIT OR GPL-3.0')).toEqual({ ok: true, by: 'allowlist' });
    expect(classify('(Apache-2.0 OR MPL-1.1)')).toEqual({ ok: true, by: 'allowlist' });
  });

  it('admits an AND expression only when every part is allowed', () => {
    expect(classify('Apache-2.0 AND MIT')).toEqual({ ok: true, by: 'allowlist' });
    expect(classify('MIT AND GPL-3.0')).toEqual({ ok: false, why: 'GPL-3.0 not in the allowlist' });
  });

  it('admits a licence with an added exception or "or later"', () => {
    expect(classify('Apache-2.0 WITH LLVM-exception')).toEqual({ ok: true, by: 'allowlist' });
    expect(classify('MPL-2.0+')).toEqual({ ok: true, by: 'allowlist' });
  });

  it.each(['AGPL-3.0', 'AGPL-3.0-only', 'SSPL-1.0', 'BUSL-1.1', 'MIT AND AGPL-3.0-or-later'])(
    'refuses %s, even with an exception',
    (licence) => {
      const verdict = { ok: false, why: 'not open source or network copyleft; never admitted' };
      expect(classify(licence)).toEqual(verdict);
      expect(classify(licence, { licence, reason: 'we asked nicely' })).toEqual(verdict);
    },
  );

  it('refuses UNLICENSED (no rights granted), unlike the Unlicense', () => {
    expect(classify('UNLICENSED')).toEqual({ ok: false, why: 'UNLICENSED: no rights granted (proprietary)' });
  });

  it('refuses a package that declares nothing, a guessed licence and a custom one', () => {
    expect(classify('UNKNOWN')).toEqual({ ok: false, why: 'no licence declared' });
    expect(classify('MIT*')).toEqual({
      ok: false,
      why: 'guessed from the package files, not declared in its package.json',
    });
    expect(classify('Custom: https://example.com/eula')).toEqual({
      ok: false,
      why: 'a custom licence, not an SPDX expression',
    });
    expect(classify('GPL-2.0')).toEqual({ ok: false, why: 'GPL-2.0 not in the allowlist' });
  });

  it('admits an exception only for exactly the licence it names', () => {
    const exception = {
      licence: 'MIT*',
      reason: 'the LICENSE file is MIT; package.json has no license field',
    };
    expect(classify('MIT*', exception)).toEqual({ ok: true, by: 'exception' });
    expect(classify('Custom: EULA', exception).ok).toBe(false);
  });
});

describe('checkLicences', () => {
  const packages: InstalledPackage[] = [
    { name: 'left-pad', version: '1.3.0', licence: 'WTFPL' },
    { name: 'fine', version: '1.0.0', licence: 'MIT' },
    { name: 'no-field', version: '2.0.0', licence: 'MIT*' },
    { name: '@scope/closed', version: '0.1.0', licence: 'UNLICENSED' },
  ];

  it('names each offending package@version with its licence, and the exceptions that admit nothing', () => {
    const report = checkLicences(packages, {
      'no-field': { licence: 'MIT*', reason: 'LICENSE is MIT' },
      fine: { licence: 'MIT', reason: 'not needed' },
      'left-pad': { licence: 'MIT', reason: 'outdated' },
      gone: { licence: 'ISC', reason: 'was removed' },
    });
    expect(report.offenders).toEqual([
      '@scope/closed@0.1.0: UNLICENSED (UNLICENSED: no rights granted (proprietary))',
      'left-pad@1.3.0: WTFPL (WTFPL not in the allowlist)',
    ]);
    expect(report.admitted).toEqual(['no-field@2.0.0: MIT*']);
    expect(report.staleExceptions).toEqual([
      'fine: no installed version needs an exception for "MIT" (installed: 1.0.0 declares "MIT")',
      'left-pad: no installed version needs an exception for "MIT" (installed: 1.3.0 declares "WTFPL")',
      'gone: no such package is installed',
    ]);
  });

  it('refuses an exception without a reason', () => {
    const exceptions = JSON.parse('{ "no-field": { "licence": "MIT*" } }') as never;
    expect(checkLicences(packages, exceptions).staleExceptions).toEqual([
      'no-field: an exception needs a "licence" and a "reason"',
    ]);
  });
});

describe('the installed npm packages', () => {
  let installed: InstalledPackage[];

  beforeAll(async () => {
    installed = await readInstalledPackages(root);
  }, 60_000);

  it('are the whole tree: production and development, transitive, without the project itself', () => {
    const names = new Set(installed.map((pkg) => pkg.name));
    expect(names.has('saga-lab')).toBe(false);
    for (const name of ['kafkajs', 'typeorm', 'jest', 'nx', 'license-checker-rseidelsohn', 'pg-protocol']) {
      expect(names).toContain(name);
    }
  });

  it('are all open source: allowlisted, or admitted by tools/licences/exceptions.json', () => {
    const report = checkLicences(installed, readExceptions(path.join(__dirname, 'exceptions.json')));
    expect({ offenders: report.offenders, staleExceptions: report.staleExceptions }).toEqual({
      offenders: [],
      staleExceptions: [],
    });
  });
});
