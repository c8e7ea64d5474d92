/* sqlite_cases.c — cases, events and media in the SQLite back-end.
 * The events table is the log (append only); the cases table holds each
 * case's current row (a projection written in the same transaction as the
 * event that produced it) with indexed columns for list queries and the whole
 * case as a JSON document. Hot statements are cached per connection. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/sqlite_int.h"
#include "store/store.h"

enum { SLOT_EVENT = 0, SLOT_CASE = 1 };

co_err co_sqlite_event_append(void *impl, co_event *ev)
{
    sqlite3_stmt *st = co_sqlite_cached(
        impl, SLOT_EVENT,
        "INSERT INTO events(case_id,ts,actor,role,action,from_state,to_state,data) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return CO_EDB;
    char *data = ev->data_text ? NULL : ev->data ? json_dumps(ev->data, JSON_COMPACT) : strdup("{}");
    if (!data && !ev->data_text)
        return CO_ENOMEM;
    sqlite3_bind_int64(st, 1, ev->case_id);
    sqlite3_bind_int64(st, 2, ev->ts);
    sqlite3_bind_text(st, 3, ev->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ev->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ev->action, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, (int)ev->from);
    sqlite3_bind_int(st, 7, (int)ev->to);
    if (data)
        sqlite3_bind_text(st, 8, data, -1, free);
    else
        sqlite3_bind_text(st, 8, ev->data_text, -1, SQLITE_STATIC);
    co_err rc = co_sqlite_step_done(st);
    if (!rc)
        ev->seq = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
    sqlite3_reset(st);
    return rc;
}

co_err co_sqlite_case_put(void *impl, const co_case *c, const char *doc)
{
    sqlite3_stmt *st = co_sqlite_cached(
        impl, SLOT_CASE,
        "INSERT INTO cases(id,number,created,updated,state,channel,category,dept,first_dept,"
        "area,caller_phone,reporter,disposal_due,search,doc,pending,severity,reqtype,"
        "satisfaction,close_type,flags,rework,dispatches,closed_at,dispatched_at,handled_at,"
        "step_due) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
        "?23,?24,?25,?26,?27,?28,?29,?30) "
        "ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, state=excluded.state,"
        " category=excluded.category, dept=excluded.dept, first_dept=excluded.first_dept,"
        " disposal_due=excluded.disposal_due, doc=excluded.doc, pending=excluded.pending,"
        " severity=excluded.severity, reqtype=excluded.reqtype,"
        " satisfaction=excluded.satisfaction, close_type=excluded.close_type,"
        " flags=excluded.flags, rework=excluded.rework, dispatches=excluded.dispatches,"
        " closed_at=excluded.closed_at, dispatched_at=excluded.dispatched_at,"
        " handled_at=excluded.handled_at, step_due=excluded.step_due");
    if (!st)
        return CO_EDB;
    char search[CO_TEXT_MAX + 300];
    snprintf(search, sizeof search, "%s %s %s", c->number, c->address, c->description);
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, c->number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->created);
    sqlite3_bind_int64(st, 4, c->updated);
    sqlite3_bind_int(st, 5, (int)c->state);
    sqlite3_bind_int(st, 6, (int)c->channel);
    sqlite3_bind_int(st, 7, (int)c->category);
    sqlite3_bind_text(st, 8, c->dept, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, c->first_dept, -1, SQLITE_STATIC);
    const char *area = co_case_finest_area(c);
    sqlite3_bind_text(st, 10, area, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, c->caller_phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, c->reporter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, c->disposal_due);
    sqlite3_bind_text(st, 17, search, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 18, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 19, (int)co_wf_pending_roles(c));
    sqlite3_bind_int(st, 20, (int)c->severity);
    sqlite3_bind_int(st, 21, (int)c->reqtype);
    sqlite3_bind_int(st, 22, (int)c->satisfaction);
    sqlite3_bind_int(st, 23, (int)c->close_type);
    sqlite3_bind_int64(st, 24, c->flags);
    sqlite3_bind_int(st, 25, c->rework);
    sqlite3_bind_int(st, 26, c->dispatches);
    sqlite3_bind_int64(st, 27, c->closed_at);
    sqlite3_bind_int64(st, 28, c->dispatched_at);
    sqlite3_bind_int64(st, 29, c->handled_at);
    sqlite3_bind_int64(st, 30, c->step_due);
    co_err rc = co_sqlite_step_done(st);
    sqlite3_reset(st);
    return rc;
}

static co_err row_case(sqlite3_stmt *st, int col, co_case *out)
{
    const char *doc = (const char *)sqlite3_column_text(st, col);
    json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
    co_err rc = j ? co_case_from_json(j, out) : CO_EDB;
    json_decref(j);
    return rc;
}

co_err co_sqlite_case_get(void *impl, int64_t id, const char *number, co_case *out)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  number ? "SELECT doc FROM cases WHERE number=?1"
                                         : "SELECT doc FROM cases WHERE id=?1",
                                  &st);
    if (rc)
        return rc;
    if (number)
        sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        rc = row_case(st, 0, out);
    else
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

static co_err each_case(sqlite3_stmt *st, int (*cb)(void *, const co_case *), void *ctx)
{
    co_case c;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (row_case(st, 0, &c))
            return CO_EDB;
        if (cb(ctx, &c))
            return CO_OK;
    }
    return s == SQLITE_DONE ? CO_OK : CO_EDB;
}

/* The columns copy of a case (everything but the texts). */
static void row_light(sqlite3_stmt *st, co_case *c)
{
    memset(c, 0, sizeof *c);
    c->lon = c->lat = NAN;
    c->id = sqlite3_column_int64(st, 0);
    co_sqlite_copy(c->number, sizeof c->number, st, 1);
    c->created = sqlite3_column_int64(st, 2);
    c->updated = sqlite3_column_int64(st, 3);
    c->state = (co_state)sqlite3_column_int(st, 4);
    c->channel = (co_channel)sqlite3_column_int(st, 5);
    c->category = (co_category)sqlite3_column_int(st, 6);
    co_sqlite_copy(c->dept, sizeof c->dept, st, 7);
    co_sqlite_copy(c->first_dept, sizeof c->first_dept, st, 8);
    co_case_set_areas(c, (const char *)sqlite3_column_text(st, 9));
    co_sqlite_copy(c->reporter, sizeof c->reporter, st, 10);
    c->disposal_due = sqlite3_column_int64(st, 11);
    c->severity = (co_severity)sqlite3_column_int(st, 12);
    c->reqtype = (co_reqtype)sqlite3_column_int(st, 13);
    c->satisfaction = (co_satisfaction)sqlite3_column_int(st, 14);
    c->close_type = (co_close_type)sqlite3_column_int(st, 15);
    c->flags = (uint32_t)sqlite3_column_int64(st, 16);
    c->rework = (int16_t)sqlite3_column_int(st, 17);
    c->dispatches = (int16_t)sqlite3_column_int(st, 18);
    c->closed_at = sqlite3_column_int64(st, 19);
    c->dispatched_at = sqlite3_column_int64(st, 20);
    c->handled_at = sqlite3_column_int64(st, 21);
    c->step_due = sqlite3_column_int64(st, 22);
}

co_err co_sqlite_cases_each_light(void *impl, int (*cb)(void *, const co_case *), void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        "SELECT id,number,created,updated,state,channel,category,dept,first_dept,area,reporter,"
        "disposal_due,severity,reqtype,satisfaction,close_type,flags,rework,dispatches,"
        "closed_at,dispatched_at,handled_at,step_due FROM cases ORDER BY id",
        &st);
    if (rc)
        return rc;
    co_case c;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        row_light(st, &c);
        if (cb(ctx, &c))
            break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_cases_each(void *impl, int (*cb)(void *, const co_case *), void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl), "SELECT doc FROM cases ORDER BY id", &st);
    if (rc)
        return rc;
    rc = each_case(st, cb, ctx);
    sqlite3_finalize(st);
    return rc;
}

/* Builds the WHERE clause from a fixed set of fragments; every value is a
 * bound parameter (?1..?12), never text pasted into the SQL. */
static co_err build_query(const co_case_query *q, co_buf *sql)
{
    co_err rc = co_buf_puts(sql, "SELECT doc FROM cases WHERE 1");
    if (!rc && q->states)
        rc = co_buf_puts(sql, " AND ((1 << state) & ?1) != 0");
    if (!rc && q->category)
        rc = co_buf_puts(sql, " AND category=?2");
    if (!rc && q->area)
        rc = co_buf_puts(sql, " AND area >= ?3 AND area < ?3 || '~'");
    if (!rc && q->dept)
        rc = co_buf_puts(sql, " AND (dept=?4 OR first_dept=?4)");
    if (!rc && q->channel >= 0)
        rc = co_buf_puts(sql, " AND channel=?5");
    if (!rc && q->overdue)
        rc = co_buf_printf(sql, " AND state IN (%d,%d) AND disposal_due>0 AND disposal_due<?6",
                           (int)CO_ST_DISPATCHED, (int)CO_ST_HANDLING);
    if (!rc && q->from)
        rc = co_buf_puts(sql, " AND created>=?7");
    if (!rc && q->to)
        rc = co_buf_puts(sql, " AND created<?8");
    if (!rc && q->text)
        rc = co_buf_puts(sql, " AND instr(search, ?9) > 0");
    if (!rc && q->phone)
        rc = co_buf_puts(sql, " AND caller_phone=?10 AND caller_phone != ''");
    if (!rc && q->reporter)
        rc = co_buf_puts(sql, " AND reporter=?11");
    if (!rc && q->pending_role >= 0)
        rc = co_buf_puts(sql, " AND pending != 0 AND (pending & ?14) != 0");
    if (!rc && q->before_id)
        rc = co_buf_puts(sql, " AND id<?12");
    if (!rc && q->updated_from)
        rc = co_buf_puts(sql, " AND updated>=?41");
    if (!rc && q->updated_to)
        rc = co_buf_puts(sql, " AND updated<?42");
    if (!rc && q->categories)
        rc = co_buf_puts(sql, " AND category IN (SELECT value FROM json_each(?43))");
    if (!rc && q->bbox)
        rc = co_buf_puts(sql, " AND json_extract(doc,'$.location.lon') BETWEEN ?44 AND ?46"
                              " AND json_extract(doc,'$.location.lat') BETWEEN ?45 AND ?47");
    if (!rc && q->ids)
        rc = co_buf_puts(sql, " AND id IN (SELECT value FROM json_each(?49))");
    if (!rc)
        rc = co_buf_puts(sql, q->offset > 0 ? " ORDER BY id DESC LIMIT ?13 OFFSET ?48"
                                            : " ORDER BY id DESC LIMIT ?13");
    return rc;
}

co_err co_sqlite_cases_query(void *impl, const co_case_query *q,
                             int (*cb)(void *, const co_case *), void *ctx)
{
    co_buf sql, ids;
    co_buf_init(&sql, 2048);
    co_buf_init(&ids, 16 * 500 + 8);
    sqlite3_stmt *st = NULL;
    co_err rc = build_query(q, &sql);
    if (rc || (rc = co_sqlite_prepare(co_sqlite_conn(impl), sql.data, &st)))
        goto out;
    sqlite3_bind_int64(st, 1, q->states);
    sqlite3_bind_int(st, 2, q->category);
    if (q->area)
        sqlite3_bind_text(st, 3, q->area, -1, SQLITE_STATIC);
    if (q->dept)
        sqlite3_bind_text(st, 4, q->dept, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, q->channel);
    sqlite3_bind_int64(st, 6, q->now);
    sqlite3_bind_int64(st, 7, q->from);
    sqlite3_bind_int64(st, 8, q->to);
    if (q->text)
        sqlite3_bind_text(st, 9, q->text, -1, SQLITE_STATIC);
    if (q->phone)
        sqlite3_bind_text(st, 10, q->phone, -1, SQLITE_STATIC);
    if (q->reporter)
        sqlite3_bind_text(st, 11, q->reporter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, q->before_id);
    sqlite3_bind_int(st, 13, q->limit > 0 && q->limit <= 500 ? q->limit : 50);
    sqlite3_bind_int(st, 14, q->pending_role >= 0 ? 1 << q->pending_role : 0);
    sqlite3_bind_int64(st, 41, q->updated_from);
    sqlite3_bind_int64(st, 42, q->updated_to);
    if (q->categories)
        sqlite3_bind_text(st, 43, q->categories, -1, SQLITE_STATIC);
    for (int i = 0; q->bbox && i < 4; i++)
        sqlite3_bind_double(st, 44 + i, q->bbox[i]);
    sqlite3_bind_int(st, 48, q->offset > 0 ? q->offset : 0);
    if (q->ids && (rc = co_store_ids_json(q->ids, q->nids, &ids)) == CO_OK)
        sqlite3_bind_text(st, 49, ids.data, (int)ids.len, SQLITE_STATIC);
    if (!rc)
        rc = each_case(st, cb, ctx);
out:
    sqlite3_finalize(st);
    co_buf_free(&sql);
    co_buf_free(&ids);
    return rc;
}

static co_err each_event(sqlite3_stmt *st, void (*data)(sqlite3_stmt *, co_event *),
                         int (*cb)(void *, const co_event *), void *ctx);
static void full_data(sqlite3_stmt *st, co_event *e);
static void replay_data(sqlite3_stmt *st, co_event *e);

co_err co_sqlite_events_of(void *impl, int64_t case_id, int (*cb)(void *, const co_event *),
                           void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT seq,case_id,ts,actor,role,action,from_state,to_state,"
                                  "data FROM events WHERE case_id=?1 ORDER BY seq",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, case_id);
    rc = each_event(st, full_data, cb, ctx);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_events_each(void *impl, int (*cb)(void *, const co_event *), void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        "SELECT seq,case_id,ts,actor,role,action,from_state,to_state,"
        " CASE WHEN action='register' THEN json_extract(data,'$.case.step_due')"
        " ELSE json_extract(data,'$.step_due') END, json_extract(data,'$.late')"
        " FROM events ORDER BY seq",
        &st);
    if (rc)
        return rc;
    rc = each_event(st, replay_data, cb, ctx);
    sqlite3_finalize(st);
    return rc;
}

/* Column 8 on: the whole data document. */
static void full_data(sqlite3_stmt *st, co_event *e)
{
    const char *d = (const char *)sqlite3_column_text(st, 8);
    e->data = d ? json_loads(d, 0, NULL) : json_object();
}

/* Columns 8 and 9: only the keys start-up replays look at (step_due, late). */
static void replay_data(sqlite3_stmt *st, co_event *e)
{
    int has_due = sqlite3_column_type(st, 8) != SQLITE_NULL;
    int has_late = sqlite3_column_type(st, 9) != SQLITE_NULL;
    if (!has_due && !has_late)
        return;
    e->data = json_object();
    if (has_due && sqlite3_column_type(st, 8) == SQLITE_INTEGER)
        json_object_set_new(e->data, "step_due", json_integer(sqlite3_column_int64(st, 8)));
    else if (has_due)
        json_object_set_new(e->data, "step_due",
                            json_string((const char *)sqlite3_column_text(st, 8)));
    if (has_late)
        json_object_set_new(e->data, "late", json_boolean(sqlite3_column_int(st, 9)));
}

/* Steps through rows of seq,case_id,ts,actor,role,action,from,to,... calling
 * cb with each event; data(st, e) fills the event's data. */
static co_err each_event(sqlite3_stmt *st, void (*data)(sqlite3_stmt *, co_event *),
                         int (*cb)(void *, const co_event *), void *ctx)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        co_event e = {0};
        e.seq = sqlite3_column_int64(st, 0);
        e.case_id = sqlite3_column_int64(st, 1);
        e.ts = sqlite3_column_int64(st, 2);
        co_sqlite_copy(e.actor, sizeof e.actor, st, 3);
        co_sqlite_copy(e.role, sizeof e.role, st, 4);
        co_sqlite_copy(e.action, sizeof e.action, st, 5);
        e.from = (co_state)sqlite3_column_int(st, 6);
        e.to = (co_state)sqlite3_column_int(st, 7);
        data(st, &e);
        int stop = cb(ctx, &e);
        co_event_clear(&e);
        if (stop)
            return CO_OK;
    }
    return s == SQLITE_DONE ? CO_OK : CO_EDB;
}

/* each_event's callback for changes_since: column 9 holds the case row. */
typedef struct change_ctx {
    sqlite3_stmt *st;
    co_change_cb cb;
    void *ctx;
    co_err rc;
} change_ctx;

static int change_row(void *vctx, const co_event *e)
{
    change_ctx *cc = vctx;
    co_case c;
    if ((cc->rc = row_case(cc->st, 9, &c)))
        return 1;
    return cc->cb(cc->ctx, &c, e);
}

co_err co_sqlite_changes_since(void *impl, int64_t after, int64_t before, int limit,
                               int (*cb)(void *, const co_case *, const co_event *), void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT e.seq,e.case_id,e.ts,e.actor,e.role,e.action,"
                                  "e.from_state,e.to_state,e.data,c.doc FROM events e"
                                  " JOIN cases c ON c.id=e.case_id WHERE e.seq>?1 AND e.seq<?3"
                                  " ORDER BY e.seq LIMIT ?2",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, limit);
    sqlite3_bind_int64(st, 3, before);
    change_ctx cc = {st, cb, ctx, CO_OK};
    rc = each_event(st, full_data, change_row, &cc);
    sqlite3_finalize(st);
    return rc ? rc : cc.rc;
}

co_err co_sqlite_case_max_id(void *impl, int64_t *id, int64_t *seq)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT (SELECT coalesce(max(id),0) FROM cases),"
                                  " (SELECT coalesce(max(seq),0) FROM events)",
                                  &st);
    if (rc)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *seq = sqlite3_column_int64(st, 1);
    } else {
        rc = CO_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_case_last_number(void *impl, const char *prefix, int64_t *seq)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT number FROM cases WHERE number>=?1 AND number<?2 "
                                  "ORDER BY length(number) DESC, number DESC LIMIT 1",
                                  &st);
    if (rc)
        return rc;
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%s", prefix);
    snprintf(hi, sizeof hi, "%s~", prefix);
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
    *seq = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        size_t pl = strlen(prefix);
        int64_t v = 0;
        for (const char *p = n + pl; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (*p - '0');
        *seq = v;
    }
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_media_put(void *impl, const char *hash, const char *type, int64_t size)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "INSERT OR IGNORE INTO media(hash,type,size,created) "
                                  "VALUES(?1,?2,?3,?4)",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_int64(st, 4, co_time_now());
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_media_get(void *impl, const char *hash, char *type, size_t len)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl), "SELECT type FROM media WHERE hash=?1",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        co_sqlite_copy(type, len, st, 0);
    else
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}
