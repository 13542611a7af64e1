// npm run sim -- yield: the energy a site and system should produce over a period, from the
// simulator's physics (no services needed), with a BENCH line.
import { command, instant, type Parsed, positiveNumber, usage } from '../../../lib/cli';
import { loadProvinces } from '../../../lib/provinces';
import { DEFAULT_CLIMATE, PROVINCE_CLIMATE } from '../physics/climate';
import { expectedYield } from '../physics/pv-system';

const YIELD_OPTIONS = {
  province: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  kwp: { type: 'string' },
  tilt: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  seed: { type: 'string' },
} as const;

function yieldCommand({ values }: Parsed<typeof YIELD_OPTIONS>): void {
  let latitude: number;
  let longitude: number;
  let name: string;
  let climate = DEFAULT_CLIMATE;
  if (values.province) {
    const p = loadProvinces().find((x) =>
      [x.nameEn.toLowerCase(), x.code, x.capitalEn.toLowerCase()].includes(values.province!.toLowerCase()),
    );
    if (!p) usage(`unknown province '${values.province}'`);
    ({ latitude, longitude } = p);
    name = `${p.capitalEn}, ${p.nameEn}`;
    climate = PROVINCE_CLIMATE[p.nameEn] ?? DEFAULT_CLIMATE;
  } else if (values.lat !== undefined && values.lon !== undefined) {
    latitude = Number(values.lat);
    longitude = Number(values.lon);
    name = `${latitude},${longitude}`;
    if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180))
      usage('--lat must be within ±90 and --lon within ±180');
  } else usage('give --province NAME or --lat and --lon (see --help)');
  const year = new Date().getUTCFullYear() - 1;
  const fromMs = instant(values.from, 'from', Date.UTC(year, 0, 1));
  const toMs = instant(values.to, 'to', Date.UTC(year + 1, 0, 1));
  if (fromMs >= toMs) usage('--from must be before --to');
  const dcKwp = positiveNumber(values.kwp, 'kwp', 5);
  const tiltDeg = values.tilt !== undefined ? Number(values.tilt) : Math.round(Math.abs(latitude));
  const result = expectedYield(
    { id: name, latitude, longitude, climate },
    { dcKwp, ratedAcW: dcKwp * 1000, tiltDeg, surfaceAzimuthDeg: latitude >= 0 ? 180 : 0 },
    fromMs,
    toMs,
    positiveNumber(values.seed, 'seed', 1),
  );
  console.log(
    `${name}: ${dcKwp} kWp, tilt ${tiltDeg}°, ${new Date(fromMs).toISOString().slice(0, 10)} to ${new Date(toMs).toISOString().slice(0, 10)}`,
  );
  console.log(`  ${result.kwh.toFixed(0)} kWh, ${result.kwhPerKwp.toFixed(0)} kWh/kWp`);
  console.log(
    'BENCH',
    JSON.stringify({
      name: 'yield',
      site: name,
      kwp: dcKwp,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      kwh: Math.round(result.kwh),
      kwh_per_kwp: Math.round(result.kwhPerKwp),
    }),
  );
}

export default command({
  summary: 'expected energy for a site and system over a period',
  help: `Usage: npm run sim -- yield (--province NAME | --lat X --lon Y) [options]

  --kwp N         DC size, kWp (default 5)
  --tilt DEG      tilt (default: the latitude), facing the equator
  --from, --to    period (default: the last full calendar year)
  --seed N        weather seed (default 1)

Prints kWh and kWh/kWp, then a line BENCH {"name":"yield",...}.`,
  options: YIELD_OPTIONS,
  run: yieldCommand,
});
