import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERT_CAUSES, ALERT_RULES, ALERT_SEVERITIES, ALERT_STATES } from './types';

const schema = readFileSync(new URL('../../../prisma/schema.prisma', import.meta.url), 'utf8');
/** The values of a Prisma enum as the schema declares them. */
function enumValues(name: string): string[] {
  const body = new RegExp(`^enum ${name} \\{([\\s\\S]*?)^\\}`, 'm').exec(schema)?.[1];
  if (body === undefined) throw new Error(`prisma/schema.prisma declares no enum ${name}`);
  return body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[A-Z_]+$/.test(line));
}

describe('the alerts vocabulary, declared once', () => {
  it("is what PostgreSQL's enums hold", () => {
    expect(enumValues('AlertRule')).toEqual([...ALERT_RULES]);
    expect(enumValues('AlertSeverity')).toEqual([...ALERT_SEVERITIES]);
    expect(enumValues('AlertState')).toEqual([...ALERT_STATES]);
  });

  it('gives every rule its causes, each cause to one rule, as short labels', () => {
    expect(Object.keys(ALERT_CAUSES)).toEqual([...ALERT_RULES]);
    const causes = Object.values(ALERT_CAUSES).flat();
    expect(new Set(causes).size).toBe(causes.length);
    for (const cause of causes) expect(cause).toMatch(/^[a-z][a-z_]{0,39}$/);
  });
});
