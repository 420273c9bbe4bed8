import { createContext } from '@saga-lab/stack';
import { buildImages, deployedImages, imageSizes, imageSpecs, mebibytes, type BaseSource } from './images';

const USAGE = `npm run images -- build [--bases upstream|local] [--only name,...] [--rebuild-bases]
npm run images -- sizes [--bases upstream|local]

  --bases upstream  FROM the official debian:bookworm-slim and node:24-bookworm-slim (needs a registry; the default)
  --bases local     bases made here from Debian's packages with debootstrap (no registry; root on Debian)
                    (SAGA_LAB_IMAGE_BASES sets the default)`;

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const ctx = createContext(process.env);
  const bases = (option(args, '--bases') ?? process.env['SAGA_LAB_IMAGE_BASES'] ?? 'upstream') as BaseSource;
  if (bases !== 'upstream' && bases !== 'local') {
    process.stderr.write(`--bases is upstream or local, not ${bases}\n${USAGE}\n`);
    return 2;
  }
  if (command === 'build') {
    const only = option(args, '--only')?.split(',');
    const built = await buildImages(ctx, {
      bases,
      ...(only ? { only } : {}),
      rebuildBases: args.includes('--rebuild-bases'),
    });
    for (const { ref, bytes } of await imageSizes(built))
      process.stdout.write(`${ref.padEnd(36)} ${mebibytes(bytes)}\n`);
    return 0;
  }
  if (command === 'sizes') {
    for (const { ref, bytes } of await imageSizes(deployedImages(imageSpecs(ctx, bases))))
      process.stdout.write(`${ref.padEnd(36)} ${mebibytes(bytes)}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`✗ ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
