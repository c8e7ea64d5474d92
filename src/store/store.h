/* store.h — the storage interface. Every read and write of persistent data
 * goes through these functions; they dispatch to a back-end (a const table of
 * function pointers). sqlite.c is the embedded default (DIR/cityops.db, WAL);
 * pg.c is PostgreSQL + PostGIS (a postgres:// URL, co_store_open_url).
 *
 * Threads: a co_store may be used from any thread; the back-end keeps one
 * connection per thread. Strings in records passed *in* are borrowed for the
 * call. Records handed *out* through callbacks are valid only during the
 * callback; records returned through out-parameters are owned by the caller
 * and released with the matching _free function. */
#ifndef CO_STORE_H
#define CO_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "domain/case.h"
#include "lib/buf.h"
#include "lib/err.h"

typedef struct co_store co_store;

/* ---- areas (district → street → community → grid) ---- */
typedef enum co_level {
    CO_LEVEL_CITY = 0,
    CO_LEVEL_DISTRICT = 1,
    CO_LEVEL_STREET = 2,
    CO_LEVEL_COMMUNITY = 3,
    CO_LEVEL_GRID = 4,
} co_level;

typedef struct co_area_rec {
    const char *code;
    const char *name;
    const char *parent;     /* "" for the top */
    co_level level;
    const char *geometry;   /* GeoJSON geometry text, may be NULL */
    double area_m2;
    double cx, cy;          /* a point inside the area (WGS84) */
    double minx, miny, maxx, maxy;
} co_area_rec;

typedef int (*co_area_cb)(void *ctx, const co_area_rec *rec); /* non-zero stops */

/* ---- users ---- */
typedef struct co_user_rec {
    int64_t id;
    const char *username;
    const char *display_name;
    const char *password_hash;  /* argon2id encoded string */
    const char *role;           /* co_role_name() */
    const char *dept;           /* department code or "" */
    const char *scope;          /* area code or "" */
    int disabled;
} co_user_rec;

/* An owned copy of a user record. */
typedef struct co_user {
    int64_t id;
    char username[64];
    char display_name[64];
    char password_hash[160];
    char role[16];
    char dept[32];
    char scope[16];
    int disabled;
} co_user;

typedef int (*co_user_cb)(void *ctx, const co_user *u);

/* ---- sessions ---- */
typedef struct co_session_rec {
    const char *token_hash;
    const char *csrf;
    int64_t user_id;
    int64_t expires;
} co_session_rec;
typedef int (*co_session_cb)(void *ctx, const co_session_rec *s);

/* ---- departments ---- */
typedef struct co_dept_rec {
    const char *code;
    const char *name;
    const char *type;       /* department type code (城管, 环卫, ...) */
    const char *area;       /* area code the department covers, "" = whole city */
    const char *hours;      /* working hours "08:30-12:00,14:30-18:00" or "" */
} co_dept_rec;
typedef int (*co_dept_cb)(void *ctx, const co_dept_rec *d);

/* ---- cases and events ---- */
typedef int (*co_case_cb)(void *ctx, const co_case *c);
typedef int (*co_event_cb)(void *ctx, const co_event *e);
/* A committed change: the event and its case's row as it is now (which may
 * already reflect later events of the same case). */
typedef int (*co_change_cb)(void *ctx, const co_case *c, const co_event *e);

/* A list query over stored cases (all filters optional). */
typedef struct co_case_query {
    unsigned states;          /* mask of (1u << co_state); 0 = any */
    co_category category;     /* 0 = any */
    const char *area;         /* area code prefix at any level, NULL = any */
    const char *dept;         /* department in charge, NULL = any */
    int channel;              /* -1 = any */
    int overdue;              /* 1: open and disposal_due < now */
    int64_t now;
    int64_t from, to;         /* created in [from, to), 0 = open-ended */
    const char *text;         /* substring of description/address/number */
    const char *phone;        /* exact caller phone */
    const char *reporter;     /* registered by this user */
    int pending_role;         /* >= 0: only cases where this role has an action to take */
    int64_t before_id;        /* cursor: only ids < before_id (0 = from the newest) */
    int limit;                /* 1..500 */
    int64_t updated_from, updated_to; /* last change in [from, to), 0 = open-ended */
    const char *categories;   /* JSON array of packed categories "[10101,20102]", NULL = any */
    const double *bbox;       /* {min lon, min lat, max lon, max lat} (WGS84), NULL = any */
    int offset;               /* skip this many matches first (pages), 0 = none */
    const int64_t *ids;       /* only these case ids (candidates, at most 500), NULL = any */
    size_t nids;
} co_case_query;

/* ---- audit log ---- */
typedef struct co_audit_rec {
    int64_t id, ts;
    const char *actor, *action, *detail;
} co_audit_rec;
typedef int (*co_audit_cb)(void *ctx, const co_audit_rec *a);

/* ---- configuration: taxonomy versions, routing rules, calendar days ---- */
typedef struct co_rule_rec {
    int64_t id;
    const char *category;   /* "C0101"/"E0102" or "" */
    const char *area;       /* area code or "" */
    const char *dept;
    const char *note;
} co_rule_rec;
typedef int (*co_rule_cb)(void *ctx, const co_rule_rec *r);
typedef int (*co_calday_cb)(void *ctx, int64_t day, int kind, const char *name);

/* ---- Open311: API keys, requests taken through Open311, client updates ---- */
typedef struct co_apikey_rec {
    int64_t id;
    const char *name;         /* the client, unique */
    const char *key_hash;     /* keyed hash of the key (hex); the key is never stored */
    const char *prefix;       /* its first characters, to recognise it in lists */
    int64_t created;
    const char *created_by;
    int revoked;
    double rate;              /* requests per second, 0 = the installation's default */
    int burst;                /* bucket size, 0 = the installation's default */
} co_apikey_rec;
typedef int (*co_apikey_cb)(void *ctx, const co_apikey_rec *k);

/* What an Open311 POST brought that a case has no field for. */
typedef struct co_open311_request_rec {
    const char *token;        /* issued for the request, unique */
    const char *number;       /* the case number (= service_request_id) */
    int64_t key_id;
    int64_t created;
    const char *description;  /* as sent (the case holds at most CO_TEXT_MAX bytes) */
    const char *attributes;   /* JSON object text {code: value | [values]} */
    const char *media_url, *email, *first_name, *last_name, *phone, *device_id, *account_id,
        *address_id;
} co_open311_request_rec;
typedef int (*co_open311_request_cb)(void *ctx, const co_open311_request_rec *r);

/* An update a client pushed (FixMyStreet's POST servicerequestupdates). */
typedef struct co_open311_update_rec {
    int64_t id;
    int64_t key_id;
    const char *update_id;    /* the client's id, unique per key */
    const char *number;
    const char *status;
    const char *description;
    int64_t updated;          /* when the client says it happened */
    int64_t created;
    const char *media_url, *first_name, *last_name, *email, *phone, *external_status_code;
} co_open311_update_rec;
typedef int (*co_open311_update_cb)(void *ctx, const co_open311_update_rec *u);

/* An event without its data, but with its case number and note. */
typedef struct co_event_brief {
    int64_t seq, case_id, ts;
    const char *number;
    const char *action, *role;
    co_state from, to;
    const char *note;         /* data.note, "" when none */
} co_event_brief;
typedef int (*co_event_brief_cb)(void *ctx, const co_event_brief *e);

/* ---- integrity: one problem the engine's own check found ---- */
typedef void (*co_integrity_cb)(void *ctx, const char *problem);

/* ---- backup: progress of an online copy (pages done of total) ---- */
typedef void (*co_backup_progress_cb)(void *ctx, int64_t done, int64_t total);

/* ---- the back-end table ---- */
typedef struct co_store_backend {
    const char *name;
    /* 1 when the cases table has indexes on area and department, so a list
     * filtered by them is fast in the store itself (co_store_indexes_place) */
    int indexes_place;
    co_err (*open)(const char *dir, void **impl);
    void (*close)(void *impl);
    int (*schema_version)(void *impl);
    co_err (*meta_get)(void *impl, const char *key, char *val, size_t len);
    co_err (*meta_set)(void *impl, const char *key, const char *val);
    co_err (*areas_replace)(void *impl, co_level level, const char *within,
                            const co_area_rec *recs, size_t n);
    co_err (*areas_each)(void *impl, int level, int with_geometry, co_area_cb cb, void *ctx);
    co_err (*area_get)(void *impl, const char *code, co_area_cb cb, void *ctx);
    co_err (*user_put)(void *impl, const co_user_rec *u, int64_t *id_out);
    co_err (*user_get)(void *impl, const char *username, co_user *out);
    co_err (*user_get_id)(void *impl, int64_t id, co_user *out);
    co_err (*users_each)(void *impl, co_user_cb cb, void *ctx);
    co_err (*session_put)(void *impl, const co_session_rec *s);
    co_err (*session_del)(void *impl, const char *token_hash);
    co_err (*sessions_each)(void *impl, int64_t now, co_session_cb cb, void *ctx);
    co_err (*dept_put)(void *impl, const co_dept_rec *d);
    co_err (*depts_each)(void *impl, co_dept_cb cb, void *ctx);
    co_err (*audit_add)(void *impl, int64_t ts, const char *actor, const char *action,
                        const char *detail);
    co_err (*audit_each)(void *impl, int64_t before_id, int limit, co_audit_cb cb, void *ctx);
    co_err (*event_append)(void *impl, co_event *ev);           /* sets ev->seq */
    co_err (*case_put)(void *impl, const co_case *c, const char *doc);
    co_err (*case_get)(void *impl, int64_t id, const char *number, co_case *out);
    co_err (*cases_each)(void *impl, co_case_cb cb, void *ctx);
    co_err (*cases_each_light)(void *impl, co_case_cb cb, void *ctx);
    co_err (*cases_query)(void *impl, const co_case_query *q, co_case_cb cb, void *ctx);
    co_err (*events_of)(void *impl, int64_t case_id, co_event_cb cb, void *ctx);
    co_err (*case_max_id)(void *impl, int64_t *id, int64_t *seq);
    co_err (*events_each)(void *impl, co_event_cb cb, void *ctx);
    co_err (*case_last_number)(void *impl, const char *prefix, int64_t *seq);
    co_err (*media_put)(void *impl, const char *hash, const char *type, int64_t size);
    co_err (*media_get)(void *impl, const char *hash, char *type, size_t len);
    co_err (*taxonomy_put)(void *impl, int64_t version, const char *doc, const char *author);
    co_err (*taxonomy_get)(void *impl, int64_t version, char **doc, int64_t *version_out);
    co_err (*rule_put)(void *impl, const co_rule_rec *r, int64_t *id_out);
    co_err (*rule_del)(void *impl, int64_t id);
    co_err (*rules_each)(void *impl, co_rule_cb cb, void *ctx);
    co_err (*calday_put)(void *impl, int64_t day, int kind, const char *name);
    co_err (*caldays_each)(void *impl, co_calday_cb cb, void *ctx);
    co_err (*begin)(void *impl);
    co_err (*commit)(void *impl);
    co_err (*rollback)(void *impl);
    /* Open311 (sqlite_apikeys.c) */
    co_err (*apikey_put)(void *impl, const co_apikey_rec *k, int64_t *id_out);
    co_err (*apikey_find)(void *impl, const char *key_hash, co_apikey_cb cb, void *ctx);
    co_err (*apikeys_each)(void *impl, co_apikey_cb cb, void *ctx);
    co_err (*apikey_revoke)(void *impl, int64_t id);
    co_err (*open311_request_put)(void *impl, const co_open311_request_rec *r);
    co_err (*open311_requests_find)(void *impl, const char *token, const char *numbers,
                                    co_open311_request_cb cb, void *ctx);
    co_err (*open311_update_put)(void *impl, const co_open311_update_rec *u, int64_t *id_out);
    co_err (*open311_updates_of)(void *impl, const char *number, co_open311_update_cb cb,
                                 void *ctx);
    co_err (*events_brief)(void *impl, const char *case_ids, int64_t from, int64_t to,
                           int limit, int offset, co_event_brief_cb cb, void *ctx);
    /* the engine's own consistency check (see co_store_integrity) */
    co_err (*integrity)(void *impl, co_integrity_cb cb, void *ctx);
    /* several nodes on one store (NULL where one process owns the store) */
    co_err (*changes_since)(void *impl, int64_t after, int64_t before, int limit, co_change_cb cb,
                            void *ctx);
    co_err (*wait_events)(void *impl, int timeout_ms, int *notified);
    co_err (*reserve)(void *impl, const char *counter, int64_t floor, int64_t block,
                      int64_t *last);
    co_err (*session_get)(void *impl, const char *token_hash, int64_t now, co_session_cb cb,
                          void *ctx);
    co_err (*sessions_trim)(void *impl, int64_t user_id, const char *spare, int keep,
                            co_session_cb cb, void *ctx);
    co_err (*seq_reserve)(void *impl, int n, int64_t *out);
    /* an online, consistent copy into dest (see co_store_backup); NULL when
     * the engine has its own tools (PostgreSQL: pg_dump) */
    co_err (*backup)(void *impl, const char *dest, co_backup_progress_cb cb, void *ctx);
} co_store_backend;

extern const co_store_backend co_store_sqlite;
extern const co_store_backend co_store_pg; /* PostgreSQL + PostGIS (pg.c) */

/* Opens (creating if needed) the store in dir with the default back-end and
 * applies pending schema migrations. */
co_err co_store_open(const char *dir, co_store **out) CO_MUST_CHECK;
co_err co_store_open_with(const co_store_backend *be, const char *dir, co_store **out) CO_MUST_CHECK;
/* Opens the store named by where: a libpq URI "postgres://…" or
 * "postgresql://…" (PostgreSQL + PostGIS), "sqlite:DIR", or a plain
 * directory (SQLite). NULL or "" is an error. */
co_err co_store_open_url(const char *where, co_store **out) CO_MUST_CHECK;
/* 1 when where names a PostgreSQL store. */
int co_store_is_pg_url(const char *where);
void co_store_close(co_store *s);
const char *co_store_dir(const co_store *s);
int co_store_schema_version(co_store *s);

co_err co_store_meta_get(co_store *s, const char *key, char *val, size_t len) CO_MUST_CHECK;
co_err co_store_meta_set(co_store *s, const char *key, const char *val) CO_MUST_CHECK;

/* Atomically replaces every area of `level` (below `within` when non-empty)
 * with recs: all or nothing. */
co_err co_store_areas_replace(co_store *s, co_level level, const char *within,
                              const co_area_rec *recs, size_t n) CO_MUST_CHECK;
/* Calls cb for each area of level (-1 = all levels) in code order. */
co_err co_store_areas_each(co_store *s, int level, int with_geometry, co_area_cb cb, void *ctx)
    CO_MUST_CHECK;
/* Calls cb once with the area (with geometry); CO_ENOTFOUND if absent. */
co_err co_store_area_get(co_store *s, const char *code, co_area_cb cb, void *ctx) CO_MUST_CHECK;

/* Inserts (id 0) or updates a user by username; *id_out may be NULL. */
co_err co_store_user_put(co_store *s, const co_user_rec *u, int64_t *id_out) CO_MUST_CHECK;
co_err co_store_user_get(co_store *s, const char *username, co_user *out) CO_MUST_CHECK;
co_err co_store_user_get_id(co_store *s, int64_t id, co_user *out) CO_MUST_CHECK;
co_err co_store_users_each(co_store *s, co_user_cb cb, void *ctx) CO_MUST_CHECK;

co_err co_store_session_put(co_store *s, const co_session_rec *rec) CO_MUST_CHECK;
co_err co_store_session_del(co_store *s, const char *token_hash) CO_MUST_CHECK;
co_err co_store_sessions_each(co_store *s, int64_t now, co_session_cb cb, void *ctx) CO_MUST_CHECK;
/* Deletes the user's sessions other than `spare` (a token hash) beyond the
 * `keep` that expire last (ties by token hash), in one statement; cb is
 * called with each one deleted (only token_hash is set) so memory can
 * forget it. */
co_err co_store_sessions_trim(co_store *s, int64_t user_id, const char *spare, int keep,
                              co_session_cb cb, void *ctx) CO_MUST_CHECK;

co_err co_store_dept_put(co_store *s, const co_dept_rec *d) CO_MUST_CHECK;
co_err co_store_depts_each(co_store *s, co_dept_cb cb, void *ctx) CO_MUST_CHECK;

co_err co_store_audit(co_store *s, const char *actor, const char *action, const char *detail)
    CO_MUST_CHECK;
/* Audit entries newest first (before_id 0 = from the newest), at most limit. */
co_err co_store_audit_each(co_store *s, int64_t before_id, int limit, co_audit_cb cb, void *ctx)
    CO_MUST_CHECK;

/* Appends an event (assigning ev->seq unless co_store_seq_reserve gave it
 * one) and writes the case row it produced. Call both inside one
 * transaction (the writer does). */
co_err co_store_event_append(co_store *s, co_event *ev) CO_MUST_CHECK;
co_err co_store_case_put(co_store *s, const co_case *c) CO_MUST_CHECK;
/* The same with the case's JSON document already serialised (borrowed). */
co_err co_store_case_put_doc(co_store *s, const co_case *c, const char *doc) CO_MUST_CHECK;
/* By id (number NULL) or by number (id 0). CO_ENOTFOUND if absent. */
co_err co_store_case_get(co_store *s, int64_t id, const char *number, co_case *out) CO_MUST_CHECK;
/* Every case in id order (start-up load of the projection). */
co_err co_store_cases_each(co_store *s, co_case_cb cb, void *ctx) CO_MUST_CHECK;
/* Every case in id order without its texts (description, address, caller,
 * photos, coordinates): the columns the projection needs, read fast. */
co_err co_store_cases_each_light(co_store *s, co_case_cb cb, void *ctx) CO_MUST_CHECK;
/* Cases matching q, newest first, at most q->limit. */
co_err co_store_cases_query(co_store *s, const co_case_query *q, co_case_cb cb, void *ctx)
    CO_MUST_CHECK;
/* The events of one case in order. */
co_err co_store_events_of(co_store *s, int64_t case_id, co_event_cb cb, void *ctx) CO_MUST_CHECK;
/* Every event in sequence order, for start-up replays of what case rows do
 * not hold. Register events carry only {"step_due"} of their case. */
co_err co_store_events_each(co_store *s, co_event_cb cb, void *ctx) CO_MUST_CHECK;
/* Highest case id and event sequence (0 when empty). */
co_err co_store_case_max_id(co_store *s, int64_t *id, int64_t *seq) CO_MUST_CHECK;
/* Highest daily sequence among case numbers starting with prefix (YYYYMMDD). */
co_err co_store_case_last_number(co_store *s, const char *prefix, int64_t *seq) CO_MUST_CHECK;
co_err co_store_media_put(co_store *s, const char *hash, const char *type, int64_t size)
    CO_MUST_CHECK;
co_err co_store_media_get(co_store *s, const char *hash, char *type, size_t len) CO_MUST_CHECK;

/* Taxonomy documents by version; version 0 = the latest. *doc is a new
 * string the caller frees with co_free. CO_ENOTFOUND when none. */
co_err co_store_taxonomy_put(co_store *s, int64_t version, const char *doc, const char *author)
    CO_MUST_CHECK;
co_err co_store_taxonomy_get(co_store *s, int64_t version, char **doc, int64_t *version_out)
    CO_MUST_CHECK;
/* Routing rules: id 0 inserts. */
co_err co_store_rule_put(co_store *s, const co_rule_rec *r, int64_t *id_out) CO_MUST_CHECK;
co_err co_store_rule_del(co_store *s, int64_t id) CO_MUST_CHECK;
co_err co_store_rules_each(co_store *s, co_rule_cb cb, void *ctx) CO_MUST_CHECK;
/* Admin calendar overrides (kind 0 removes the override). */
co_err co_store_calday_put(co_store *s, int64_t day, int kind, const char *name) CO_MUST_CHECK;
co_err co_store_caldays_each(co_store *s, co_calday_cb cb, void *ctx) CO_MUST_CHECK;

/* Open311 API keys. put inserts (CO_EEXIST when the name or the key is
 * taken); find calls cb once for the key with this hash (CO_ENOTFOUND when
 * none, revoked or not); revoke marks it (CO_ENOTFOUND when no such id). */
co_err co_store_apikey_put(co_store *s, const co_apikey_rec *k, int64_t *id_out) CO_MUST_CHECK;
co_err co_store_apikey_find(co_store *s, const char *key_hash, co_apikey_cb cb, void *ctx)
    CO_MUST_CHECK;
co_err co_store_apikeys_each(co_store *s, co_apikey_cb cb, void *ctx) CO_MUST_CHECK;
co_err co_store_apikey_revoke(co_store *s, int64_t id) CO_MUST_CHECK;
/* Open311 request extras: put inserts (CO_EEXIST for a used token); find
 * calls cb for the request with this token, or (token NULL) for each request
 * whose number is in numbers, a JSON array of strings. */
co_err co_store_open311_request_put(co_store *s, const co_open311_request_rec *r) CO_MUST_CHECK;
co_err co_store_open311_requests_find(co_store *s, const char *token, const char *numbers,
                                      co_open311_request_cb cb, void *ctx) CO_MUST_CHECK;
/* Client updates: put inserts (CO_EEXIST when the key already sent this
 * update_id); updates_of lists those of one case in arrival order. */
co_err co_store_open311_update_put(co_store *s, const co_open311_update_rec *u, int64_t *id_out)
    CO_MUST_CHECK;
co_err co_store_open311_updates_of(co_store *s, const char *number, co_open311_update_cb cb,
                                   void *ctx) CO_MUST_CHECK;
/* Events without their data. With case_ids (a JSON array of case ids): every
 * event of those cases but the register ones, by case then sequence. Without:
 * the events with ts in [from, to) but the register ones, by time, skipping
 * offset and stopping after limit (1..1000). */
co_err co_store_events_brief(co_store *s, const char *case_ids, int64_t from, int64_t to,
                             int limit, int offset, co_event_brief_cb cb, void *ctx)
    CO_MUST_CHECK;

/* Runs the back-end's own consistency check (SQLite: PRAGMA integrity_check
 * and foreign_key_check) and calls cb once per problem found (the text is
 * valid during the call). CO_OK when the check ran, whatever it found;
 * CO_ENOTFOUND when the back-end has no such check. Case rows against their
 * events are checked above the store (cityops check, src/cli/check.c). */
co_err co_store_integrity(co_store *s, co_integrity_cb cb, void *ctx) CO_MUST_CHECK;
/* Whether event sequence numbers come without gaps (SQLite: the single
 * writer numbers them; PostgreSQL: a sequence, whose numbers a rolled-back
 * transaction does not give back — strictly increasing, gaps allowed). */
int co_store_seq_gapless(const co_store *s);
/* Copies the live store into the file dest (which must not exist) while the
 * server keeps running: readers never wait, the writer waits at most one
 * small step at a time; the copy is one consistent snapshot (SQLite's online
 * backup API, restarted when a commit lands mid-copy). cb (may be NULL)
 * reports progress. CO_ENOTSUP for back-ends with their own tools. */
co_err co_store_backup(co_store *s, const char *dest, co_backup_progress_cb cb, void *ctx)
    CO_MUST_CHECK;

/* ---- several nodes on one store (PostgreSQL) ----
 * 1 when other processes may write to the same store at the same time
 * (PostgreSQL): ids and numbers then come from co_store_reserve, and each
 * node follows the others' events (co_store_changes_since). Writers take a
 * transaction-wide lock before their first statement, so sequence order is
 * commit order: a reader that sees event N sees every event before it. */
int co_store_shared(const co_store *s);
/* 1 when the store indexes cases by area and department. SQLite does not:
 * every such index costs a random page write per case at intake, so the
 * caller narrows those lists with the in-memory projection (co_case_query
 * ids) and the store checks the candidates. */
int co_store_indexes_place(const co_store *s);
/* For the back-ends: writes ids as a JSON array ("[3,2,1]") into out. */
co_err co_store_ids_json(const int64_t *ids, size_t n, co_buf *out) CO_MUST_CHECK;
/* The events with after < seq < before (before 0: no bound), in sequence
 * order, at most limit (1..10000), each with its case's current row. */
co_err co_store_changes_since(co_store *s, int64_t after, int64_t before, int limit,
                              co_change_cb cb, void *ctx) CO_MUST_CHECK;
/* Waits up to timeout_ms for a commit by any node to be announced on the
 * calling thread's connection (LISTEN/NOTIFY); *notified says whether one
 * was (a first call or a reconnection counts as one: events may have been
 * missed). Back-ends without notifications just sleep. */
co_err co_store_wait_events(co_store *s, int timeout_ms, int *notified) CO_MUST_CHECK;
/* Reserves the next `block` values of a named counter, committed at once
 * (outside any transaction): *last is the highest, the block is
 * (*last - block, *last]. The counter never goes below floor (the highest
 * value already used, for a counter's first use). CO_ENOTSUP where the
 * store has a single writer. */
co_err co_store_reserve(co_store *s, const char *counter, int64_t floor, int64_t block,
                        int64_t *last) CO_MUST_CHECK;
/* Inside the writer's transaction (after co_store_begin): n event sequence
 * numbers, increasing, into out, for co_store_event_append to use (an event
 * whose seq is set before the call keeps it; a number left unused is a gap).
 * Saves a round trip per event on a server store; CO_ENOTSUP on SQLite,
 * which numbers events itself without waiting. */
co_err co_store_seq_reserve(co_store *s, int n, int64_t *out) CO_MUST_CHECK;
/* One session by its token hash, if it has not expired by now: cb is called
 * once. CO_ENOTFOUND when there is none. */
co_err co_store_session_get(co_store *s, const char *token_hash, int64_t now, co_session_cb cb,
                            void *ctx) CO_MUST_CHECK;

/* Explicit transactions on the calling thread's connection (bulk loads). */
co_err co_store_begin(co_store *s) CO_MUST_CHECK;
co_err co_store_commit(co_store *s) CO_MUST_CHECK;
co_err co_store_rollback(co_store *s);

#endif
