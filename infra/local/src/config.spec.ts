import { COMPONENTS, parseRecordedEnv, resolveStackConfig, selectComponents, DEPLOY_TOOLS } from './config';
import { StackError } from './errors';

describe('resolveStackConfig', () => {
  it('gives the test profile every port 10000 up, and reads only SAGA_LAB_TEST_* overrides', () => {
    const user = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };
    const config = resolveStackConfig({ ...user, SAGA_LAB_PROFILE: 'test' });
    expect(config.kafka).toMatchObject({
      managed: true,
      address: '127.0.0.1:19092',
      ports: [19092, 19093, 19094],
      proxyPorts: [19095],
    });
    expect(config.consul.ports).toEqual([18500, 18300, 18301, 18302, 18502, 18503, 18600]);
    expect(config.redis.address).toBe('redis://127.0.0.1:16379');
    const external = resolveStackConfig({
      SAGA_LAB_PROFILE: 'test',
      SAGA_LAB_TEST_REDIS_URL: 'redis://10.1.1.1:6379',
    });
    expect(external.redis).toMatchObject({ managed: false, envVar: 'SAGA_LAB_TEST_REDIS_URL', ports: [] });
  });

  it('provisions every component on loopback when the environment names none', () => {
    const config = resolveStackConfig({});
    for (const name of COMPONENTS) expect(config[name].managed).toBe(true);
    expect(config.kafka.address).toBe('127.0.0.1:9092');
    expect(config.redis.address).toBe('redis://127.0.0.1:6379');
    expect(config.consul.address).toBe('127.0.0.1:8500');
    expect(config.zipkin.address).toBe('http://127.0.0.1:9411');
    expect(config.kafka.ports).toEqual([9092, 9093, 9094]);
    expect(config.kafka.proxyPorts).toEqual([9095]);
  });

  it('leaves a component alone when its address comes from the environment', () => {
    const config = resolveStackConfig({
      KAFKA_BROKERS: 'broker-a:9092, broker-b:9092',
      DATABASE_URL: 'postgres://admin:secret@db.internal:5432/postgres',
      REDIS_URL: 'redis://cache:6379/',
      CONSUL_HTTP_ADDR: 'http://consul:8500',
      ZIPKIN_URL: 'http://zipkin:9411',
    });
    expect(config.kafka).toMatchObject({
      managed: false,
      address: 'broker-a:9092,broker-b:9092',
      ports: [],
      proxyPorts: [],
    });
    expect(config.postgres).toMatchObject({
      managed: false,
      address: 'postgres://admin:secret@db.internal:5432/postgres',
    });
    expect(config.redis).toMatchObject({ managed: false, address: 'redis://cache:6379' });
    expect(config.consul.managed).toBe(false);
    expect(config.zipkin.managed).toBe(false);
    expect(config.toxiproxy.managed).toBe(true);
  });

  it('takes a tool’s binary from the environment as an absolute path, and then does not provision it', () => {
    const config = resolveStackConfig({ VEGETA_BIN: '/opt/vegeta/bin/vegeta' });
    expect(config.vegeta).toMatchObject({ managed: false, address: '/opt/vegeta/bin/vegeta', ports: [] });
    expect(config.schemathesis.managed).toBe(true);
    expect(resolveStackConfig({}).vegeta).toMatchObject({ managed: true, envVar: 'VEGETA_BIN', ports: [] });
  });

  it('keeps a component managed when the variable holds the stack’s own address (an exported `stack env`)', () => {
    const exported = {
      KAFKA_BROKERS: '127.0.0.1:9092',
      REDIS_URL: 'redis://127.0.0.1:6379/',
      CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500',
      ORDER_URL: 'http://127.0.0.1:3001',
      DATABASE_URL: 'postgres://postgres:s3cr3t@127.0.0.1:5432/postgres',
    };
    // The admin URL carries a generated password: only what `up` recorded in <state>/stack.env knows it.
    const recorded = { DATABASE_URL: 'postgres://postgres:s3cr3t@127.0.0.1:5432/postgres' };
    const config = resolveStackConfig(exported, recorded);
    for (const name of ['kafka', 'redis', 'consul', 'order', 'postgres'] as const)
      expect(config[name].managed).toBe(true);
    expect(config.order).toMatchObject({ address: 'http://127.0.0.1:3001', ports: [3001] });
    expect(config.kafka.ports).toEqual([9092, 9093, 9094]);
    expect(resolveStackConfig(exported).postgres.managed).toBe(false); // nothing recorded: not provably ours
  });

  it('counts another address of a component as external, even a loopback one', () => {
    const config = resolveStackConfig(
      { ORDER_URL: 'http://127.0.0.1:3999', KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.1:9094' },
      { ORDER_URL: 'http://127.0.0.1:3001' },
    );
    expect(config.order).toMatchObject({ managed: false, ports: [] });
    expect(config.kafka).toMatchObject({ managed: false, ports: [], proxyPorts: [] });
  });

  it('in the test profile, recognises the test stack’s own addresses (ports + 10000)', () => {
    const test = { SAGA_LAB_PROFILE: 'test' };
    expect(
      resolveStackConfig({ ...test, SAGA_LAB_TEST_ORDER_URL: 'http://127.0.0.1:13001' }).order.managed,
    ).toBe(true);
    expect(
      resolveStackConfig({ ...test, SAGA_LAB_TEST_ORDER_URL: 'http://127.0.0.1:3001' }).order.managed,
    ).toBe(false);
  });

  it.each([
    ['KAFKA_BROKERS', 'localhost', /KAFKA_BROKERS="localhost" is not a comma-separated host:port list/],
    [
      'DATABASE_URL',
      'mysql://x@y/z',
      /DATABASE_URL="mysql:\/\/x@y\/z" is not a postgres: or postgresql: URL/,
    ],
    ['REDIS_URL', 'not a url', /REDIS_URL="not a url" is not a URL/],
    ['CONSUL_HTTP_ADDR', 'consul', /CONSUL_HTTP_ADDR="consul" is not host:port/],
    ['SCHEMATHESIS_BIN', 'st', /SCHEMATHESIS_BIN="st" is not an absolute path to a schemathesis binary/],
    ['VEGETA_BIN', 'bin/vegeta', /VEGETA_BIN="bin\/vegeta" is not an absolute path to a vegeta binary/],
  ])('rejects %s=%s with a sentence naming the variable', (name, value, message) => {
    let error: unknown;
    try {
      resolveStackConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toMatch(message);
    expect((error as StackError).fix).toBe(`Fix or unset ${name}.`);
  });
});

describe('parseRecordedEnv', () => {
  it('reads the KEY=value lines up writes, values kept whole', () => {
    expect(parseRecordedEnv('A_URL=postgres://u:p=w@h:1/d\nB=1\n\n# comment\nlower=x\n')).toEqual({
      A_URL: 'postgres://u:p=w@h:1/d',
      B: '1',
    });
  });
});

describe('selectComponents', () => {
  it('selects everything but the deploy tools by default, in start order', () => {
    expect(selectComponents([])).toEqual(
      COMPONENTS.filter((c) => !(DEPLOY_TOOLS as readonly string[]).includes(c)),
    );
    expect(selectComponents(['compose'])).toEqual(['compose']);
  });

  it('keeps start order whatever order they were named in', () => {
    expect(selectComponents(['zipkin', 'postgres'])).toEqual(['postgres', 'zipkin']);
  });

  it('names the valid components when given an unknown one', () => {
    expect(() => selectComponents(['kafak'])).toThrow('Unknown component: kafak.');
  });
});
