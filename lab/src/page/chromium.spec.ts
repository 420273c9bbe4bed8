import { DEBIAN_CHROMIUM, ensureChromium, type ChromiumHost } from './chromium';

/** A machine with the given files and apt-get answers, recording the commands run. */
function machine(options: {
  files: string[];
  root?: boolean;
  answers?: { code: number; output: string; installs?: boolean }[];
}): ChromiumHost & { commands: string[] } {
  const files = new Set(options.files);
  const answers = [...(options.answers ?? [])];
  const commands: string[] = [];
  return {
    commands,
    executable: (path) => files.has(path),
    isRoot: () => options.root ?? true,
    run(command, args) {
      commands.push([command, ...args].join(' '));
      const answer = answers.shift() ?? { code: 1, output: 'unexpected command' };
      if (answer.installs) files.add(DEBIAN_CHROMIUM);
      return Promise.resolve({ code: answer.code, output: answer.output });
    },
  };
}

const INSTALL = '/usr/bin/apt-get install -y --no-install-recommends chromium';

describe('ensureChromium', () => {
  it("uses Debian's chromium when it is there, running nothing", async () => {
    const host = machine({ files: [DEBIAN_CHROMIUM] });
    await expect(ensureChromium(host)).resolves.toEqual({ path: DEBIAN_CHROMIUM });
    expect(host.commands).toEqual([]);
  });

  it('installs it with apt-get as root, without updating the lists first', async () => {
    const host = machine({ files: ['/usr/bin/apt-get'], answers: [{ code: 0, output: '', installs: true }] });
    await expect(ensureChromium(host)).resolves.toEqual({ path: DEBIAN_CHROMIUM });
    expect(host.commands).toEqual([INSTALL]);
  });

  it('updates the package lists only when the install fails for want of them', async () => {
    const host = machine({
      files: ['/usr/bin/apt-get'],
      answers: [
        { code: 100, output: 'E: Unable to locate package chromium' },
        { code: 0, output: '' },
        { code: 0, output: '', installs: true },
      ],
    });
    await expect(ensureChromium(host)).resolves.toEqual({ path: DEBIAN_CHROMIUM });
    expect(host.commands).toEqual([INSTALL, '/usr/bin/apt-get update', INSTALL]);
  });

  it('skips, saying why, when the install fails for another reason', async () => {
    const host = machine({
      files: ['/usr/bin/apt-get'],
      answers: [{ code: 100, output: 'E: Could not get lock /var/lib/dpkg/lock-frontend' }],
    });
    await expect(ensureChromium(host)).resolves.toEqual({
      skip: expect.stringContaining('Could not get lock'),
    });
    expect(host.commands).toEqual([INSTALL]);
  });

  it('skips without root or without apt-get, and never fetches a browser elsewhere', async () => {
    const notRoot = machine({ files: ['/usr/bin/apt-get'], root: false });
    await expect(ensureChromium(notRoot)).resolves.toEqual({ skip: expect.stringContaining('needs root') });
    const noApt = machine({ files: [] });
    await expect(ensureChromium(noApt)).resolves.toEqual({ skip: expect.stringContaining('no apt-get') });
    expect([...notRoot.commands, ...noApt.commands]).toEqual([]);
  });
});
