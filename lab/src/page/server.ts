import { edgeServerOptions } from '@saga-lab/observability';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AddressInfo } from 'node:net';
import {
  REPORT_FILES,
  isReportId,
  readLiveFile,
  readReportFile,
  readReports,
  type LiveFile,
  type Readout,
  type ReportEntry,
  type ReportFile,
} from './lab-files';
import { LAB_PAGE } from './page-html';
import { sagaReader, type SagaSummary } from './sagas';

/** What `GET /api/state` answers and the page renders. */
export interface LabState {
  /** The server's clock, so the page computes ages without trusting the browser's. */
  readonly now: string;
  /** The live file; null before anything has run. */
  readonly live: Readout<LiveFile | null>;
  readonly sagas: Readout<SagaSummary>;
  /** The newest reports, newest first. */
  readonly reports: Readout<ReportEntry[]>;
}

/** Where the page's data comes from. Today the runner's files and the order database; a test may stub it. */
export interface LabSource {
  state(): Promise<LabState>;
  /** A report's file; undefined when there is none by that id and name. */
  reportFile(id: string, file: ReportFile): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

export interface LabPageOptions {
  readonly host: string;
  /** 0 picks a free port; the URL returned names it. */
  readonly port: number;
  /** The local stack's state directory: the runner writes `<stateDir>/lab/live.json`. */
  readonly stateDir: string;
  /** Where the runner writes its reports and their `index.json` (normally `lab/reports`). */
  readonly reportsDir: string;
  /** The order service's database, for its saga table. */
  readonly ordersDatabaseUrl: string;
}

export function labSource(options: Omit<LabPageOptions, 'host' | 'port'>): LabSource {
  const sagas = sagaReader(options.ordersDatabaseUrl);
  return {
    async state() {
      const [live, sagaSummary, reports] = await Promise.all([
        readLiveFile(options.stateDir),
        sagas.read(),
        readReports(options.reportsDir),
      ]);
      return { now: new Date().toISOString(), live, sagas: sagaSummary, reports };
    },
    reportFile: (id, file) => readReportFile(options.reportsDir, id, file),
    close: () => sagas.close(),
  };
}

const notFound = (reply: FastifyReply, message: string): FastifyReply =>
  reply.code(404).send({ error: { code: 'NOT_FOUND', message } });

/** The page's HTTP server over a data source; answers errors in the project's one format. */
export function labPageApp(source: LabSource): FastifyInstance {
  const app = Fastify({ logger: false, ...edgeServerOptions() });

  app.get('/', (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', LAB_PAGE.contentSecurityPolicy)
      .header('cache-control', 'no-store')
      .send(LAB_PAGE.html),
  );

  // The page has no icon; an empty answer keeps browsers from logging a 404 for the one they ask for.
  app.get('/favicon.ico', (_request, reply) => reply.code(204).send());

  app.get('/api/state', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(await source.state()),
  );

  for (const file of Object.keys(REPORT_FILES) as ReportFile[]) {
    app.get<{ Params: { id: string } }>(`/reports/:id/${file}`, async (request, reply) => {
      const { id } = request.params;
      const body = isReportId(id) ? await source.reportFile(id, file) : undefined;
      if (!body) return notFound(reply, `There is no ${file} for a report with id ${JSON.stringify(id)}.`);
      return (
        reply
          .type(REPORT_FILES[file])
          .header('x-content-type-options', 'nosniff')
          // A report's SVG opened on its own must not run scripts in the page's origin.
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
          .send(body)
      );
    });
  }

  app.setNotFoundHandler((request, reply) =>
    notFound(reply, `There is nothing at ${request.method} ${request.url.split('?')[0]}.`),
  );
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return reply.code(status).send({
      error:
        status === 500
          ? { code: 'INTERNAL', message: 'The lab page failed to answer.' }
          : { code: 'BAD_REQUEST', message: error.message },
    });
  });
  return app;
}

/** Starts the lab page; `close` stops the server and its database pool. */
export async function startLabPage(
  options: LabPageOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const source = labSource(options);
  const app = labPageApp(source);
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await source.close();
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      await app.close();
      await source.close();
    },
  };
}
