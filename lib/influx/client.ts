// InfluxDB through its v1 HTTP API (/write with line protocol, /query with InfluxQL), which
// InfluxDB 1.x serves natively and 2.x/3.x through their v1 compatibility endpoints. The official
// @influxdata/influxdb-client speaks only /api/v2, which 1.x (Debian's 1.6.7) does not have.
import type { InfluxConfig } from '../config';

export class InfluxError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly body: string,
  ) {
    super(message);
    this.name = 'InfluxError';
  }
  /** Network failures, timeouts and 5xx may succeed later; 4xx will not. */
  get retryable(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429;
  }
  /** 401/403: the credentials or the user's grants are wrong, not the request; fixed by an operator. */
  get unauthorized(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export type InfluxRow = Record<string, string | number | boolean | null>;
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export class InfluxClient {
  /** The base URL's path without a trailing slash, kept in front of every endpoint (InfluxDB behind a proxy at /influx). */
  private readonly basePath: string;
  /** Credentials go in a header, never in the URL, where proxies and access logs would keep them. */
  private readonly headers: Record<string, string>;

  constructor(private readonly config: InfluxConfig) {
    this.basePath = new URL(config.url).pathname.replace(/\/+$/, '');
    this.headers =
      config.username || config.password
        ? {
            authorization: `Basic ${Buffer.from(`${config.username ?? ''}:${config.password ?? ''}`).toString('base64')}`,
          }
        : {};
  }

  get database(): string {
    return this.config.database;
  }

  /** Who this client signs in as (for messages; never the password). */
  get username(): string | undefined {
    return this.config.username;
  }

  private endpoint(path: string, params: Record<string, string>): string {
    const url = new URL(this.basePath + path, this.config.url);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.toString();
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new InfluxError(`InfluxDB unreachable at ${this.config.url}: ${reason}`, null, '');
    }
  }

  /** Writes line protocol with nanosecond timestamps. Resolves once InfluxDB has stored it. */
  async write(lines: string | Uint8Array, options: { retentionPolicy?: string } = {}): Promise<void> {
    const params: Record<string, string> = { db: this.config.database, precision: 'ns' };
    if (options.retentionPolicy) params.rp = options.retentionPolicy;
    const response = await this.request(this.endpoint('/write', params), { method: 'POST', body: lines });
    if (response.status === 204) return;
    const body = await response.text();
    throw new InfluxError(`InfluxDB /write answered ${response.status}: ${body.slice(0, 500)}`, response.status, body);
  }

  /** Runs InfluxQL; returns the series of each statement (epoch ms timestamps). */
  async query(
    q: string,
    options: { database?: string | null; method?: 'GET' | 'POST' } = {},
  ): Promise<InfluxSeries[][]> {
    const params: Record<string, string> = { epoch: 'ms' };
    const db = options.database === undefined ? this.config.database : options.database;
    if (db) params.db = db;
    const method = options.method ?? (/^\s*(select|show)/i.test(q) ? 'GET' : 'POST');
    // A POST carries the statement in its body, out of URLs that proxies and access logs keep
    // (`CREATE USER ... WITH PASSWORD`, `SET PASSWORD` are POSTs).
    const response =
      method === 'GET'
        ? await this.request(this.endpoint('/query', { ...params, q }), { method })
        : await this.request(this.endpoint('/query', params), {
            method,
            body: new URLSearchParams({ q }),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          });
    const body = await response.text();
    if (!response.ok)
      throw new InfluxError(
        `InfluxDB /query answered ${response.status}: ${body.slice(0, 500)}`,
        response.status,
        body,
      );
    const parsed = JSON.parse(body) as { results?: { series?: InfluxSeries[]; error?: string }[]; error?: string };
    if (parsed.error) throw new InfluxError(`InfluxQL error: ${parsed.error}`, response.status, body);
    return (parsed.results ?? []).map((result) => {
      if (result.error) throw new InfluxError(`InfluxQL error: ${result.error}`, response.status, body);
      return result.series ?? [];
    });
  }

  /** Convenience for one SELECT/SHOW statement: rows as objects, tags merged in. */
  async rows(q: string): Promise<InfluxRow[]> {
    const [series = []] = await this.query(q);
    return series.flatMap((s) =>
      s.values.map((values) => {
        const row: InfluxRow = { ...(s.tags ?? {}) };
        s.columns.forEach((column, i) => {
          row[column] = values[i] as InfluxRow[string];
        });
        return row;
      }),
    );
  }

  async ping(): Promise<boolean> {
    try {
      const response = await this.request(this.endpoint('/ping', {}), { method: 'GET' });
      return response.status === 204;
    } catch {
      return false;
    }
  }
}

/** Quotes an identifier for InfluxQL. */
export function influxIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Quotes a string literal for InfluxQL. */
export function influxString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
