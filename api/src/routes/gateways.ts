// Gateways (the box at an installation that reads its inverters over Modbus): commissioning gives
// one a broker account allowed to publish for exactly its registered, active inverters (password
// shown once), and checks that a reading of each arrived. Audited like the inverters themselves.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { InfluxConfig } from '../../../lib/config';
import { InfluxClient, influxString } from '../../../lib/influx/client';
import { GATEWAY_ID_PATTERN, gatewayUsername, provisionGateway } from '../../../lib/mqtt/gateway-accounts';
import { SERIAL_PATTERN, SERIAL_RULE } from '../../../lib/telemetry/contract';
import { invertersBySerials } from '../../../registry';
import { errorResponses, HttpError, notFound } from '../errors';

const Serial = Type.String({ pattern: SERIAL_PATTERN, description: SERIAL_RULE });

const routes: FastifyPluginAsyncTypebox<{ influx: InfluxConfig }> = async (app, options) => {
  const influx = new InfluxClient(options.influx);

  app.put(
    '/gateways/:id',
    {
      onRequest: app.staffOnly('TECHNICIAN', 'OPERATOR'),
      config: { secretReply: 'send the request again with rekey for another new password' },
      schema: {
        tags: ['gateways'],
        summary: "Provision a gateway's broker account for exactly these inverters (password shown once)",
        params: Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN.source }) }),
        body: Type.Object(
          {
            serials: Type.Array(Serial, { minItems: 1, maxItems: 64, uniqueItems: true }),
            rekey: Type.Optional(Type.Boolean({ description: 'issue a new password (the old one stops working)' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            id: Type.String(),
            username: Type.String(),
            serials: Type.Array(Type.String()),
            password: Type.Union([Type.String({ description: 'shown only now' }), Type.Null()]),
          }),
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { serials, rekey } = request.body;
      const inverters = await invertersBySerials(app.prisma, serials);
      const missing = serials.filter((s) => !inverters.some((i) => i.serial === s));
      if (missing.length > 0)
        throw new HttpError(
          404,
          `serials: ${missing.join(', ')} not registered (register with POST /inverters first)`,
          'serials',
        );
      const inactive = inverters.filter((i) => i.status !== 'ACTIVE').map((i) => i.serial);
      if (inactive.length > 0) throw new HttpError(409, `serials: ${inactive.join(', ')} decommissioned`, 'serials');
      let password: string | null;
      try {
        password = await provisionGateway(await app.brokerAdmin(), id, serials, { rekey: rekey ?? false });
      } catch (error) {
        const message = (error as Error).message;
        if (/already belongs to another gateway/.test(message))
          throw new HttpError(409, `serials: ${message}`, 'serials');
        throw error;
      }
      await app.audit(request, {
        verb: password ? 'issue_credentials' : 'update',
        entity: 'gateway',
        entityId: id,
        after: { serials },
      });
      return { id, username: gatewayUsername(id), serials, password };
    },
  );

  app.get(
    '/inverters/:serial/last-reading',
    {
      onRequest: app.staffOnly('TECHNICIAN', 'OPERATOR'),
      schema: {
        tags: ['gateways'],
        summary: "The inverter's newest stored reading (commissioning checks one arrived)",
        params: Type.Object({ serial: Serial }),
        response: {
          200: Type.Object({
            serial: Type.String(),
            ts: Type.String({ format: 'date-time' }),
            energyWhTotal: Type.Number(),
            acPowerW: Type.Number(),
            state: Type.String(),
          }),
          ...errorResponses(404, 503),
        },
      },
    },
    async (request) => {
      const { serial } = request.params;
      let rows: Record<string, unknown>[];
      try {
        rows = await influx.rows(
          `SELECT last("energy_wh_total") AS energy, "ac_power_w", "state" FROM "telemetry" WHERE "serial" = ${influxString(serial)}`,
        );
      } catch (error) {
        throw new HttpError(503, `InfluxDB: ${(error as Error).message}`);
      }
      const row = rows[0];
      if (!row) throw notFound('reading');
      return {
        serial,
        ts: new Date(Number(row.time)).toISOString(),
        energyWhTotal: Number(row.energy),
        acPowerW: Number(row.ac_power_w),
        state: String(row.state),
      };
    },
  );
};

export default routes;
