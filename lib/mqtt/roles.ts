// Broker roles of the platform's own services (device roles are per serial, made at provisioning).
export const SERVICE_ROLES = {
  // Ingest may read telemetry and status, through a shared subscription, and publish only confirmations.
  'ingest-service': [
    // Mosquitto checks a shared subscription against its full `$share/{group}/...` filter.
    { acltype: 'subscribePattern', topic: '$share/+/solar/v1/#', allow: true },
    { acltype: 'subscribePattern', topic: 'solar/v1/#', allow: true },
    { acltype: 'publishClientReceive', topic: 'solar/v1/#', allow: true },
    // Confirmations of what it journaled, to the gateway that asked (lib/telemetry/contract.ts, storedTopic).
    { acltype: 'publishClientSend', topic: 'solar/stored/v1/#', allow: true },
    // The broker's count of publishes received: how ingest notices it is connected but fed nothing.
    { acltype: 'subscribeLiteral', topic: '$SYS/broker/publish/messages/received', allow: true },
    { acltype: 'publishClientReceive', topic: '$SYS/broker/publish/messages/received', allow: true },
    // The broker's notices (log_dest topic): how ingest records a packet the broker cut for its size.
    { acltype: 'subscribeLiteral', topic: '$SYS/broker/log/N', allow: true },
    { acltype: 'publishClientReceive', topic: '$SYS/broker/log/N', allow: true },
  ],
  // Simulated fleets (demo, tests, benchmarks) publish for many serials from one process.
  'simulated-fleet': [{ acltype: 'publishClientSend', topic: 'solar/v1/#', allow: true }],
};
