// How long to wait before retrying a failed journal append or InfluxDB write: doubling from
// 100 ms, at most 5 s, so a short outage is retried fast and a long one does not spin.
export const retryDelayMs = (attempt: number) => Math.min(5000, 100 * 2 ** Math.min(attempt, 6));

export const waitBeforeRetry = (attempt: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
