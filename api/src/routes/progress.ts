// GET /progress: served from a snapshot recomputed in the background (the figures move slowly and
// the read must stay cheap under load); ?fresh=true recomputes first, sharing a recompute already running.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { InfluxClient } from '../../../lib/influx/client';
import type { InfluxConfig } from '../../../lib/config';
import { computeProgress, type Progress } from '../progress';

const Num = Type.Number();
const ProgressBody = Type.Object({
  generatedAt: Type.String(),
  target: Type.Object({ mw: Num, people: Num }),
  overall: Type.Object({ installations: Num, mwCommissioned: Num, mwPercent: Num, people: Num, peoplePercent: Num }),
  provinces: Type.Array(
    Type.Object({
      province: Type.String(),
      nameFa: Type.String(),
      installations: Num,
      mwCommissioned: Num,
      people: Num,
    }),
  ),
  freshness: Type.Object({
    activeInverters: Num,
    sunUp: Num,
    silentWhileSunUp: Type.Union([Num, Type.Null()], {
      description: 'null while InfluxDB cannot be read (telemetryAvailable false): who is silent is unknown',
    }),
    silentSerials: Type.Array(Type.String()),
    staleAfterMinutes: Num,
    telemetryAvailable: Type.Boolean(),
  }),
});

export interface ProgressRouteOptions {
  influx: InfluxConfig;
  progressRefreshSeconds: number;
  staleAfterMinutes: number;
}

const routes: FastifyPluginAsyncTypebox<ProgressRouteOptions> = async (app, options) => {
  const influx = new InfluxClient(options.influx);
  let snapshot: Promise<Progress> | null = null;
  // One recompute at a time: every caller asking while one runs (timer or ?fresh=true) shares it,
  // so a burst of fresh requests costs one computation, not one each.
  let running: Promise<Progress> | null = null;
  const refresh = () => {
    if (running) return running;
    const next = computeProgress(app.prisma, influx, options.staleAfterMinutes);
    running = next;
    next.then(
      () => {
        snapshot = next;
      },
      (error: Error) => app.log.error({ error: error.message }, 'progress refresh failed'),
    );
    void next
      .catch(() => undefined)
      .finally(() => {
        running = null;
      });
    return next;
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), options.progressRefreshSeconds * 1000).unref();
  app.addHook('onClose', async () => clearInterval(timer));

  app.get(
    '/progress',
    {
      onRequest: app.staffOnly('OPERATOR', 'TECHNICIAN'),
      schema: {
        tags: ['progress'],
        summary: 'MW and people against the program targets, by province; data freshness',
        querystring: Type.Object({ fresh: Type.Boolean({ default: false }) }),
        response: { 200: ProgressBody },
      },
    },
    async (request) => (request.query.fresh || !snapshot ? refresh() : snapshot),
  );
};

export default routes;
