// One error shape for every 4xx: { statusCode, error, message, field? }; a dependency that is away
// (PostgreSQL, InfluxDB, the broker) is 503 with Retry-After, so a client or load balancer retries
// instead of reading a bug; any other 5xx becomes a generic message and a full log line.
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { BillingError } from '../../billing';
import { RegistryError } from '../../registry';
import { BrokerUnavailable } from '../../lib/mqtt/broker-admin';
import { BrokerAccountConflict } from '../../lib/mqtt/device-accounts';
import { unavailableDependency } from '../../lib/unavailable';

/** Seconds a client is asked to wait before retrying a request refused because a dependency is away. */
export const RETRY_AFTER_SECONDS = 5;

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
/** 503 that says when to come back (Retry-After, in whole seconds). */
export class RetryLaterError extends HttpError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(503, message);
  }
}
export const notFound = (what: string) => new HttpError(404, `${what} not found`);
export const badField = (field: string, message: string) => new HttpError(400, `${field}: ${message}`, field);

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { $id: 'ErrorBody' },
);

/** Response schemas for error statuses: `{ 409: ErrorBody, ... }`. */
export const errorResponses = (...codes: number[]): Record<number, typeof ErrorBody> =>
  Object.fromEntries(codes.map((code) => [code, ErrorBody]));

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  423: 'Locked',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

// Unique keys over several columns, said as the rule they hold (the field is the one to change).
const UNIQUE_RULES: Record<string, { field: string; message: string }> = {
  contracts_installation_id_start_date_key: {
    field: 'startDate',
    message: 'this installation already has a contract starting on this day',
  },
  representations_pkey: { field: 'nationalCode', message: 'this person already represents this beneficiary' },
};

// Prisma/PostgreSQL errors that are the client's fault, translated to a message naming the field.
function fromDatabase(error: { code?: string; meta?: Record<string, unknown>; message: string }): HttpError | null {
  if (error.code === 'P2002') {
    // With the pg driver adapter the violated index arrives as e.g. beneficiaries_national_code_key.
    const cause = (
      error.meta?.driverAdapterError as
        | { cause?: { constraint?: { index?: string; fields?: string[] }; table?: string } }
        | undefined
    )?.cause;
    const rule = UNIQUE_RULES[cause?.constraint?.index ?? ''];
    if (rule) return new HttpError(409, `${rule.field}: ${rule.message}`, rule.field);
    const column =
      cause?.constraint?.fields?.join(', ') ??
      cause?.constraint?.index?.replace(`${cause.table}_`, '').replace(/_key$/, '') ??
      String(error.meta?.target ?? 'value');
    const field = column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    return new HttpError(409, `${field}: a record with this value already exists`, field);
  }
  if (error.code === 'P2025') return new HttpError(404, 'record not found');
  if (error.code === 'P2003') return new HttpError(409, 'a referenced record does not exist or is still in use');
  if (/shares_no_overlap/.test(error.message))
    return new HttpError(
      409,
      'validFrom: this beneficiary already has a share in this installation that overlaps this period',
      'validFrom',
    );
  if (/tariff_periods_no_overlap/.test(error.message))
    return new HttpError(409, 'effectiveFrom: overlaps another tariff period of this contract', 'effectiveFrom');
  if (/violates check constraint/.test(error.message))
    return new HttpError(
      400,
      `a value is out of range (${/constraint "([^"]+)"/.exec(error.message)?.[1] ?? 'check'})`,
    );
  return null;
}

// A refused billing operation names its reason (busy, closed, out of order...): the client's to act on.
const BILLING_STATUS: Record<BillingError['code'], number> = {
  busy: 409,
  closed: 409,
  not_started: 409,
  not_ended: 409,
  out_of_order: 409,
  not_closed: 409,
  not_reconciled: 409,
  implausible: 409,
  invalid: 400,
  conflict: 409,
  not_found: 404,
};

// A registry rule refused the change (a value, a missing record, capacity or an overlap): the field to change.
const REGISTRY_STATUS: Record<RegistryError['code'], number> = { invalid: 400, not_found: 404, conflict: 409 };

function unavailable(error: unknown): HttpError | null {
  const dependency = unavailableDependency(error);
  return dependency ? new HttpError(503, `${dependency} is unavailable right now; try again shortly`) : null;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { field?: string }, request, reply) => {
    if (error.validation) {
      const first = error.validation[0];
      const path = (first?.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
      const field =
        first?.params && 'missingProperty' in first.params
          ? String(first.params.missingProperty)
          : path || error.validationContext || 'request';
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: `${field}: ${first?.message ?? 'invalid'}`, field });
    }
    const mapped =
      error instanceof HttpError
        ? error
        : error instanceof BillingError
          ? new HttpError(BILLING_STATUS[error.code], error.message)
          : error instanceof RegistryError
            ? new HttpError(REGISTRY_STATUS[error.code], error.message, error.field)
            : error instanceof BrokerAccountConflict
              ? new HttpError(409, error.message, 'serial')
              : error instanceof BrokerUnavailable
                ? new HttpError(503, 'the broker is unavailable right now; try again shortly')
                : (unavailable(error) ?? fromDatabase(error as never));
    const statusCode = mapped?.statusCode ?? (error.statusCode && error.statusCode < 500 ? error.statusCode : 500);
    if (statusCode === 503) {
      // A busy sign-in queue says when its turn comes; a dependency away, a few seconds.
      const retryAfter = mapped instanceof RetryLaterError ? mapped.retryAfterSeconds : RETRY_AFTER_SECONDS;
      if (mapped instanceof RetryLaterError) request.log.info({ retryAfterSeconds: retryAfter }, mapped.message);
      else request.log.warn({ err: error }, 'dependency unavailable');
      return reply
        .code(503)
        .header('retry-after', String(retryAfter))
        .send({ statusCode, error: STATUS_TEXT[503], message: mapped!.message });
    }
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply
        .code(500)
        .send({ statusCode: 500, error: 'Internal Server Error', message: 'something went wrong; it has been logged' });
    }
    const body: Record<string, unknown> = {
      statusCode,
      error: STATUS_TEXT[statusCode] ?? 'Error',
      message: (mapped ?? error).message,
    };
    const field = mapped?.field ?? error.field;
    if (field) body.field = field;
    return reply.code(statusCode).send(body);
  });
}
