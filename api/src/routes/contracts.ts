// Guaranteed-purchase contracts with their tariff periods, and plant loans: what billing needs.
// Amounts are integer Rials; loan amounts travel as decimal strings (they can exceed 2^53).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { loanBalances } from '../../../billing';
import {
  addTariff,
  contractById,
  countContracts,
  countLoans,
  createContract,
  createLoan,
  listContracts,
  listLoans,
  type NewLoan,
} from '../../../registry';
import { errorResponses, notFound } from '../errors';
import { IdParam, isoDay, IsoDate, oneOf, PageQuery, pageOf, parseDay, paged, RecordId } from '../schemas';

const Tariff = Type.Object({
  effectiveFrom: IsoDate,
  effectiveUntil: Type.Union([IsoDate, Type.Null()]),
  rialPerKwh: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
});
const Contract = Type.Object({
  id: Type.Integer(),
  installationId: Type.Integer(),
  reference: Type.String(),
  kind: oneOf(['ORDINARY', 'SUPPORT']),
  startDate: IsoDate,
  tariffs: Type.Array(Tariff),
});
const Rials = Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'integer Rials as a decimal string' });
const SolarHijriMonth = Type.String({
  pattern: '^1[34][0-9]{2}-(0[1-9]|1[0-2])$',
  description: 'Solar Hijri month, e.g. 1405-08',
});
const Loan = Type.Object({
  id: Type.Integer(),
  installationId: Type.Integer(),
  reference: Type.String(),
  principalRials: Rials,
  installmentRials: Rials,
  installments: Type.Integer(),
  firstDueMonth: SolarHijriMonth,
});
const LoanWithBalance = Type.Composite([
  Loan,
  Type.Object({
    repaidRials: Type.String({ description: 'repaid by closed months (drafts repay nothing until they close)' }),
    balanceRials: Type.String({ description: 'principal − repaid: what the installation still owes' }),
  }),
]);

type TariffRow = { effectiveFrom: Date; effectiveUntil: Date | null; rialPerKwh: number };
const toTariff = (t: TariffRow) => ({
  effectiveFrom: isoDay(t.effectiveFrom)!,
  effectiveUntil: isoDay(t.effectiveUntil),
  rialPerKwh: t.rialPerKwh,
});
const toContract = (c: {
  id: number;
  installationId: number;
  reference: string;
  kind: 'ORDINARY' | 'SUPPORT';
  startDate: Date;
  tariffs: TariffRow[];
}) => ({
  id: c.id,
  installationId: c.installationId,
  reference: c.reference,
  kind: c.kind,
  startDate: isoDay(c.startDate)!,
  tariffs: c.tariffs.map(toTariff),
});
const toLoan = (l: NewLoan & { id: number }) => ({
  ...l,
  principalRials: l.principalRials.toString(),
  installmentRials: l.installmentRials.toString(),
});
const tariffOf = (t: { effectiveFrom: string; effectiveUntil?: string | null; rialPerKwh: number }) => ({
  effectiveFrom: parseDay(t.effectiveFrom),
  effectiveUntil: t.effectiveUntil ? parseDay(t.effectiveUntil) : null,
  rialPerKwh: t.rialPerKwh,
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/contracts',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['contracts'],
        summary: 'List guaranteed-purchase contracts',
        querystring: Type.Composite([PageQuery, Type.Object({ installationId: Type.Optional(RecordId()) })]),
        response: { 200: pageOf(Contract) },
      },
    },
    async (request) => {
      const { installationId } = request.query;
      return paged(
        request.query,
        (window) => listContracts(app.prisma, installationId, window),
        () => countContracts(app.prisma, installationId),
        toContract,
      );
    },
  );

  app.get(
    '/contracts/:id',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['contracts'],
        summary: 'One contract with its tariff periods',
        params: IdParam,
        response: { 200: Contract },
      },
    },
    async (request) => {
      const row = await contractById(app.prisma, request.params.id);
      if (!row) throw notFound('contract');
      return toContract(row);
    },
  );

  app.post(
    '/contracts',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['contracts'],
        summary: "Add an installation's guaranteed-purchase contract",
        body: Type.Object(
          {
            installationId: RecordId(),
            reference: Type.String({ minLength: 1, maxLength: 60 }),
            kind: oneOf(['ORDINARY', 'SUPPORT']),
            startDate: IsoDate,
            tariffs: Type.Array(
              Type.Object({
                effectiveFrom: IsoDate,
                effectiveUntil: Type.Optional(Type.Union([IsoDate, Type.Null()])),
                rialPerKwh: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
              }),
              { minItems: 1 },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Contract, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tariffs, startDate, ...rest } = request.body;
      const row = await app.prisma.$transaction(async (tx) => {
        const created = await createContract(tx, {
          ...rest,
          startDate: parseDay(startDate),
          tariffs: tariffs.map(tariffOf),
        });
        await app.audit(
          request,
          { verb: 'create', entity: 'contract', entityId: created.id, after: toContract(created) },
          tx,
        );
        return created;
      });
      return reply.code(201).send(toContract(row));
    },
  );

  app.post(
    '/contracts/:id/tariffs',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['contracts'],
        summary: 'Add a tariff period (e.g. the yearly index adjustment)',
        params: IdParam,
        body: Type.Object(
          {
            effectiveFrom: IsoDate,
            effectiveUntil: Type.Optional(Type.Union([IsoDate, Type.Null()])),
            rialPerKwh: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Contract, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const row = await app.prisma.$transaction(async (tx) => {
        const changed = await addTariff(tx, request.params.id, tariffOf(request.body));
        if (!changed) throw notFound('contract');
        const { before, after } = changed;
        await app.audit(
          request,
          {
            verb: 'add_tariff',
            entity: 'contract',
            entityId: before.id,
            before: toContract(before),
            after: toContract(after),
          },
          tx,
        );
        return after;
      });
      return reply.code(201).send(toContract(row));
    },
  );

  app.get(
    '/loans',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['loans'],
        summary: 'List loans, each with what closed months repaid and its balance',
        querystring: Type.Composite([PageQuery, Type.Object({ installationId: Type.Optional(RecordId()) })]),
        response: { 200: pageOf(LoanWithBalance) },
      },
    },
    async (request) => {
      const { installationId } = request.query;
      const page = await paged(
        request.query,
        (window) => listLoans(app.prisma, installationId, window),
        () => countLoans(app.prisma, installationId),
        toLoan,
      );
      const balances = await loanBalances(
        app.sql,
        page.items.map((l) => l.id),
      );
      return {
        ...page,
        items: page.items.map((l) => {
          const b = balances.get(l.id)!;
          return { ...l, repaidRials: b.repaidRials.toString(), balanceRials: b.balanceRials.toString() };
        }),
      };
    },
  );

  app.post(
    '/loans',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['loans'],
        summary: "Add a loan repaid from an installation's income",
        body: Type.Object(
          {
            installationId: RecordId(),
            reference: Type.String({ minLength: 1, maxLength: 60 }),
            principalRials: Rials,
            installmentRials: Rials,
            installments: Type.Integer({ minimum: 1, maximum: 600 }),
            firstDueMonth: SolarHijriMonth,
          },
          { additionalProperties: false },
        ),
        response: { 201: Loan, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const row = await app.prisma.$transaction(async (tx) => {
        const created = await createLoan(tx, {
          ...b,
          principalRials: BigInt(b.principalRials),
          installmentRials: BigInt(b.installmentRials),
        });
        await app.audit(request, { verb: 'create', entity: 'loan', entityId: created.id, after: toLoan(created) }, tx);
        return created;
      });
      return reply.code(201).send(toLoan(row));
    },
  );
};

export default routes;
