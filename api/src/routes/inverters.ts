// Inverters: registering one creates its own broker account (password shown once); decommissioning
// revokes it. Both are audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { provisionDevice, revokeDevice } from '../../../lib/mqtt/device-accounts';
import { SERIAL_PATTERN, SERIAL_RULE } from '../../../lib/telemetry/contract';
import { reconcileDevices } from '../device-reconciliation';
import {
  countInverters,
  createInverter,
  DEVICE_REGISTRY_LOCK,
  decommissionInverter,
  inverterBySerial,
  listInverters,
} from '../../../registry';
import { errorResponses, HttpError, notFound } from '../errors';
import { oneOf, PageQuery, pageOf, paged, RecordId } from '../schemas';

const Inverter = Type.Object({
  serial: Type.String(),
  installationId: Type.Integer(),
  installationCode: Type.String(),
  ratedAcW: Type.Integer(),
  model: Type.String(),
  status: oneOf(['ACTIVE', 'DECOMMISSIONED']),
});
type Row = {
  serial: string;
  installationId: number;
  installation: { code: string };
  ratedAcW: number;
  model: string;
  status: 'ACTIVE' | 'DECOMMISSIONED';
};
const toInverter = (r: Row) => ({
  serial: r.serial,
  installationId: r.installationId,
  installationCode: r.installation.code,
  ratedAcW: r.ratedAcW,
  model: r.model,
  status: r.status,
});
const Serial = Type.String({ pattern: SERIAL_PATTERN, description: SERIAL_RULE });
const SerialParam = Type.Object({ serial: Serial });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/inverters',
    {
      onRequest: app.staffOnly('OPERATOR', 'TECHNICIAN'),
      schema: {
        tags: ['inverters'],
        summary: 'List inverters',
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            installationId: Type.Optional(RecordId()),
            status: Type.Optional(oneOf(['ACTIVE', 'DECOMMISSIONED'])),
          }),
        ]),
        response: { 200: pageOf(Inverter) },
      },
    },
    async (request) => {
      const { installationId, status } = request.query;
      const filter = { installationId, status };
      return paged(
        request.query,
        (window) => listInverters(app.prisma, filter, window),
        () => countInverters(app.prisma, filter),
        toInverter,
      );
    },
  );

  app.get(
    '/inverters/:serial',
    {
      onRequest: app.staffOnly('OPERATOR', 'TECHNICIAN'),
      schema: { tags: ['inverters'], summary: 'One inverter', params: SerialParam, response: { 200: Inverter } },
    },
    async (request) => {
      const row = await inverterBySerial(app.prisma, request.params.serial);
      if (!row) throw notFound('inverter');
      return toInverter(row);
    },
  );

  app.post(
    '/inverters',
    {
      onRequest: app.staffOnly('TECHNICIAN', 'OPERATOR'),
      config: { secretReply: 'issue a new password with POST /inverters/{serial}/credentials' },
      schema: {
        tags: ['inverters'],
        summary: 'Register an inverter and create its broker account',
        body: Type.Object(
          {
            serial: Serial,
            installationId: RecordId(),
            ratedAcW: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
            model: Type.String({ minLength: 1, maxLength: 120 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            inverter: Inverter,
            mqtt: Type.Object({
              username: Type.String(),
              password: Type.String({ description: 'shown only now' }),
              publishTopic: Type.String(),
            }),
          }),
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const result = await app.prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${DEVICE_REGISTRY_LOCK})`;
        const created = await createInverter(tx, request.body);
        await app.audit(
          request,
          { verb: 'create', entity: 'inverter', entityId: created.serial, after: toInverter(created) },
          tx,
        );
        // Inside the transaction: if the broker refuses (409 for a name that is not a device's, 503
        // when unreachable), the inverter is not registered either; an account made for a
        // transaction that then fails is an orphan for reconciliation.
        const password = await provisionDevice(await app.brokerAdmin(), created.serial);
        return {
          inverter: toInverter(created),
          mqtt: { username: created.serial, password, publishTopic: `solar/v1/${created.serial}/telemetry` },
        };
      });
      return reply.code(201).send(result);
    },
  );

  app.post(
    '/inverters/:serial/credentials',
    {
      onRequest: app.staffOnly('TECHNICIAN', 'OPERATOR'),
      config: { secretReply: 'send the request again without the Idempotency-Key for another new password' },
      schema: {
        tags: ['inverters'],
        summary: 'Issue a new broker password (the old one stops working)',
        params: SerialParam,
        response: { 201: Type.Object({ username: Type.String(), password: Type.String() }), ...errorResponses(503) },
      },
    },
    async (request, reply) => {
      const inverter = await inverterBySerial(app.prisma, request.params.serial);
      if (!inverter) throw notFound('inverter');
      if (inverter.status !== 'ACTIVE') throw new HttpError(409, 'serial: the inverter is decommissioned', 'serial');
      const password = await provisionDevice(await app.brokerAdmin(), inverter.serial);
      await app.audit(request, { verb: 'issue_credentials', entity: 'inverter', entityId: inverter.serial });
      return reply.code(201).send({ username: inverter.serial, password });
    },
  );

  app.post(
    '/inverters/:serial/decommission',
    {
      onRequest: app.staffOnly('TECHNICIAN', 'OPERATOR'),
      schema: {
        tags: ['inverters'],
        summary: 'Decommission: stop accepting its data and revoke its broker account',
        params: SerialParam,
        response: { 200: Inverter, ...errorResponses(503) },
      },
    },
    async (request) =>
      app.prisma.$transaction(async (tx) => {
        const changed = await decommissionInverter(tx, request.params.serial);
        if (!changed) throw notFound('inverter');
        const { before, after } = changed;
        await app.audit(
          request,
          {
            verb: 'decommission',
            entity: 'inverter',
            entityId: before.serial,
            before: toInverter(before),
            after: toInverter(after),
          },
          tx,
        );
        await revokeDevice(await app.brokerAdmin(), before.serial);
        return toInverter(after);
      }),
  );

  app.post(
    '/inverters/reconcile',
    {
      onRequest: app.staffOnly(),
      schema: {
        tags: ['inverters'],
        summary: 'Remove broker device accounts of no active inverter; report active inverters without one',
        response: {
          200: Type.Object({
            deviceAccounts: Type.Integer(),
            activeInverters: Type.Integer(),
            removed: Type.Array(Type.String()),
            missing: Type.Array(Type.String()),
          }),
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      const report = await reconcileDevices(app.prisma, await app.brokerAdmin());
      if (report.removed.length > 0)
        await app.audit(request, { verb: 'reconcile', entity: 'broker', entityId: 'devices', after: report });
      return report;
    },
  );
};

export default routes;
