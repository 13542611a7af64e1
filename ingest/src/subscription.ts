// Keeps ingest's shared subscription alive whatever the broker remembers.
//
// Why not trust the session: Mosquitto 2.0.11 restarts with `sessionPresent: true` but without the
// `$share/...` subscription (it does not restore shared subscriptions from its persistence), and
// mqtt.js, with its default `resubscribe: true`, skips a SUBSCRIBE for a topic already in its own
// resubscribe list. Ingest then sat connected, healthy and deaf. So: mqtt.js's resubscription is
// off, every connection SUBSCRIBEs and counts as subscribed only once the broker's SUBACK grants it,
// and a refused SUBSCRIBE is retried while connected (one lost with its connection, on the next).
//
// Defence in depth ("connected but receiving nothing"): ingest also follows the broker's count of
// PUBLISH packets received ($SYS, every `sys_interval`). If the broker keeps receiving publishes
// while this worker has received nothing for `silenceMs`, the subscription is taken as lost: it
// says so in health and metrics and subscribes again.
import type { ClientSubscribeCallback, ISubscriptionGrant, MqttClient } from 'mqtt';
import type { Logger } from '../../lib/logger';
import { BROKER_LOG_TOPIC } from './broker-log';
import { retryDelayMs } from './retry-delay';

/** Mosquitto's count of PUBLISH packets received from clients since it started. */
export const BROKER_PUBLISHES_TOPIC = '$SYS/broker/publish/messages/received';

export interface SubscriptionOptions {
  /** The shared subscription, e.g. `$share/ingest/solar/v1/#`. */
  topic: string;
  /** Silence (no message) after which broker activity means the subscription is lost. */
  silenceMs: number;
  /** Publishes the broker must have received meanwhile for that silence to count as starvation. */
  minUnseenPublishes: number;
}

/** Pure: is a connected, subscribed worker starved? Inputs are what the watchdog has observed. */
export function isStarved(o: {
  nowMs: number;
  lastMessageAtMs: number;
  silenceMs: number;
  brokerPublishes: number | null;
  brokerPublishesAtLastMessage: number | null;
  minUnseenPublishes: number;
}): boolean {
  if (o.nowMs - o.lastMessageAtMs < o.silenceMs || o.brokerPublishes === null) return false;
  // The counter restarts with the broker: everything it counted since then is unseen.
  const baseline =
    o.brokerPublishesAtLastMessage === null || o.brokerPublishesAtLastMessage > o.brokerPublishes
      ? 0
      : o.brokerPublishesAtLastMessage;
  return o.brokerPublishes - baseline >= o.minUnseenPublishes;
}

/**
 * What a SUBSCRIBE's callback tells: granted; refused (the broker's SUBACK says no: the account's
 * role); or lost (no SUBACK: mqtt.js failed it with "Connection closed" when the connection dropped,
 * and the next connection subscribes again), which says nothing of the role.
 */
export function subscribeAnswer(
  error: Error | null,
  granted?: ISubscriptionGrant[],
  suback?: Parameters<ClientSubscribeCallback>[2],
): 'granted' | 'refused' | 'lost' {
  if (error) return suback ? 'refused' : 'lost';
  return granted?.length === 1 && granted[0]!.qos <= 2 ? 'granted' : 'refused';
}

export class SubscriptionKeeper {
  /** SUBACK granted on the current connection. */
  subscribed = false;
  /** True while the broker receives publishes this worker does not (see isStarved). */
  starved = false;
  /** Times the watchdog subscribed again. */
  resubscribes = 0;
  lastMessageAtMs = Date.now();
  private brokerPublishes: number | null = null;
  private brokerPublishesAtLastMessage: number | null = null;
  private connection = 0;
  private refusedLogged = false;
  /** $SYS topics whose refusal was logged (once each). */
  private readonly refusedWatches = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: MqttClient,
    private readonly options: SubscriptionOptions,
    private readonly log: Logger,
    /** True while this worker itself holds the flow (acks held): silence is then expected. */
    private readonly isHolding: () => boolean,
  ) {
    client.on('connect', (connack) => {
      this.connection += 1;
      this.subscribed = false;
      this.brokerPublishes = null;
      this.brokerPublishesAtLastMessage = null;
      this.lastMessageAtMs = Date.now();
      log.info({ sessionPresent: connack.sessionPresent }, 'connected to the broker; subscribing');
      this.subscribe(this.connection, 0);
      this.watchBroker(this.connection);
    });
    client.on('close', () => {
      this.subscribed = false;
    });
    this.timer = setInterval(() => this.check(), Math.max(250, Math.min(5000, options.silenceMs / 4))).unref();
  }

  /** Every message from the broker (telemetry, status or the $SYS counter) goes through here. */
  isBrokerCounter(topic: string, payload: Buffer): boolean {
    if (topic !== BROKER_PUBLISHES_TOPIC) return false;
    const value = Number(payload.toString());
    if (Number.isFinite(value)) this.brokerPublishes = value;
    return true;
  }

  noteMessage(nowMs: number): void {
    this.lastMessageAtMs = nowMs;
    this.brokerPublishesAtLastMessage = this.brokerPublishes;
    if (this.starved) {
      this.starved = false;
      this.log.info('receiving messages again');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    if (!this.client.connected || !this.subscribed) return;
    if (this.isHolding()) {
      this.noteMessage(Date.now());
      return;
    }
    const starved = isStarved({
      nowMs: Date.now(),
      lastMessageAtMs: this.lastMessageAtMs,
      silenceMs: this.options.silenceMs,
      brokerPublishes: this.brokerPublishes,
      brokerPublishesAtLastMessage: this.brokerPublishesAtLastMessage,
      minUnseenPublishes: this.options.minUnseenPublishes,
    });
    if (!starved) return;
    if (!this.starved)
      this.log.error(
        {
          silentSeconds: Math.round((Date.now() - this.lastMessageAtMs) / 1000),
          brokerPublishes: this.brokerPublishes,
        },
        'connected but receiving nothing while the broker receives publishes; subscribing again',
      );
    this.starved = true;
    this.resubscribes += 1;
    // Counted from now: the next check judges the new subscription, not the old silence.
    this.lastMessageAtMs = Date.now();
    this.brokerPublishesAtLastMessage = this.brokerPublishes;
    this.subscribe(this.connection, 0);
  }

  private subscribe(connection: number, attempt: number): void {
    // Retain handling 1: retained statuses only when the subscription is new, not on every renewal.
    this.client.subscribe(this.options.topic, { qos: 1, rh: 1 }, (error, granted, suback) => {
      const answer = subscribeAnswer(error, granted, suback);
      if (connection !== this.connection || !this.client.connected || answer === 'lost') return; // the next connection subscribes itself
      if (answer === 'granted') {
        if (attempt > 0 || this.refusedLogged) this.log.info({ attempt }, 'subscribed');
        this.refusedLogged = false;
        this.subscribed = true;
        return;
      }
      if (!this.refusedLogged)
        this.log.error(
          { error: error?.message, granted },
          "subscription refused by the broker: check the ingest account's role on the broker; retrying",
        );
      this.refusedLogged = true;
      setTimeout(() => this.subscribe(connection, attempt + 1), retryDelayMs(attempt)).unref();
    });
  }

  private watchBroker(connection: number): void {
    const watched: [string, string][] = [
      [
        BROKER_PUBLISHES_TOPIC,
        "cannot follow the broker's publish counter ($SYS): re-run setup to update the ingest role; a lost subscription is then noticed only on reconnect",
      ],
      [
        BROKER_LOG_TOPIC,
        "cannot follow the broker's log ($SYS): re-run setup to update the ingest role; packets the broker cuts for their size are then recorded nowhere",
      ],
    ];
    for (const [topic, refused] of watched)
      this.client.subscribe(topic, { qos: 0 }, (error, granted, suback) => {
        // Lost with its connection, the watch is made again on the next one: only a refusal is the role's.
        if (connection !== this.connection || subscribeAnswer(error, granted, suback) !== 'refused') return;
        if (!this.refusedWatches.has(topic)) {
          this.refusedWatches.add(topic);
          this.log.warn({ error: error?.message }, refused);
        }
      });
  }
}
