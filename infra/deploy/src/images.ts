import { build, type Plugin } from 'esbuild';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  SERVICES,
  aptInstall,
  createComponent,
  goBinaryPath,
  provisionLog,
  run,
  type ServiceName,
  type StackContext,
} from '@saga-lab/stack';
import { ensureDocker } from './docker';

const execFileAsync = promisify(execFile);

/** Where a registry cannot be reached the bases are made here (`local`); elsewhere the official ones. */
export type BaseSource = 'local' | 'upstream';

const DEBIAN_SUITE = 'bookworm';
const BASE_PACKAGES = ['tini', 'ca-certificates'];
/**
 * The Debian packages each flavour of runtime adds to the base: one flavour per kind of infrastructure,
 * so PostgreSQL's image does not carry a JVM nor Kafka's a database.
 */
export const FLAVOURS = {
  postgres: ['postgresql-15'],
  redis: ['redis-server', 'redis-tools'],
  jre: ['openjdk-17-jre-headless'],
} as const;
type Flavour = keyof typeof FLAVOURS;

/** One image the project builds: its name and tag, its Dockerfile, and the images it is built FROM. */
export interface ImageSpec {
  readonly name: string;
  readonly tag: string;
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
}

export const imageRef = (image: Pick<ImageSpec, 'name' | 'tag'>): string =>
  `saga-lab/${image.name}:${image.tag}`;

const RUNTIME = 'saga-lab/runtime:bookworm';
const runtimeOf = (flavour: Flavour): string => `saga-lab/runtime-${flavour}:bookworm`;
const NODE_RUNTIME = 'saga-lab/node-runtime:24';
const BASES = ['runtime', 'node-runtime', ...Object.keys(FLAVOURS).map((f) => `runtime-${f}`)];

/**
 * Every image, in build order: the runtime bases (plain, and one per infrastructure flavour) and Node on
 * top, then the infrastructure and the services. Tags are the pinned versions (infra/versions.json, the
 * workspace's package.json), never `latest`.
 */
export function imageSpecs(ctx: StackContext, bases: BaseSource): ImageSpec[] {
  const v = ctx.versions;
  const workspace = (
    JSON.parse(readFileSync(path.join(ctx.paths.repoRoot, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const local = bases === 'local';
  const debian = (flavour?: Flavour): string =>
    local ? `saga-lab/debian${flavour ? `-${flavour}` : ''}:${DEBIAN_SUITE}` : `debian:${DEBIAN_SUITE}-slim`;
  const node = local ? `saga-lab/node:${v.node}` : 'node:24-bookworm-slim';
  const infra = (name: string, tag: string, runtime: string): ImageSpec => ({
    name,
    tag,
    dockerfile: `infra/images/${name}/Dockerfile`,
    buildArgs: { RUNTIME_IMAGE: runtime },
  });
  return [
    {
      name: 'runtime',
      tag: DEBIAN_SUITE,
      dockerfile: 'infra/images/runtime/Dockerfile',
      buildArgs: { DEBIAN_IMAGE: debian() },
    },
    ...(Object.keys(FLAVOURS) as Flavour[]).map((flavour): ImageSpec => ({
      name: `runtime-${flavour}`,
      tag: DEBIAN_SUITE,
      dockerfile: 'infra/images/runtime/Dockerfile',
      buildArgs: { DEBIAN_IMAGE: debian(flavour), PACKAGES: FLAVOURS[flavour].join(' ') },
    })),
    {
      name: 'node-runtime',
      tag: '24',
      dockerfile: 'infra/images/node-runtime/Dockerfile',
      buildArgs: { NODE_IMAGE: node, RUNTIME_IMAGE: RUNTIME },
    },
    infra('postgres', '15', runtimeOf('postgres')),
    infra('redis', '7.0', runtimeOf('redis')),
    infra('kafka', v.kafka.version, runtimeOf('jre')),
    infra('zipkin', v.zipkin, runtimeOf('jre')),
    infra('consul', v.consul, RUNTIME),
    infra('prometheus', v.prometheus, RUNTIME),
    infra('vegeta', v.vegeta, RUNTIME),
    ...SERVICES.map((service): ImageSpec => ({
      name: service,
      tag: workspace,
      dockerfile: `apps/${service}/Dockerfile`,
      buildArgs: { NODE_RUNTIME_IMAGE: NODE_RUNTIME },
    })),
  ];
}

/** The images a deployment runs (not the bases they are built from). */
export const deployedImages = (specs: readonly ImageSpec[]): ImageSpec[] =>
  specs.filter((s) => !BASES.includes(s.name));

export async function docker(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await execFileAsync('docker', [...args], {
    env: env ?? process.env,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

export async function imageExists(ref: string): Promise<boolean> {
  return docker(['image', 'inspect', ref]).then(
    () => true,
    () => false,
  );
}

const stageDir = (ctx: StackContext, name: string): string =>
  path.join(ctx.paths.repoRoot, 'dist', 'images', name);

/**
 * Optional packages the frameworks load on demand inside try/catch (NestJS's other transports and
 * validation packages, Fastify's view engine…): not installed, so left out of the bundle as externals
 * that are never required at run time. Anything else that cannot be resolved is a real error.
 */
const optionalPackages: Plugin = {
  name: 'optional-packages',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind !== 'require-call') return undefined;
      try {
        createRequire(path.join(args.resolveDir, 'index.js')).resolve(args.path);
        return undefined;
      } catch {
        return { path: args.path, external: true };
      }
    });
  },
};

/** Packages with native code stay outside the bundle and are staged beside it (the gateway's argon2). */
const NATIVE: Partial<Record<ServiceName, readonly string[]>> = {
  gateway: ['argon2', '@phc/format', 'node-gyp-build'],
};

/**
 * Bundles each service with esbuild — our code and its npm packages in one file — into
 * dist/images/<service>/, with the native packages it needs staged under node_modules/ (argon2 keeps only
 * its Linux prebuilds: amd64 and arm64, glibc and musl).
 */
export async function stageServices(ctx: StackContext): Promise<void> {
  const root = ctx.paths.repoRoot;
  for (const service of SERVICES) {
    const out = stageDir(ctx, service);
    rmSync(out, { recursive: true, force: true });
    const native = NATIVE[service] ?? [];
    await ctx.reporter.step(`bundling ${service} for its image`, async () => {
      await build({
        entryPoints: [path.join(root, 'apps', service, 'src', 'main.ts')],
        bundle: true,
        platform: 'node',
        target: 'node24',
        tsconfig: path.join(root, 'tsconfig.base.json'),
        external: [...native],
        plugins: [optionalPackages],
        sourcemap: true,
        minifyWhitespace: true,
        legalComments: 'none',
        logLevel: 'silent',
        outfile: path.join(out, 'main.js'),
      });
      for (const pkg of native) {
        const from = path.join(root, 'node_modules', pkg);
        cpSync(from, path.join(out, 'node_modules', pkg), {
          recursive: true,
          filter: (source) => {
            const rel = path.relative(from, source);
            if (rel.startsWith('prebuilds' + path.sep))
              return rel.split(path.sep)[1]?.startsWith('linux-') ?? false;
            return !/^(src|deps|test|docs?)(\/|$)/.test(rel) && !rel.endsWith('.md');
          },
        });
      }
    });
  }
}

/**
 * Stages what the infrastructure images are made of: the same pinned artifacts the local stack runs,
 * provisioned by it (Kafka's jars and Zipkin's from Maven Central; Consul, Prometheus and vegeta built from
 * the Go module proxy) — for the build machine's architecture.
 */
export async function stageInfrastructure(ctx: StackContext): Promise<void> {
  for (const name of ['kafka', 'zipkin', 'consul', 'prometheus', 'vegeta'] as const) {
    const component = createComponent(ctx, name);
    await component.preflight();
    await component.provision();
  }
  const v = ctx.versions;
  const kafkaLibs = path.join(stageDir(ctx, 'kafka'), 'libs');
  rmSync(stageDir(ctx, 'kafka'), { recursive: true, force: true });
  mkdirSync(kafkaLibs, { recursive: true });
  const classpath = readFileSync(
    path.join(ctx.paths.cacheDir, 'kafka', v.kafka.version, 'classpath.txt'),
    'utf8',
  );
  for (const jar of classpath.trim().split(path.delimiter))
    cpSync(jar, path.join(kafkaLibs, path.basename(jar)));

  const zipkinJar = path.join(
    ctx.paths.cacheDir,
    'm2',
    'io',
    'zipkin',
    'zipkin-server',
    v.zipkin,
    `zipkin-server-${v.zipkin}-exec.jar`,
  );
  stage(ctx, 'zipkin', [[zipkinJar, 'zipkin.jar']]);
  stage(ctx, 'consul', [[goBinaryPath(ctx, 'consul', v.consul, 'consul'), 'consul']]);
  stage(ctx, 'prometheus', [
    [goBinaryPath(ctx, 'prometheus', v.prometheus, 'prometheus'), 'prometheus'],
    [goBinaryPath(ctx, 'prometheus', v.prometheus, 'promtool'), 'promtool'],
  ]);
  stage(ctx, 'vegeta', [[goBinaryPath(ctx, 'vegeta', v.vegeta, 'vegeta'), 'vegeta']]);
}

function stage(ctx: StackContext, name: string, files: readonly (readonly [string, string])[]): void {
  const dir = stageDir(ctx, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [from, to] of files) {
    if (!existsSync(from)) throw new Error(`${from} is missing: the stack did not provision ${name}`);
    cpSync(from, path.join(dir, to));
  }
}

/**
 * The bases made without a registry: Debian bookworm from Debian's own packages with debootstrap (a
 * minimal system with tini, and one per flavour with its packages too), imported as images; and an
 * image holding only the Node binary the project runs on. Each is made once; `--rebuild-bases` remakes them.
 */
export async function ensureLocalBases(ctx: StackContext, rebuild = false): Promise<void> {
  const debian = [
    { ref: `saga-lab/debian:${DEBIAN_SUITE}`, packages: BASE_PACKAGES },
    ...Object.entries(FLAVOURS).map(([flavour, packages]) => ({
      ref: `saga-lab/debian-${flavour}:${DEBIAN_SUITE}`,
      packages: [...BASE_PACKAGES, ...packages],
    })),
  ];
  for (const { ref, packages } of debian) {
    if (!rebuild && (await imageExists(ref))) continue;
    await importDebootstrap(ctx, ref, packages);
  }
  const nodeRef = `saga-lab/node:${ctx.versions.node}`;
  if (rebuild || !(await imageExists(nodeRef))) await importNode(ctx, nodeRef);
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

async function importDebootstrap(ctx: StackContext, ref: string, packages: readonly string[]): Promise<void> {
  if (!ctx.isRoot) {
    throw new Error(
      `Making the base image ${ref} needs debootstrap, which runs only as root; run as root, or build with --bases upstream where a registry can be reached.`,
    );
  }
  if (!existsSync('/usr/sbin/debootstrap')) await aptInstall(ctx, 'debootstrap', 'make the base images');
  const arch = ARCH[os.arch()];
  if (!arch) throw new Error(`No Debian architecture for ${os.arch()}`);
  const log = provisionLog(ctx, 'images');
  const rootfs = path.join(ctx.paths.cacheDir, 'images', `rootfs-${ref.replace(/[/:]/g, '-')}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(path.dirname(rootfs), { recursive: true });
  try {
    await ctx.reporter.step(`making ${ref} with debootstrap (${packages.join(', ')})`, async () => {
      await run(
        'debootstrap',
        [
          '--variant=minbase',
          `--arch=${arch}`,
          `--include=${packages.join(',')}`,
          DEBIAN_SUITE,
          rootfs,
          'http://deb.debian.org/debian',
        ],
        { logFile: log, what: `debootstrap ${DEBIAN_SUITE}` },
      );
      // What an image does not need: package caches and lists, manuals, translations, documentation —
      // except each package's copyright file, its licence, which stays with what it covers.
      for (const dir of [
        'var/cache/apt/archives',
        'var/lib/apt/lists',
        'usr/share/man',
        'usr/share/info',
        'usr/share/locale',
        'var/log',
      ])
        for (const entry of readdirSync(path.join(rootfs, dir)))
          if (!(dir === 'var/cache/apt/archives' && entry === 'partial'))
            rmSync(path.join(rootfs, dir, entry), { recursive: true, force: true });
      const docs = path.join(rootfs, 'usr', 'share', 'doc');
      for (const pkg of readdirSync(docs, { withFileTypes: true }).filter((e) => e.isDirectory()))
        for (const entry of readdirSync(path.join(docs, pkg.name)).filter((name) => name !== 'copyright'))
          rmSync(path.join(docs, pkg.name, entry), { recursive: true, force: true });
      await run('bash', ['-c', `tar -C '${rootfs}' -c . | docker import - '${ref}'`], {
        logFile: log,
        what: `docker import ${ref}`,
      });
    });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

async function importNode(ctx: StackContext, ref: string): Promise<void> {
  const staging = path.join(ctx.paths.cacheDir, 'images', 'node-image');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'usr', 'local', 'bin'), { recursive: true });
  // The project's own Node 24 (ADR 1): the binary the bootstrap runs everything with.
  cpSync(process.execPath, path.join(staging, 'usr', 'local', 'bin', 'node'));
  await ctx.reporter.step(`making ${ref} from the project's Node ${process.version}`, () =>
    run('bash', ['-c', `tar -C '${staging}' -c . | docker import - '${ref}'`], {
      logFile: provisionLog(ctx, 'images'),
      what: `docker import ${ref}`,
    }),
  );
  rmSync(staging, { recursive: true, force: true });
}

export interface BuildOptions {
  readonly bases: BaseSource;
  /** Build only these images (and nothing they depend on). */
  readonly only?: readonly string[];
  readonly rebuildBases?: boolean;
}

/** Builds every image: bases, staged artifacts and bundles, then one `docker build` each. */
export async function buildImages(ctx: StackContext, options: BuildOptions): Promise<ImageSpec[]> {
  await ensureDocker(ctx);
  if (options.bases === 'local') await ensureLocalBases(ctx, options.rebuildBases);
  const specs = imageSpecs(ctx, options.bases).filter((s) => !options.only || options.only.includes(s.name));
  if (specs.some((s) => (SERVICES as readonly string[]).includes(s.name))) await stageServices(ctx);
  if (specs.some((s) => ['kafka', 'zipkin', 'consul', 'prometheus', 'vegeta'].includes(s.name)))
    await stageInfrastructure(ctx);
  const log = provisionLog(ctx, 'images');
  for (const spec of specs) {
    const ref = imageRef(spec);
    await ctx.reporter.step(`building ${ref}`, () =>
      run(
        'docker',
        [
          'build',
          '--file',
          spec.dockerfile,
          '--tag',
          ref,
          ...Object.entries(spec.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
          '.',
        ],
        {
          logFile: log,
          what: `docker build ${ref}`,
          cwd: ctx.paths.repoRoot,
          env: { ...ctx.env, DOCKER_BUILDKIT: '0' },
        },
      ).catch((error: unknown) => {
        // The official bases are pulled by the first builds: without a registry, that is where it fails.
        const hint =
          options.bases === 'upstream'
            ? ' If no image registry can be reached from here, build with --bases local instead.'
            : '';
        throw new Error(`Building ${ref} failed (its log: ${log}).${hint}`, { cause: error });
      }),
    );
  }
  return specs;
}

/** Each image's size as the engine reports it (uncompressed, shared layers counted in every image). */
export async function imageSizes(specs: readonly ImageSpec[]): Promise<{ ref: string; bytes: number }[]> {
  const sizes: { ref: string; bytes: number }[] = [];
  for (const spec of specs) {
    const ref = imageRef(spec);
    const out = await docker(['image', 'inspect', '--format', '{{.Size}}', ref]).catch(() => '');
    if (out.trim()) sizes.push({ ref, bytes: Number(out.trim()) });
  }
  return sizes;
}

export const mebibytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
