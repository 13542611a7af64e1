/*
 * Each device's fair share at the broker (Mosquitto 2.0 plugin, API version 5).
 *
 * Mosquitto 2.0 has no per-client publish rate (mosquitto.conf(5) limits packets, queues and
 * memory only), so a device publishing at full speed filled ingest's queue on the broker: the
 * broker then dropped messages of every other device that it had already acknowledged (issue 22,
 * row 2: 1 MB invalid messages for 30 s cost 2,304 acknowledged readings of 200 other devices).
 *
 * This plugin keeps a token bucket of messages and of payload bytes per serial (the topic's
 * solar/v1/{serial}/ segment, so a gateway's inverters each have their own) and closes the
 * connection of a client whose PUBLISH does not fit its device's bucket, before the broker
 * acknowledges or queues it: nothing acknowledged is ever dropped, a device that bursts past its
 * share is slowed (its client reconnects and sends the message again), and a flooder costs the
 * broker one packet read per connection. Ingest still judges the contract's share precisely
 * (lib/telemetry/fair-share.ts); the broker's share is a multiple of it (BROKER_FAIR_SHARE), an outer
 * guard that keeps what one device can put into ingest's queue small.
 *
 * Every `report_seconds` it logs, at notice level, each serial whose messages it refused, with the
 * counts (serials only: no personal data). Notice, not warning: the broker publishes its notices to
 * $SYS/broker/log/N, which ingest follows and turns into a metric per serial (ingest/src/broker-log.ts
 * parses this line's wording).
 *
 * Options (plugin_opt_*, all required, written by ops/setup.sh): messages_per_second, message_burst,
 * bytes_per_second, byte_burst, report_seconds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define TOPIC_PREFIX "solar/v1/"
#define MAX_SERIAL_LENGTH 64
#define TABLE_SLOTS 65536u /* a power of two */
#define MAX_DEVICES 1048576u /* beyond it, new serials pass untracked (ingest still judges them) */
#define PRUNE_SECONDS 60.0

struct device {
	struct device *next;
	double messages;
	double bytes;
	double at;
	unsigned long refused_messages;
	unsigned long long refused_bytes;
	char serial[MAX_SERIAL_LENGTH + 1];
};

static struct {
	double messages_per_second;
	double message_burst;
	double bytes_per_second;
	double byte_burst;
	double report_seconds;
} share;

static mosquitto_plugin_id_t *plugin_id = NULL;
static struct device *table[TABLE_SLOTS];
static size_t device_count = 0;
static double last_report = 0, last_prune = 0;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for(size_t i = 0; i < n; i++){
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The serial of a solar/v1/{serial}/... topic, or false for any other topic (the ACL judges those). */
static bool serial_of(const char *topic, const char **serial, size_t *length)
{
	const size_t prefix = sizeof(TOPIC_PREFIX) - 1;
	if(topic == NULL || strncmp(topic, TOPIC_PREFIX, prefix) != 0) return false;
	const char *start = topic + prefix;
	const char *end = strchr(start, '/');
	size_t n = end ? (size_t)(end - start) : strlen(start);
	if(n == 0 || n > MAX_SERIAL_LENGTH) return false;
	*serial = start;
	*length = n;
	return true;
}

static struct device *device_for(const char *serial, size_t n, double now)
{
	uint32_t slot = hash(serial, n) & (TABLE_SLOTS - 1);
	for(struct device *d = table[slot]; d; d = d->next){
		if(strlen(d->serial) == n && memcmp(d->serial, serial, n) == 0) return d;
	}
	if(device_count >= MAX_DEVICES) return NULL;
	struct device *d = mosquitto_calloc(1, sizeof(*d));
	if(d == NULL) return NULL;
	memcpy(d->serial, serial, n);
	d->messages = share.message_burst;
	d->bytes = share.byte_burst;
	d->at = now;
	d->next = table[slot];
	table[slot] = d;
	device_count++;
	return d;
}

static void refill(struct device *d, double now)
{
	double seconds = now > d->at ? now - d->at : 0;
	d->messages += seconds * share.messages_per_second;
	if(d->messages > share.message_burst) d->messages = share.message_burst;
	d->bytes += seconds * share.bytes_per_second;
	if(d->bytes > share.byte_burst) d->bytes = share.byte_burst;
	d->at = now;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ed = event_data;
	const char *serial;
	size_t n;
	(void)event;
	(void)userdata;

	if(!serial_of(ed->topic, &serial, &n)) return MOSQ_ERR_SUCCESS;
	double now = now_seconds();
	struct device *d = device_for(serial, n, now);
	if(d == NULL) return MOSQ_ERR_SUCCESS;
	refill(d, now);
	if(d->messages >= 1 && d->bytes >= (double)ed->payloadlen){
		d->messages -= 1;
		d->bytes -= (double)ed->payloadlen;
		return MOSQ_ERR_SUCCESS;
	}
	d->refused_messages++;
	d->refused_bytes += ed->payloadlen;
	/* An error other than ACL_DENIED closes the connection without acknowledging the message
	 * (handle_publish.c): the device keeps it and sends it again once its share allows. */
	return MOSQ_ERR_ADMINISTRATIVE_ACTION;
}

/* Logs the serials refused since the last report; forgets devices whose buckets are full again. */
static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	double now = now_seconds();
	bool report = now - last_report >= share.report_seconds;
	bool prune = now - last_prune >= PRUNE_SECONDS;
	if(!report && !prune) return MOSQ_ERR_SUCCESS;

	for(uint32_t slot = 0; slot < TABLE_SLOTS; slot++){
		struct device **link = &table[slot];
		while(*link){
			struct device *d = *link;
			if(report && d->refused_messages > 0){
				mosquitto_log_printf(MOSQ_LOG_NOTICE,
						"fair share: device %s over its share at the broker (%.0f messages/s, bursts of %.0f; %.0f bytes/s, bursts of %.0f): "
						"%lu message(s) of %llu bytes refused in the last %.0f s, its connection closed each time",
						d->serial, share.messages_per_second, share.message_burst, share.bytes_per_second, share.byte_burst,
						d->refused_messages, d->refused_bytes, now - last_report);
				d->refused_messages = 0;
				d->refused_bytes = 0;
			}
			if(prune && d->refused_messages == 0){
				refill(d, now);
				if(d->messages >= share.message_burst && d->bytes >= share.byte_burst){
					*link = d->next;
					mosquitto_free(d);
					device_count--;
					continue;
				}
			}
			link = &d->next;
		}
	}
	if(report) last_report = now;
	if(prune) last_prune = now;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

static bool positive_option(struct mosquitto_opt *opts, int opt_count, const char *key, double *out)
{
	for(int i = 0; i < opt_count; i++){
		if(strcmp(opts[i].key, key) != 0) continue;
		char *end;
		errno = 0;
		double v = strtod(opts[i].value, &end);
		if(errno == 0 && end != opts[i].value && *end == '\0' && v > 0){
			*out = v;
			return true;
		}
		mosquitto_log_printf(MOSQ_LOG_ERR, "fair share: plugin_opt_%s must be a positive number, got '%s'", key, opts[i].value);
		return false;
	}
	mosquitto_log_printf(MOSQ_LOG_ERR, "fair share: plugin_opt_%s is missing", key);
	return false;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	if(!positive_option(opts, opt_count, "messages_per_second", &share.messages_per_second)
			|| !positive_option(opts, opt_count, "message_burst", &share.message_burst)
			|| !positive_option(opts, opt_count, "bytes_per_second", &share.bytes_per_second)
			|| !positive_option(opts, opt_count, "byte_burst", &share.byte_burst)
			|| !positive_option(opts, opt_count, "report_seconds", &share.report_seconds)){
		return MOSQ_ERR_INVAL;
	}
	plugin_id = identifier;
	last_report = last_prune = now_seconds();
	int rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
	if(rc != MOSQ_ERR_SUCCESS) return rc;
	rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
	if(rc != MOSQ_ERR_SUCCESS) return rc;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "fair share: each device %.0f messages/s (bursts of %.0f), %.0f bytes/s (bursts of %.0f)",
			share.messages_per_second, share.message_burst, share.bytes_per_second, share.byte_burst);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	(void)opts;
	(void)opt_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	for(uint32_t slot = 0; slot < TABLE_SLOTS; slot++){
		while(table[slot]){
			struct device *d = table[slot];
			table[slot] = d->next;
			mosquitto_free(d);
		}
	}
	device_count = 0;
	return MOSQ_ERR_SUCCESS;
}
