import { seconds, settings } from './settings';

describe('k6 durations', () => {
  it('are read in seconds', () => {
    expect(seconds('DURATION', '500ms')).toBe(0.5);
    expect(seconds('DURATION', '10s')).toBe(10);
    expect(seconds('DURATION', '1.5m')).toBe(90);
    expect(() => seconds('DURATION', '10')).toThrow('DURATION=10 is not a duration like 10s, 500ms or 1m');
  });
});

describe('settings from the environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('sorts the rates and keeps the targets in their fixed order', () => {
    Object.assign(process.env, { RATES: '3000, 1000,2000', TARGETS: 'gateway,hello-world', DURATION: '5s' });
    expect(settings()).toMatchObject({
      rates: [1000, 2000, 3000],
      durationS: 5,
      targets: ['hello-world', 'gateway'],
    });
  });

  it('refuses rates that are not positive integers and targets it does not know', () => {
    process.env['RATES'] = '1000,0';
    expect(() => settings()).toThrow(/RATES=1000,0 is not a comma-separated list of positive integers/);
    process.env['RATES'] = '1000';
    process.env['TARGETS'] = 'hello-world,nginx';
    expect(() => settings()).toThrow('TARGETS=hello-world,nginx may only name hello-world, gateway');
  });
});
