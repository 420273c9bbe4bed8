import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { LOOPBACK, SERVICE_DATABASES } from '../config';
import { ensureDir, logFile, pidFile, provisionLog, type Component, type StackContext } from '../context';
import { StackError } from '../errors';
import { run } from '../proc';
import { loadSecrets, readSecrets } from '../secrets';
import { aptInstall, assertInstallable, systemUser } from './toolchain';

const ADMIN = 'postgres';
const secretNames = [ADMIN, ...SERVICE_DATABASES.map((d) => d.database)];

/** The newest Debian PostgreSQL server binaries (/usr/lib/postgresql/<major>/bin). */
export function findPostgresBin(
  root = '/usr/lib/postgresql',
  minimumMajor = 0,
): { major: number; bin: string } | undefined {
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .map(Number)
    .filter((major) => major >= minimumMajor && existsSync(path.join(root, String(major), 'bin', 'postgres')))
    .sort((a, b) => b - a);
  const major = majors[0];
  return major === undefined ? undefined : { major, bin: path.join(root, String(major), 'bin') };
}

/** Builds a connection URL for `user` on the server that `adminUrl` points at. */
export function serviceUrl(adminUrl: string, user: string, password: string, database: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.pathname = `/${database}`;
  return url.toString();
}

export function postgresComponent(ctx: StackContext): Component {
  const cfg = ctx.config.postgres;
  const port = cfg.ports[0] ?? 5432;
  const pkg = ctx.versions.postgresql.debianPackage;
  const server = (): { major: number; bin: string } | undefined =>
    findPostgresBin(undefined, ctx.versions.postgresql.minimumMajor);
  const home = path.join(ctx.paths.stateDir, 'postgres');
  // PostgreSQL refuses to run as root; as root, the server runs as Debian's `postgres` system user.
  const owner = (): { uid: number; gid: number } | undefined => {
    if (!ctx.isRoot) return undefined;
    const user = systemUser('postgres', readFileSync('/etc/passwd', 'utf8'));
    if (!user)
      throw new StackError(
        'The `postgres` system user does not exist.',
        `Reinstall Debian's ${pkg} package.`,
      );
    return user;
  };
  const adminUrl = (): string => {
    if (!cfg.managed) return cfg.address;
    const password = readSecrets(ctx.paths.stateDir)[ADMIN] ?? '';
    return `postgres://${ADMIN}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/postgres`;
  };
  const dirs = (major: number): { data: string; socket: string } => ({
    data: path.join(home, String(major), 'data'),
    socket: path.join(home, String(major), 'socket'),
  });

  return {
    name: 'postgres',
    version: String(server()?.major ?? `${ctx.versions.postgresql.minimumMajor}+`) + ' (Debian)',
    kind: 'server',
    stopSignal: 'SIGINT', // "fast" shutdown: roll back open transactions, then exit
    startTimeoutMs: 30_000,
    async preflight() {
      if (!server()) assertInstallable(ctx, pkg, 'run PostgreSQL');
    },
    async provision() {
      if (!server()) await aptInstall(ctx, pkg, 'run PostgreSQL');
    },
    async prepare() {
      const found = server();
      if (!found)
        throw new StackError(
          'PostgreSQL server binaries were not found after installing them.',
          `Check \`dpkg -L ${pkg}\`.`,
        );
      const { data, socket } = dirs(found.major);
      const secrets = loadSecrets(ctx.paths.stateDir, secretNames);
      if (existsSync(path.join(data, 'PG_VERSION'))) return;
      ensureDir(data);
      ensureDir(socket);
      const user = owner();
      const pwFile = path.join(home, String(found.major), '.initdb-password');
      writeFileSync(pwFile, `${secrets[ADMIN]}\n`, { mode: 0o600 });
      if (user)
        for (const dir of [home, path.join(home, String(found.major)), data, socket, pwFile])
          chownSync(dir, user.uid, user.gid);
      try {
        await ctx.reporter.step(`initialising a PostgreSQL ${found.major} cluster`, () =>
          run(
            path.join(found.bin, 'initdb'),
            [
              '-D',
              data,
              '-U',
              ADMIN,
              '--auth-local=scram-sha-256',
              '--auth-host=scram-sha-256',
              `--pwfile=${pwFile}`,
              '-E',
              'UTF8',
              '--locale=C.UTF-8',
            ],
            { logFile: provisionLog(ctx, 'postgres'), what: 'the PostgreSQL cluster (initdb)', ...user },
          ),
        );
      } catch (error) {
        rmSync(data, { recursive: true, force: true });
        throw error;
      } finally {
        rmSync(pwFile, { force: true });
      }
    },
    launch() {
      const found = server();
      if (!found) throw new StackError('PostgreSQL is not installed.', `Install Debian's ${pkg} package.`);
      const { data, socket } = dirs(found.major);
      return {
        command: path.join(found.bin, 'postgres'),
        args: [
          '-D',
          data,
          '-p',
          String(port),
          '-c',
          `listen_addresses=${LOOPBACK}`,
          '-c',
          `unix_socket_directories=${socket}`,
          '-c',
          'max_connections=300',
        ],
        logFile: logFile(ctx, 'postgres'),
        pidFile: pidFile(ctx, 'postgres'),
        ...owner(),
      };
    },
    async healthy() {
      const client = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 1_500 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async afterStart() {
      // One database and one role per service, each owning its database (docs/architecture.md §2).
      const secrets = loadSecrets(ctx.paths.stateDir, secretNames);
      const client = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5_000 });
      await client.connect();
      try {
        for (const { database } of SERVICE_DATABASES) {
          const role = client.escapeIdentifier(database);
          const password = client.escapeLiteral(secrets[database] ?? '');
          const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [database]);
          await client.query(
            `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN PASSWORD ${password}`,
          );
          const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
          if (!db.rowCount) await client.query(`CREATE DATABASE ${role} OWNER ${role}`);
        }
      } catch (error) {
        throw new StackError(
          `Could not create the per-service databases and roles: ${(error as Error).message}.`,
          cfg.managed
            ? 'Run `npm run stack -- down` and `up` again.'
            : 'Give the DATABASE_URL user CREATEROLE and CREATEDB.',
          { cause: error },
        );
      } finally {
        await client.end();
      }
    },
    exports() {
      const secrets = readSecrets(ctx.paths.stateDir);
      const admin = adminUrl();
      return Object.fromEntries([
        ['DATABASE_URL', admin],
        ...SERVICE_DATABASES.map((d) => [
          d.envVar,
          serviceUrl(admin, d.database, secrets[d.database] ?? '', d.database),
        ]),
      ]);
    },
  };
}
