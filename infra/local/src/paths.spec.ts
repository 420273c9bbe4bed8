import { resolvePaths } from './paths';

describe('resolvePaths', () => {
  it("keeps the test profile's state in a folder of its own inside the user's", () => {
    const paths = resolvePaths(
      { SAGA_LAB_PROFILE: 'test', SAGA_LAB_STATE_DIR: '/s' },
      1000,
      '/home/u',
      '/repo',
    );
    expect(paths.stateDir).toBe('/s/test');
    expect(paths.runDir).toBe('/s/test/run');
  });

  it('uses the XDG cache and state directories of a normal user', () => {
    const paths = resolvePaths({}, 1000, '/home/ada', '/repo');
    expect(paths.cacheDir).toBe('/home/ada/.cache/saga-lab');
    expect(paths.stateDir).toBe('/home/ada/.local/state/saga-lab');
    expect(paths.logDir).toBe('/home/ada/.local/state/saga-lab/logs');
    expect(paths.runDir).toBe('/home/ada/.local/state/saga-lab/run');
  });

  it('honours XDG_CACHE_HOME and XDG_STATE_HOME', () => {
    const paths = resolvePaths({ XDG_CACHE_HOME: '/c', XDG_STATE_HOME: '/s' }, 1000, '/home/ada', '/repo');
    expect(paths.cacheDir).toBe('/c/saga-lab');
    expect(paths.stateDir).toBe('/s/saga-lab');
  });

  it("keeps root's state where the postgres system user can reach it", () => {
    const paths = resolvePaths({}, 0, '/root', '/repo');
    expect(paths.cacheDir).toBe('/root/.cache/saga-lab');
    expect(paths.stateDir).toBe('/var/lib/saga-lab');
  });

  it('lets explicit directories win', () => {
    const paths = resolvePaths(
      { SAGA_LAB_CACHE_DIR: '/x/cache', SAGA_LAB_STATE_DIR: '/x/state' },
      0,
      '/root',
      '/repo',
    );
    expect(paths).toMatchObject({ cacheDir: '/x/cache', stateDir: '/x/state' });
  });
});
