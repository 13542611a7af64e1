// What a message's PUBACK waits on once its readings are in the journal. The acknowledgement lets the
// broker forget the message and mqtt.js read the next one, so holding it is how ingest pushes back:
// while the journal's backlog (journaled, not yet stored in InfluxDB) is past its limit, the gate
// holds acknowledgements, mqtt.js reads nothing more and the broker queues. The drainer releases
// them after each batch InfluxDB stored, once the backlog is back under 90 % of the limit, in the
// order they came (MQTT wants QoS 1 acknowledgements in arrival order).
export class AckGate {
  private readonly held: (() => void)[] = [];

  /** `onHold`: called when the gate starts holding (true) and when it lets go (false). */
  constructor(
    private readonly limitBytes: number,
    private readonly backlogBytes: () => number,
    private readonly onHold: (holding: boolean) => void = () => {},
  ) {}

  /** True while acknowledgements wait for the backlog to shrink. */
  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Acknowledges a journaled message at once while the backlog is within its limit, otherwise holds it. */
  pass(acknowledge: () => void): void {
    if (this.held.length === 0 && this.backlogBytes() <= this.limitBytes) acknowledge();
    else if (this.held.push(acknowledge) === 1) this.onHold(true);
  }

  /** The drainer stored a batch: what is held goes once the backlog is under 90 % of the limit. */
  release(): void {
    if (this.held.length === 0 || this.backlogBytes() > this.limitBytes * 0.9) return;
    const released = this.held.splice(0);
    this.onHold(false);
    for (const acknowledge of released) acknowledge();
  }
}
