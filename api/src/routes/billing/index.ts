// Billing over HTTP, one module per thing served: staff run, close and pay months and look at them
// by installation and province; beneficiaries read their own statements, each line traceable to
// the counters behind it. Registered in this order (the OpenAPI document lists them so).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import bills from './bills';
import { checkMonthParam } from './common';
import counters from './counters';
import months, { type BillingRoutesOptions } from './months';
import payouts from './payouts';
import statements from './statements';

const routes: FastifyPluginAsyncTypebox<BillingRoutesOptions> = async (app, options) => {
  // Added before the modules register, so each inherits it.
  app.addHook('preHandler', checkMonthParam);
  await app.register(months, options);
  await app.register(bills);
  await app.register(counters);
  await app.register(payouts);
  await app.register(statements);
};

export default routes;
