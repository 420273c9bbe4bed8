import path from 'node:path';
import { createComponent, createContext, type StackContext } from '@saga-lab/stack';
import { compose, writeComposeEnv, type ComposeProject } from './compose';
import { ensureDocker } from './docker';
import { buildImages, deployedImages, imageExists, imageRef, imageSpecs, type BaseSource } from './images';

const USAGE = `npm run compose -- up [--bases upstream|local] [--build]   build missing images, start, wait until healthy
npm run compose -- down                                     stop; remove containers, network and volumes
npm run compose -- ps                                       what runs`;

/** The Compose v2 the stack builds, unless the environment names one (the stack's own, or the user's). */
async function withCompose(ctx: StackContext): Promise<StackContext> {
  if (ctx.env['DOCKER_COMPOSE_BIN']) return ctx;
  const component = createComponent(ctx, 'compose');
  await component.preflight();
  await component.provision();
  return { ...ctx, env: { ...ctx.env, ...component.exports() } };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!['up', 'down', 'ps'].includes(command ?? '')) {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === 'help' ? 0 : 2;
  }
  const ctx = await withCompose(createContext(process.env));
  const at = args.indexOf('--bases');
  const bases = (at >= 0 ? args[at + 1] : (process.env['SAGA_LAB_IMAGE_BASES'] ?? 'upstream')) as BaseSource;
  const project: ComposeProject = {
    name: 'saga-lab',
    envFile: path.join(ctx.paths.repoRoot, 'infra', 'compose', '.env'),
    // Beside a running `npm start` stack, which holds 3000, 9411 and 9090 on loopback.
    ports: { gateway: 8080, zipkin: 8411, prometheus: 8090 },
  };
  if (command === 'up') {
    await ensureDocker(ctx);
    const missing = [];
    for (const spec of deployedImages(imageSpecs(ctx, bases)))
      if (!(await imageExists(imageRef(spec)))) missing.push(spec.name);
    if (missing.length > 0 || args.includes('--build')) await buildImages(ctx, { bases });
    const secrets = writeComposeEnv(project.envFile);
    await ctx.reporter.step('starting the compose deployment (waiting for every health check)', () =>
      compose(ctx, project, ['up', '--detach', '--wait', '--wait-timeout', '300']),
    );
    process.stdout.write(
      [
        '',
        `Gateway     http://127.0.0.1:${project.ports.gateway}   (API docs: /docs)`,
        `Zipkin      http://127.0.0.1:${project.ports.zipkin}/zipkin/`,
        `Prometheus  http://127.0.0.1:${project.ports.prometheus}`,
        `Demo user   ${secrets.demoUser} / ${secrets.demoPassword}   (all secrets: infra/compose/.env)`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  if (command === 'down') {
    process.stdout.write(
      await compose(ctx, project, ['down', '--volumes', '--remove-orphans', '--timeout', '20']),
    );
    return 0;
  }
  process.stdout.write(await compose(ctx, project, ['ps']));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`✗ ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
