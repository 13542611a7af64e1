// The program's cash position (OPERATOR): promised to and paid to beneficiaries against settled and
// received. Grafana's Cash position counts late as this process does: the settlement policy is
// recorded for it at start-up (billing/README.md, "Lateness").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { cashPosition, recordSettlementPolicy } from '../../../../billing';
import { jsonCopy } from '../../../../lib/json';
import { tehranDate } from '../../../../lib/program/tehran-time';
import { Correction, Rials, type SettlementRoutesOptions } from './common';

const Receivables = {
  settledRials: Rials,
  receivedRials: Rials,
  dueRials: Rials,
  lateRials: Rials,
};
const CashPosition = Type.Object({
  asOf: Type.String(),
  promisedRials: Rials,
  paidToBeneficiariesRials: Rials,
  owedToBeneficiariesRials: Rials,
  billedGrossRials: Rials,
  poolRials: Rials,
  deductionsRials: Rials,
  settledRials: Rials,
  receivedRials: Rials,
  receivableRials: Rials,
  receivableLateRials: Rials,
  unsettledRials: Rials,
  unsettledLateRials: Rials,
  absorbedDifferenceRials: Rials,
  carriedDifferenceRials: Rials,
  pendingDifferenceRials: Rials,
  beneficiariesCarriedRials: Rials,
  feesCarriedRials: Rials,
  installationBalancesRials: Rials,
  billedInOpenMonthsRials: Rials,
  reversedRials: Rials,
  correctedRials: Rials,
  corrections: Type.Array(Correction),
  cashRials: Rials,
  coverageRials: Rials,
  byProvince: Type.Array(
    Type.Object({ province: Type.String(), ...Receivables, unsettledRials: Rials, unsettledLateRials: Rials }),
  ),
  byPeriod: Type.Array(
    Type.Object({
      periodFrom: Type.String(),
      periodUntil: Type.String(),
      settlements: Type.Integer(),
      ...Receivables,
    }),
  ),
});

const routes: FastifyPluginAsyncTypebox<SettlementRoutesOptions> = async (app, options) => {
  const policy = options.billing.settlements;
  // Not awaited: the API starts while PostgreSQL is away, and records it once it is back.
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  const record = (): Promise<void> =>
    recordSettlementPolicy(app.sql, policy).catch((error: Error) => {
      if (closed) return;
      app.log.warn({ err: error }, 'cannot record the settlement policy for Grafana yet; retrying');
      retry = setTimeout(() => void record(), 30_000).unref();
    });
  app.addHook('onReady', async () => void record());
  app.addHook('onClose', async () => {
    closed = true;
    clearTimeout(retry);
  });

  app.get(
    '/settlements/cash-position',
    {
      onRequest: app.staffOnly('OPERATOR'),
      schema: {
        tags: ['settlements'],
        summary: "The program's cash: promised to and paid to beneficiaries against settled and received",
        response: { 200: CashPosition },
      },
    },
    async () => jsonCopy(await cashPosition(app.sql, tehranDate(Date.now()), policy.lateAfterDays)) as never,
  );
};

export default routes;
