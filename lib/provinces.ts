// Iran's 31 provinces with capital coordinates (lib/provinces.csv, the product's own copy).
import { readFileSync } from 'node:fs';

export interface ProvinceRecord {
  code: string;
  nameEn: string;
  nameFa: string;
  capitalEn: string;
  latitude: number;
  longitude: number;
}

/** Stable slug used as the province's code and InfluxDB tag, e.g. "Sistan and Baluchestan" -> "sistan-and-baluchestan". */
export const provinceCode = (nameEn: string): string =>
  nameEn
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function loadProvinces(path = new URL('./provinces.csv', import.meta.url)): ProvinceRecord[] {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  if (header !== 'name_en,name_fa,capital_en,lat,lon') throw new Error(`unexpected provinces.csv header: ${header}`);
  return rows.map((row, i) => {
    const [nameEn = '', nameFa = '', capitalEn = '', lat = '', lon = ''] = row.split(',');
    const latitude = Number(lat);
    const longitude = Number(lon);
    if (!nameEn || !nameFa || !Number.isFinite(latitude) || !Number.isFinite(longitude))
      throw new Error(`provinces.csv line ${i + 2} is malformed`);
    return { code: provinceCode(nameEn), nameEn, nameFa, capitalEn, latitude, longitude };
  });
}
