// Billing's refusals: each names its reason, so a CLI prints it and the API maps it to a status.
export type BillingErrorCode =
  | 'busy'
  | 'closed'
  | 'not_started'
  | 'not_ended'
  | 'out_of_order'
  | 'not_found'
  | 'not_closed'
  | 'not_reconciled'
  | 'implausible'
  | 'invalid'
  | 'conflict';
export class BillingError extends Error {
  constructor(
    readonly code: BillingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BillingError';
  }
}
