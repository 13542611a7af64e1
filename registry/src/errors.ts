// The registry's refusals. Each says what is wrong and which field to change ("weightW: ..."), so
// the API answers with the status its code stands for and the import names the CSV column.
export type RegistryErrorCode = 'invalid' | 'not_found' | 'conflict';

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** A value the rules refuse: `field: message`. */
export const invalidField = (field: string, message: string) =>
  new RegistryError('invalid', `${field}: ${message}`, field);
/** A change that would break a rule over several records (capacity, overlaps). */
export const conflictOn = (field: string, message: string) =>
  new RegistryError('conflict', `${field}: ${message}`, field);
export const notFound = (what: string) => new RegistryError('not_found', `${what} not found`);
