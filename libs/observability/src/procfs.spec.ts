import { spawn } from 'node:child_process';
import net from 'node:net';
import {
  listenerPids,
  parseListeningInodes,
  parseMachineCpu,
  parseProcessStat,
  processIds,
  readProcessStat,
} from './procfs';

// Samples shaped like a 6.x kernel's files; utime and stime are fields 14 and 15, pgrp field 5.
const stat = (name: string, state = 'S'): string =>
  `4242 (${name}) ${state} 1 4240 4240 0 -1 4194304 103 0 0 0 157 23 0 0 20 0 1 0 133538 3133440 389 ` +
  '18446744073709551615 94505744642048 94505744661929 140723111181376 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n';

describe('/proc/<pid>/stat', () => {
  it('gives the state, the process group and the CPU ticks in user and kernel mode', () => {
    expect(parseProcessStat(stat('node'))).toEqual({ state: 'S', pgrp: 4240, utime: 157, stime: 23 });
  });

  it('counts fields from the last parenthesis, whatever the program calls itself', () => {
    expect(parseProcessStat(stat('a) R 1 2 (b', 'Z'))).toEqual({
      state: 'Z',
      pgrp: 4240,
      utime: 157,
      stime: 23,
    });
    expect(parseProcessStat(stat('tmux: server 1 2 3')).pgrp).toBe(4240);
  });

  it('refuses text that is not a stat line rather than reading zeros', () => {
    expect(() => parseProcessStat('')).toThrow(/not a \/proc\/<pid>\/stat line/);
    expect(() => parseProcessStat('4242 node S 1 4240')).toThrow(/not a \/proc\/<pid>\/stat line/);
    expect(() => parseProcessStat('4242 (node) S 1 4240 4240 0')).toThrow(/stat line/);
  });

  it('reads a live process, and nothing for one that is gone', async () => {
    const child = spawn('sleep', ['30'], { detached: true });
    const pid = child.pid ?? -1;
    try {
      expect(processIds()).toContain(pid);
      expect(readProcessStat(pid)).toMatchObject({ state: expect.stringMatching(/^[RSD]$/), pgrp: pid });
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(readProcessStat(pid)).toBeUndefined();
  });
});

describe('/proc/stat', () => {
  it('counts user, nice, system, irq, softirq and steal as busy; idle and I/O wait as not', () => {
    const text =
      'cpu  162268 10 43273 56549 1321 5 832 217 0 0\ncpu0 81134 5 21636 28274 660 2 416 108 0 0\n';
    const busy = 162268 + 10 + 43273 + 5 + 832 + 217;
    expect(parseMachineCpu(text)).toEqual({ busy, total: busy + 56549 + 1321 });
  });
});

describe('/proc/net/tcp', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0 100 0 0 10 0',
    '   1: 0100007F:0BB8 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0 20 4 30 10 -1',
    '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 22222 1 0 100 0 0 10 0',
    '',
  ].join('\n');

  it('finds only the sockets listening on the port (state 0A), not its connections', () => {
    expect(parseListeningInodes(table, 3000)).toEqual(['12345']);
    expect(parseListeningInodes(table, 8080)).toEqual(['22222']);
    expect(parseListeningInodes(table, 9999)).toEqual([]);
  });

  it('finds this process behind a port it listens on', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      expect(listenerPids(port)).toEqual([process.pid]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
