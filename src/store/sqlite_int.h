/* sqlite_int.h — internals shared by the SQLite back-end's files only
 * (sqlite.c, migrate.c). Not for callers of store.h. */
#ifndef CO_STORE_SQLITE_INT_H
#define CO_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* The calling thread's connection (opened on first use), or NULL. */
sqlite3 *co_sqlite_conn(void *impl);
co_err co_sqlite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
co_err co_sqlite_step_done(sqlite3_stmt *st);
void co_sqlite_copy(char *dst, size_t len, sqlite3_stmt *st, int col);
/* A text column, "" for NULL (valid until the next step). */
const char *co_sqlite_text(sqlite3_stmt *st, int col);
/* A statement cached on the calling thread's connection, reset and with
 * bindings cleared; slot is a small constant chosen by the caller. Owned by
 * the connection (finalised when the store closes): never finalise it. */
sqlite3_stmt *co_sqlite_cached(void *impl, int slot, const char *sql);

/* The WAL's length (in frames) past which the checkpoint thread works to
 * start it again under continuous writes (sqlite.c, ckpt_main; default 8192,
 * 32 MiB of 4 KiB pages). For every SQLite store of the process; <= 0 sets
 * the default. */
void co_sqlite_set_log_limit(int frames);

/* The Open311 update feed: events other than registrations in [?2, ?3),
 * by time, ?4 rows after ?5. Its last condition is the partial index
 * events_ts's (migration 6), which is what lets SQLite use that index. */
#define CO_SQLITE_EVENTS_BY_TIME                                                            \
    "SELECT e.seq,e.case_id,e.ts,c.number,e.action,e.role,e.from_state,e.to_state,"        \
    " coalesce(json_extract(e.data,'$.note'),'') FROM events e"                             \
    " JOIN cases c ON c.id=e.case_id"                                                       \
    " WHERE e.ts>=?2 AND e.ts<?3 AND e.action!='register'"                                  \
    " ORDER BY e.ts, e.seq LIMIT ?4 OFFSET ?5"

/* sqlite_vfs.c — the default VFS with a WAL's consecutive writes gathered
 * into one system call (flushed at the end of every commit frame, before
 * SQLite publishes it). co_sqlite_vfs() registers it once and returns its
 * name for sqlite3_open_v2, or NULL where it cannot (not the unix VFS). */
#define CO_SQLITE_VFS "cityops"
/* a WAL's file grows by this many bytes of zeros at a time */
#define CO_SQLITE_LOG_CHUNK (1 << 20)
const char *co_sqlite_vfs(void);
/* Writes to WAL files it received, system calls it made for them, and times
 * a log grew by a chunk of zeros (all connections of the process, since
 * start; grown may be NULL). */
void co_sqlite_vfs_counts(uint64_t *gathered, uint64_t *written, uint64_t *grown);

/* sqlite_cases.c — cases, events, media */
#include "domain/case.h"
struct co_case_query;
co_err co_sqlite_event_append(void *impl, co_event *ev);
co_err co_sqlite_case_put(void *impl, const co_case *c, const char *doc);
co_err co_sqlite_case_get(void *impl, int64_t id, const char *number, co_case *out);
co_err co_sqlite_cases_each(void *impl, int (*cb)(void *, const co_case *), void *ctx);
co_err co_sqlite_cases_each_light(void *impl, int (*cb)(void *, const co_case *), void *ctx);
co_err co_sqlite_cases_query(void *impl, const struct co_case_query *q,
                             int (*cb)(void *, const co_case *), void *ctx);
co_err co_sqlite_events_of(void *impl, int64_t case_id, int (*cb)(void *, const co_event *),
                           void *ctx);
co_err co_sqlite_case_max_id(void *impl, int64_t *id, int64_t *seq);
co_err co_sqlite_changes_since(void *impl, int64_t after, int64_t before, int limit,
                               int (*cb)(void *, const co_case *, const co_event *), void *ctx);
co_err co_sqlite_events_each(void *impl, int (*cb)(void *, const co_event *), void *ctx);
co_err co_sqlite_case_last_number(void *impl, const char *prefix, int64_t *seq);
co_err co_sqlite_media_put(void *impl, const char *hash, const char *type, int64_t size);
co_err co_sqlite_media_get(void *impl, const char *hash, char *type, size_t len);

/* sqlite_config.c — taxonomy versions, routing rules, calendar days */
struct co_rule_rec;
co_err co_sqlite_taxonomy_put(void *impl, int64_t version, const char *doc, const char *author);
co_err co_sqlite_taxonomy_get(void *impl, int64_t version, char **doc, int64_t *version_out);
co_err co_sqlite_rule_put(void *impl, const struct co_rule_rec *r, int64_t *id_out);
co_err co_sqlite_rule_del(void *impl, int64_t id);
co_err co_sqlite_rules_each(void *impl, int (*cb)(void *, const struct co_rule_rec *), void *ctx);
co_err co_sqlite_calday_put(void *impl, int64_t day, int kind, const char *name);
co_err co_sqlite_caldays_each(void *impl, int (*cb)(void *, int64_t, int, const char *),
                              void *ctx);

/* sqlite_apikeys.c — Open311: API keys, request extras, client updates,
 * events by time */
struct co_apikey_rec;
struct co_open311_request_rec;
struct co_open311_update_rec;
struct co_event_brief;
co_err co_sqlite_apikey_put(void *impl, const struct co_apikey_rec *k, int64_t *id_out);
co_err co_sqlite_apikey_find(void *impl, const char *key_hash,
                             int (*cb)(void *, const struct co_apikey_rec *), void *ctx);
co_err co_sqlite_apikeys_each(void *impl, int (*cb)(void *, const struct co_apikey_rec *),
                              void *ctx);
co_err co_sqlite_apikey_revoke(void *impl, int64_t id);
co_err co_sqlite_open311_request_put(void *impl, const struct co_open311_request_rec *r);
co_err co_sqlite_open311_requests_find(void *impl, const char *token, const char *numbers,
                                       int (*cb)(void *, const struct co_open311_request_rec *),
                                       void *ctx);
co_err co_sqlite_open311_update_put(void *impl, const struct co_open311_update_rec *u,
                                    int64_t *id_out);
co_err co_sqlite_open311_updates_of(void *impl, const char *number,
                                    int (*cb)(void *, const struct co_open311_update_rec *),
                                    void *ctx);
co_err co_sqlite_events_brief(void *impl, const char *case_ids, int64_t from, int64_t to,
                              int limit, int offset,
                              int (*cb)(void *, const struct co_event_brief *), void *ctx);

/* sqlite_backup.c — the online backup (co_store_backup) */
co_err co_sqlite_backup(void *impl, const char *dest, void (*cb)(void *, int64_t, int64_t),
                        void *ctx);

/* Applies pending migrations in one transaction each. */
co_err co_sqlite_migrate(sqlite3 *db);
int co_sqlite_user_version(sqlite3 *db);

#endif
