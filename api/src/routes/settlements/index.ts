// The distribution company's settlements over HTTP, one module per thing served: import their file,
// reconcile it with telemetry, list settlements by status, correct a paid one, and the program's cash
// position. Registered in this order (the OpenAPI document lists them so).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import cashPosition from './cash-position';
import type { SettlementRoutesOptions } from './common';
import corrections from './corrections';
import imports from './imports';
import list from './list';
import reconciliation from './reconciliation';

const routes: FastifyPluginAsyncTypebox<SettlementRoutesOptions> = async (app, options) => {
  await app.register(imports);
  await app.register(reconciliation, options);
  await app.register(list);
  await app.register(corrections);
  await app.register(cashPosition, options);
};

export default routes;
