// What every billing route shares: the month in its path, checked once for the whole folder, and
// Rials as decimal strings (exact, whatever the client's number type).
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { billedMonthOf } from '../../../../billing';
import { type MonthId, parseMonth } from '../../../../lib/program/solar-hijri';
import { badField, notFound } from '../../errors';

export const Rials = Type.String({ pattern: '^-?\\d+$', description: 'whole Rials' });
export const MonthParam = Type.Object({
  month: Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'Solar Hijri month, e.g. 1405-08' }),
});

export const rials = (v: bigint | number | string) => String(v);

/** A preHandler for every route that takes a month: one check names what is wrong with it (e.g. month 13). */
export async function checkMonthParam(request: FastifyRequest) {
  const month = (request.params as { month?: string }).month;
  if (month === undefined) return;
  try {
    parseMonth(month);
  } catch (error) {
    throw badField('month', (error as Error).message);
  }
}

/** The billed month, or a 404 naming it. */
export async function billedMonthOrThrow(sql: pg.Pool, month: string) {
  const billed = await billedMonthOf(sql, month as MonthId);
  if (!billed) throw notFound(`billing month ${month}`);
  return billed;
}
