// The program's progress from the command line: MW commissioned and people receiving income against
// the targets, by province, and the inverters silent while the sun is up (computed by ../progress.ts).
import type { Command } from '../../../lib/cli';
import { readDatabaseUrl, readInfluxConfig } from '../../../lib/config';
import { createPrisma } from '../../../lib/db';
import { InfluxClient } from '../../../lib/influx/client';
import { computeProgress } from '../progress';

export const progressCommands: Record<string, Command> = {
  progress: {
    summary: 'MW commissioned and people receiving income against the targets, by province',
    help: `Usage: npm run ops -- progress

MW commissioned and people receiving income against the program's targets, by province, and the
inverters silent while the sun is up at their site.`,
    run: async () => {
      const prisma = createPrisma(readDatabaseUrl(process.env));
      try {
        const p = await computeProgress(prisma, new InfluxClient(readInfluxConfig(process.env, 'READER')), 30);
        const rows = p.provinces.filter((x) => x.installations > 0 || x.people > 0);
        console.log(`Program progress at ${p.generatedAt}`);
        console.log(
          `  MW commissioned: ${p.overall.mwCommissioned} of ${p.target.mw} (${p.overall.mwPercent} %), ${p.overall.installations} installations`,
        );
        console.log(
          `  people receiving income: ${p.overall.people} of ${p.target.people} (${p.overall.peoplePercent} %)`,
        );
        console.log(
          `  inverters: ${p.freshness.activeInverters} active, ${p.freshness.sunUp} under the sun now, ${
            p.freshness.silentWhileSunUp === null
              ? 'how many silent is unknown (InfluxDB unreachable)'
              : `${p.freshness.silentWhileSunUp} silent for ${p.freshness.staleAfterMinutes}+ min while the sun is up`
          }`,
        );
        if (rows.length > 0) {
          console.log(
            `\n  ${'province'.padEnd(28)}${'installations'.padStart(14)}${'MW'.padStart(10)}${'people'.padStart(10)}`,
          );
          for (const r of rows)
            console.log(
              `  ${`${r.province} (${r.nameFa})`.padEnd(28)}${String(r.installations).padStart(14)}` +
                `${r.mwCommissioned.toFixed(3).padStart(10)}${String(r.people).padStart(10)}`,
            );
        }
        if (p.freshness.silentSerials.length > 0)
          console.log(
            `\n  silent: ${p.freshness.silentSerials.slice(0, 20).join(', ')}${p.freshness.silentSerials.length > 20 ? ', …' : ''}`,
          );
      } finally {
        await prisma.$disconnect();
      }
    },
  },
};
