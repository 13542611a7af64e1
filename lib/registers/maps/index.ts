// The vendor register maps shipped with the platform, by id, and the way a configuration names a
// map: a built-in's id, or the path of a technician's own JSON map file.
import { loadRegisterMapFile, parseRegisterMap, type RegisterMap } from '../format';
import { HUAWEI_SUN2000 } from './huawei-sun2000';

export const BUILTIN_REGISTER_MAPS: ReadonlyMap<string, RegisterMap> = new Map(
  [HUAWEI_SUN2000].map((map) => [map.id, parseRegisterMap(map, map.id)]),
);

/** `huawei-sun2000` (a built-in) or `/etc/solar-gateway/maps/x.json` (a file in the format). */
export function resolveRegisterMap(nameOrPath: string): RegisterMap {
  const builtin = BUILTIN_REGISTER_MAPS.get(nameOrPath);
  if (builtin) return builtin;
  if (!nameOrPath.includes('/'))
    throw new Error(
      `register map '${nameOrPath}' is not a built-in one (${[...BUILTIN_REGISTER_MAPS.keys()].join(', ')}) nor a file path`,
    );
  return loadRegisterMapFile(nameOrPath);
}
