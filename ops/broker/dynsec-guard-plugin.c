/*
 * Keeps the broker's accounts through a crash (Mosquitto 2.0 plugin, API version 5).
 *
 * Mosquitto 2.0.11's dynamic-security plugin means to save its file (every account, role and ACL)
 * to "<file>.new" and rename it over the file, but sizes the name's buffer for the file's own name,
 * so ".new" is cut off: it truncates the file and rewrites it in place after every command that
 * changes an account (fixed in later 2.0 releases). A broker killed mid-save (kill -9, the OOM
 * killer, a power cut) leaves the file empty or cut short, and the plugin then loads an empty file
 * as no accounts at all and an invalid one as none either, without refusing to start: every device,
 * gateway and service account, the admin's too, is gone.
 *
 * This plugin, loaded before the dynamic-security plugin and given the same file
 * (plugin_opt_file), keeps a verified copy and puts it back:
 *  - after a save (checked on the broker's tick, in the broker's own thread, so never mid-save):
 *    when the file changed and is a whole JSON object with its clients and roles, it is copied to
 *    "<file>.verified" (written beside it, fsynced, renamed over the copy: never half a copy);
 *  - at start, before the dynamic-security plugin reads the file: a file missing, empty or cut short
 *    is replaced by the verified copy, and the broker logs it (warning: "dynsec guard: ... restored");
 *    with no verified copy either, the broker refuses to start and says why, rather than run with
 *    no accounts.
 * A save cut short loses at most the change being saved (its command was never answered).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define CHECK_SECONDS 0.2

static mosquitto_plugin_id_t *plugin_id;
static char *file_path;
static char *copy_path;
static struct stat copied; /* the file as it was when last looked at */
static double last_check;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole file, NUL-terminated; NULL when it cannot be read (errno says why). */
static char *read_whole(const char *path, size_t *length)
{
	FILE *f = fopen(path, "rb");
	if(!f) return NULL;
	char *data = NULL;
	long size = -1;
	if(fseek(f, 0, SEEK_END) == 0) size = ftell(f);
	if(size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size + 1)) != NULL){
		if(fread(data, 1, (size_t)size, f) == (size_t)size){
			data[size] = '\0';
			*length = (size_t)size;
		}else{
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

/*
 * A whole JSON object holding clients and roles: '{' first, brackets balanced outside strings and
 * closed by the last byte that is not a space. A save cut short is a prefix of one and fails.
 */
static bool whole_accounts(const char *s, size_t n)
{
	size_t i = 0;
	while(i < n && isspace((unsigned char)s[i])) i++;
	if(i == n || s[i] != '{') return false;
	int depth = 0;
	bool in_string = false, escaped = false;
	for(; i < n; i++){
		char c = s[i];
		if(in_string){
			if(escaped) escaped = false;
			else if(c == '\\') escaped = true;
			else if(c == '"') in_string = false;
		}else if(c == '"'){
			in_string = true;
		}else if(c == '{' || c == '['){
			depth++;
		}else if(c == '}' || c == ']'){
			if(--depth == 0){
				i++;
				break;
			}
		}
	}
	if(depth != 0) return false;
	while(i < n && isspace((unsigned char)s[i])) i++;
	return i == n && strstr(s, "\"clients\"") && strstr(s, "\"roles\"");
}

/* Writes `path` whole or not at all: beside it, fsynced, renamed over it, the directory fsynced. */
static bool write_whole(const char *path, const char *data, size_t length)
{
	size_t tmp_length = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(tmp_length);
	if(!tmp) return false;
	snprintf(tmp, tmp_length, "%s.tmp", path);
	bool ok = false;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if(fd >= 0){
		size_t done = 0;
		while(done < length){
			ssize_t w = write(fd, data + done, length - done);
			if(w < 0 && errno == EINTR) continue;
			if(w <= 0) break;
			done += (size_t)w;
		}
		ok = done == length && fsync(fd) == 0;
		ok = close(fd) == 0 && ok;
		ok = ok && rename(tmp, path) == 0;
		if(!ok) unlink(tmp);
	}
	free(tmp);
	if(ok){
		char *dir_of = strdup(path);
		int dir = dir_of ? open(dirname(dir_of), O_RDONLY | O_DIRECTORY) : -1;
		if(dir >= 0){
			fsync(dir);
			close(dir);
		}
		free(dir_of);
	}
	return ok;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec
			&& a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* After a save: a changed file that is whole becomes the verified copy. */
static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	double now = now_seconds();
	if(now - last_check < CHECK_SECONDS) return MOSQ_ERR_SUCCESS;
	last_check = now;
	struct stat st;
	if(stat(file_path, &st) != 0 || same_file(&st, &copied)) return MOSQ_ERR_SUCCESS;
	copied = st;
	size_t length = 0;
	char *data = read_whole(file_path, &length);
	if(data && whole_accounts(data, length)){
		if(!write_whole(copy_path, data, length))
			mosquitto_log_printf(MOSQ_LOG_ERR, "dynsec guard: could not write the verified copy %s: %s", copy_path, strerror(errno));
	}else{
		mosquitto_log_printf(MOSQ_LOG_WARNING,
				"dynsec guard: %s is not whole after a save (%ld bytes; a full disk?): the verified copy %s is kept as it was",
				file_path, (long)st.st_size, copy_path);
	}
	free(data);
	return MOSQ_ERR_SUCCESS;
}

/* At start, before the dynamic-security plugin reads the file: whole, or put back from the copy. */
static int check_at_start(void)
{
	size_t length = 0;
	errno = 0;
	char *data = read_whole(file_path, &length);
	if(data && whole_accounts(data, length)){
		bool ok = write_whole(copy_path, data, length);
		free(data);
		if(!ok){
			mosquitto_log_printf(MOSQ_LOG_ERR, "dynsec guard: could not write the verified copy %s: %s", copy_path, strerror(errno));
			return MOSQ_ERR_UNKNOWN;
		}
		return MOSQ_ERR_SUCCESS;
	}
	char found[64];
	if(!data) snprintf(found, sizeof(found), "unreadable (%s)", strerror(errno));
	else if(length == 0) snprintf(found, sizeof(found), "empty (0 bytes)");
	else snprintf(found, sizeof(found), "cut short (%zu bytes, not a whole JSON object)", length);
	free(data);

	size_t copy_length = 0;
	char *copy = read_whole(copy_path, &copy_length);
	if(!copy || !whole_accounts(copy, copy_length)){
		mosquitto_log_printf(MOSQ_LOG_ERR,
				"dynsec guard: %s is %s, a save cut short by a crash, and there is no whole verified copy (%s): "
				"the broker would start without any account, so it does not start; restore the file from a backup",
				file_path, found, copy_path);
		free(copy);
		return MOSQ_ERR_INVAL;
	}
	struct stat st;
	char at[32] = "?";
	if(stat(copy_path, &st) == 0) strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S UTC", gmtime(&st.st_mtim.tv_sec));
	bool ok = write_whole(file_path, copy, copy_length);
	free(copy);
	if(!ok){
		mosquitto_log_printf(MOSQ_LOG_ERR, "dynsec guard: %s is %s and could not be restored from %s: %s", file_path, found,
				copy_path, strerror(errno));
		return MOSQ_ERR_UNKNOWN;
	}
	mosquitto_log_printf(MOSQ_LOG_WARNING,
			"dynsec guard: %s was %s, a save cut short by a crash: restored the verified copy of %s (%zu bytes); "
			"a change being saved at the crash is lost",
			file_path, found, at, copy_length);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	for(int i = 0; i < opt_count; i++){
		if(strcmp(opts[i].key, "file") == 0) file_path = strdup(opts[i].value);
	}
	if(!file_path || !*file_path){
		mosquitto_log_printf(MOSQ_LOG_ERR, "dynsec guard: plugin_opt_file (the dynamic-security plugin's config_file) is missing");
		return MOSQ_ERR_INVAL;
	}
	size_t copy_length = strlen(file_path) + sizeof(".verified");
	copy_path = malloc(copy_length);
	if(!copy_path) return MOSQ_ERR_NOMEM;
	snprintf(copy_path, copy_length, "%s.verified", file_path);
	int rc = check_at_start();
	if(rc != MOSQ_ERR_SUCCESS) return rc;
	stat(file_path, &copied);
	plugin_id = identifier;
	last_check = now_seconds();
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	(void)opts;
	(void)opt_count;
	if(plugin_id) mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	free(file_path);
	free(copy_path);
	file_path = copy_path = NULL;
	return MOSQ_ERR_SUCCESS;
}
