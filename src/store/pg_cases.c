/* pg_cases.c — cases, events and media in the PostgreSQL back-end.
 * The same layout as sqlite_cases.c: events is the append-only log (seq is
 * an identity column: the order of truth), cases holds each case's current
 * row, written in the same transaction as the event that produced it, with
 * indexed columns for list queries and the whole case as a JSON document
 * (text; JSON paths are read with ::jsonb where a query needs them).
 * Records handed to callbacks are valid only during the callback. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/pg_int.h"
#include "store/store.h"

co_err co_pg_event_append(void *impl, co_event *ev)
{
    char *data = NULL;
    if (!ev->data_text) {
        json_t *empty = ev->data ? NULL : json_object();
        data = json_dumps(ev->data ? ev->data : empty, JSON_COMPACT);
        json_decref(empty);
        if (!data)
            return CO_ENOMEM;
    }
    co_pg_params p = {0};
    co_pg_int(&p, ev->case_id);
    co_pg_int(&p, ev->ts);
    co_pg_text(&p, ev->actor);
    co_pg_text(&p, ev->role);
    co_pg_text(&p, ev->action);
    co_pg_int(&p, (int)ev->from);
    co_pg_int(&p, (int)ev->to);
    co_pg_text(&p, data ? data : ev->data_text);
    if (ev->seq > 0) { /* numbered by co_pg_seq_reserve: no need to wait for an answer */
        co_pg_int(&p, ev->seq);
        co_err rc = co_pg_defer(impl,
                                "INSERT INTO events(case_id,ts,actor,role,action,from_state,"
                                "to_state,data,seq) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                                &p);
        free(data);
        return rc;
    }
    int64_t seq = 0, n = 0;
    co_err rc = co_pg_run(impl,
                          "INSERT INTO events(case_id,ts,actor,role,action,from_state,to_state,"
                          "data) VALUES($1,$2,$3,$4,$5,$6,$7,$8) RETURNING seq",
                          &p, co_pg_first_i64, &seq, &n);
    free(data);
    if (!rc && n != 1)
        rc = CO_EDB;
    if (!rc)
        ev->seq = seq;
    return rc;
}

typedef struct seq_ctx {
    int64_t *out;
    int n, got;
} seq_ctx;

static int seq_row(void *vctx, const co_pg_row *r)
{
    seq_ctx *sc = vctx;
    if (sc->got < sc->n)
        sc->out[sc->got++] = co_pg_i64(r, 0);
    return 0;
}

co_err co_pg_seq_reserve(void *impl, int n, int64_t *out)
{
    co_pg_params p = {0};
    co_pg_int(&p, n);
    seq_ctx sc = {out, n, 0};
    co_err rc = co_pg_run(impl,
                          "SELECT nextval(pg_get_serial_sequence('events','seq'))"
                          " FROM generate_series(1,$1::integer)",
                          &p, seq_row, &sc, NULL);
    return rc ? rc : sc.got == n ? CO_OK : CO_EDB;
}

co_err co_pg_case_put(void *impl, const co_case *c, const char *doc)
{
    char search[CO_TEXT_MAX + 300];
    snprintf(search, sizeof search, "%s %s %s", c->number, c->address, c->description);
    const char *area = co_case_finest_area(c);
    co_pg_params p = {0};
    co_pg_int(&p, c->id);                           /* 1 */
    co_pg_text(&p, c->number);
    co_pg_int(&p, c->created);
    co_pg_int(&p, c->updated);
    co_pg_int(&p, (int)c->state);                   /* 5 */
    co_pg_int(&p, (int)c->channel);
    co_pg_int(&p, (int)c->category);
    co_pg_text(&p, c->dept);
    co_pg_text(&p, c->first_dept);
    co_pg_text(&p, area);                           /* 10 */
    co_pg_text(&p, c->caller_phone);
    co_pg_text(&p, c->reporter);
    co_pg_int(&p, c->disposal_due);
    co_pg_text(&p, search);
    co_pg_text(&p, doc);                            /* 15 */
    co_pg_int(&p, (int)co_wf_pending_roles(c));
    co_pg_int(&p, (int)c->severity);
    co_pg_int(&p, (int)c->reqtype);
    co_pg_int(&p, (int)c->satisfaction);
    co_pg_int(&p, (int)c->close_type);              /* 20 */
    co_pg_int(&p, c->flags);
    co_pg_int(&p, c->rework);
    co_pg_int(&p, c->dispatches);
    co_pg_int(&p, c->closed_at);
    co_pg_int(&p, c->dispatched_at);                /* 25 */
    co_pg_int(&p, c->handled_at);
    co_pg_int(&p, c->step_due);
    /* sent without waiting inside the writer's transaction: any failure
     * fails the next statement or the commit, and so the whole batch */
    return co_pg_defer(
        impl,
        "INSERT INTO cases(id,number,created,updated,state,channel,category,dept,first_dept,"
        "area,caller_phone,reporter,disposal_due,search,doc,pending,severity,reqtype,"
        "satisfaction,close_type,flags,rework,dispatches,closed_at,dispatched_at,handled_at,"
        "step_due) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,"
        "$20,$21,$22,$23,$24,$25,$26,$27) "
        "ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, state=excluded.state,"
        " category=excluded.category, dept=excluded.dept, first_dept=excluded.first_dept,"
        " disposal_due=excluded.disposal_due, doc=excluded.doc, pending=excluded.pending,"
        " severity=excluded.severity, reqtype=excluded.reqtype,"
        " satisfaction=excluded.satisfaction, close_type=excluded.close_type,"
        " flags=excluded.flags, rework=excluded.rework, dispatches=excluded.dispatches,"
        " closed_at=excluded.closed_at, dispatched_at=excluded.dispatched_at,"
        " handled_at=excluded.handled_at, step_due=excluded.step_due",
        &p);
}

/* ------------------------------------------------------------ case reads */

typedef struct case_ctx {
    int (*cb)(void *, const co_case *);
    void *ctx;
    co_case *one; /* case_get: the out-parameter */
    co_err rc;
} case_ctx;

static int case_row(void *vctx, const co_pg_row *r)
{
    case_ctx *cc = vctx;
    co_case tmp;
    co_case *c = cc->one ? cc->one : &tmp;
    json_t *j = json_loads(co_pg_str(r, 0), 0, NULL);
    cc->rc = j ? co_case_from_json(j, c) : CO_EDB;
    json_decref(j);
    if (cc->rc)
        return 1;
    return cc->one ? 1 : cc->cb(cc->ctx, c);
}

co_err co_pg_case_get(void *impl, int64_t id, const char *number, co_case *out)
{
    co_pg_params p = {0};
    if (number)
        co_pg_text(&p, number);
    else
        co_pg_int(&p, id);
    case_ctx cc = {.one = out};
    int64_t n = 0;
    /* inside a transaction (the writer's) the row stays locked until it
     * ends: a node deciding on a case sees every earlier decision on it */
    PGconn *db = co_pg_conn(impl);
    int locked = db && PQtransactionStatus(db) == PQTRANS_INTRANS;
    static const char *const sql[2][2] = {
        {"SELECT doc FROM cases WHERE id=$1", "SELECT doc FROM cases WHERE id=$1 FOR UPDATE"},
        {"SELECT doc FROM cases WHERE number=$1",
         "SELECT doc FROM cases WHERE number=$1 FOR UPDATE"},
    };
    co_err rc = co_pg_run(impl, sql[number != NULL][locked], &p, case_row, &cc, &n);
    if (rc)
        return rc;
    return !n ? CO_ENOTFOUND : cc.rc;
}

co_err co_pg_cases_each(void *impl, int (*cb)(void *, const co_case *), void *ctx)
{
    case_ctx cc = {cb, ctx, NULL, CO_OK};
    co_err rc = co_pg_scan(
        impl, "SELECT doc, id FROM cases WHERE id > $1 ORDER BY id" CO_PG_SCAN_LIMIT, 1, case_row,
        &cc);
    return rc ? rc : cc.rc;
}

/* The columns copy of a case (everything but the texts). */
static void row_light(const co_pg_row *r, co_case *c)
{
    memset(c, 0, sizeof *c);
    c->lon = c->lat = NAN;
    c->id = co_pg_i64(r, 0);
    co_pg_copy(c->number, sizeof c->number, r, 1);
    c->created = co_pg_i64(r, 2);
    c->updated = co_pg_i64(r, 3);
    c->state = (co_state)co_pg_i64(r, 4);
    c->channel = (co_channel)co_pg_i64(r, 5);
    c->category = (co_category)co_pg_i64(r, 6);
    co_pg_copy(c->dept, sizeof c->dept, r, 7);
    co_pg_copy(c->first_dept, sizeof c->first_dept, r, 8);
    co_case_set_areas(c, co_pg_str(r, 9));
    co_pg_copy(c->reporter, sizeof c->reporter, r, 10);
    c->disposal_due = co_pg_i64(r, 11);
    c->severity = (co_severity)co_pg_i64(r, 12);
    c->reqtype = (co_reqtype)co_pg_i64(r, 13);
    c->satisfaction = (co_satisfaction)co_pg_i64(r, 14);
    c->close_type = (co_close_type)co_pg_i64(r, 15);
    c->flags = (uint32_t)co_pg_i64(r, 16);
    c->rework = (int16_t)co_pg_i64(r, 17);
    c->dispatches = (int16_t)co_pg_i64(r, 18);
    c->closed_at = co_pg_i64(r, 19);
    c->dispatched_at = co_pg_i64(r, 20);
    c->handled_at = co_pg_i64(r, 21);
    c->step_due = co_pg_i64(r, 22);
}

static int light_row(void *vctx, const co_pg_row *r)
{
    case_ctx *cc = vctx;
    co_case c;
    row_light(r, &c);
    return cc->cb(cc->ctx, &c);
}

co_err co_pg_cases_each_light(void *impl, int (*cb)(void *, const co_case *), void *ctx)
{
    case_ctx cc = {cb, ctx, NULL, CO_OK};
    return co_pg_scan(
        impl,
        "SELECT id,number,created,updated,state,channel,category,dept,first_dept,area,reporter,"
        "disposal_due,severity,reqtype,satisfaction,close_type,flags,rework,dispatches,"
        "closed_at,dispatched_at,handled_at,step_due FROM cases WHERE id > $1 ORDER BY id"
        CO_PG_SCAN_LIMIT,
        0, light_row, &cc);
}

/* Appends one filter fragment whose %d placeholders are the next parameter
 * numbers (one per parameter added by the caller right after). */
static co_err frag(co_buf *sql, const co_pg_params *p, const char *fmt)
{
    return co_buf_printf(sql, fmt, p->n + 1, p->n + 1, p->n + 1);
}

/* Builds the query from a fixed set of fragments; every value is a
 * parameter ($n in the order added), never text pasted into the SQL. */
static co_err build_query(const co_case_query *q, const char *ids_text, co_buf *sql,
                          co_pg_params *p)
{
    co_err rc = co_buf_puts(sql, "SELECT doc FROM cases WHERE true");
    if (!rc && q->states) {
        rc = frag(sql, p, " AND ((1::bigint << state) & $%d::bigint) <> 0");
        co_pg_int(p, q->states);
    }
    if (!rc && q->category) {
        rc = frag(sql, p, " AND category=$%d");
        co_pg_int(p, q->category);
    }
    if (!rc && q->area) {
        rc = frag(sql, p, " AND area >= $%d AND area < $%d || '~'");
        co_pg_text(p, q->area);
    }
    if (!rc && q->dept) {
        rc = frag(sql, p, " AND (dept=$%d OR first_dept=$%d)");
        co_pg_text(p, q->dept);
    }
    if (!rc && q->channel >= 0) {
        rc = frag(sql, p, " AND channel=$%d");
        co_pg_int(p, q->channel);
    }
    if (!rc && q->overdue) {
        rc = co_buf_printf(sql, " AND state IN (%d,%d) AND disposal_due>0 AND disposal_due<$%d",
                           (int)CO_ST_DISPATCHED, (int)CO_ST_HANDLING, p->n + 1);
        co_pg_int(p, q->now);
    }
    if (!rc && q->from) {
        rc = frag(sql, p, " AND created>=$%d");
        co_pg_int(p, q->from);
    }
    if (!rc && q->to) {
        rc = frag(sql, p, " AND created<$%d");
        co_pg_int(p, q->to);
    }
    if (!rc && q->text) {
        rc = frag(sql, p, " AND strpos(search, $%d) > 0");
        co_pg_text(p, q->text);
    }
    if (!rc && q->phone) {
        rc = frag(sql, p, " AND caller_phone=$%d AND caller_phone != ''");
        co_pg_text(p, q->phone);
    }
    if (!rc && q->reporter) {
        rc = frag(sql, p, " AND reporter=$%d");
        co_pg_text(p, q->reporter);
    }
    if (!rc && q->pending_role >= 0) {
        rc = frag(sql, p, " AND pending != 0 AND (pending & $%d) != 0");
        co_pg_int(p, 1 << q->pending_role);
    }
    if (!rc && q->before_id) {
        rc = frag(sql, p, " AND id<$%d");
        co_pg_int(p, q->before_id);
    }
    if (!rc && q->updated_from) {
        rc = frag(sql, p, " AND updated>=$%d");
        co_pg_int(p, q->updated_from);
    }
    if (!rc && q->updated_to) {
        rc = frag(sql, p, " AND updated<$%d");
        co_pg_int(p, q->updated_to);
    }
    if (!rc && q->categories) {
        rc = frag(sql, p,
                  " AND category IN (SELECT (jsonb_array_elements_text($%d::jsonb))::integer)");
        co_pg_text(p, q->categories);
    }
    if (!rc && q->bbox) {
        int b = p->n + 1;
        rc = co_buf_printf(sql,
                           " AND (doc::jsonb #>> '{location,lon}')::float8 BETWEEN $%d AND $%d"
                           " AND (doc::jsonb #>> '{location,lat}')::float8 BETWEEN $%d AND $%d",
                           b, b + 2, b + 1, b + 3);
        for (int i = 0; i < 4; i++)
            co_pg_real(p, q->bbox[i]);
    }
    if (!rc && q->ids) {
        rc = frag(sql, p, " AND id IN (SELECT (jsonb_array_elements_text($%d::jsonb))::bigint)");
        co_pg_text(p, ids_text);
    }
    if (!rc) {
        rc = co_buf_printf(sql, " ORDER BY id DESC LIMIT $%d", p->n + 1);
        co_pg_int(p, q->limit > 0 && q->limit <= 500 ? q->limit : 50);
    }
    if (!rc && q->offset > 0) {
        rc = co_buf_printf(sql, " OFFSET $%d", p->n + 1);
        co_pg_int(p, q->offset);
    }
    return rc;
}

co_err co_pg_cases_query(void *impl, const co_case_query *q, int (*cb)(void *, const co_case *),
                         void *ctx)
{
    co_buf sql, ids;
    co_buf_init(&sql, 4096);
    co_buf_init(&ids, 16 * 500 + 8);
    co_pg_params p = {0};
    co_err rc = q->ids ? co_store_ids_json(q->ids, q->nids, &ids) : CO_OK;
    if (!rc)
        rc = build_query(q, ids.data, &sql, &p);
    if (!rc) {
        case_ctx cc = {cb, ctx, NULL, CO_OK};
        rc = co_pg_run(impl, sql.data, &p, case_row, &cc, NULL);
        if (!rc)
            rc = cc.rc;
    }
    co_buf_free(&sql);
    co_buf_free(&ids);
    return rc;
}

/* ---------------------------------------------------------------- events */

typedef struct event_ctx {
    int replay; /* columns 8, 9: step_due and late as JSON text; else 8: data */
    int (*cb)(void *, const co_event *);
    void *ctx;
} event_ctx;

/* A JSON value's text as PostgreSQL prints jsonb, NULL for SQL or JSON null. */
static json_t *json_value(const co_pg_row *r, int col)
{
    if (co_pg_isnull(r, col))
        return NULL;
    json_t *v = json_loads(co_pg_str(r, col), JSON_DECODE_ANY, NULL);
    if (v && json_is_null(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Only the keys start-up replays look at (step_due, late), typed as the
 * SQLite back-end hands them out: an integer or else a string, a boolean. */
static void replay_data(const co_pg_row *r, co_event *e)
{
    json_t *due = json_value(r, 8), *late = json_value(r, 9);
    if (!due && !late)
        return;
    e->data = json_object();
    if (due && json_is_integer(due))
        json_object_set(e->data, "step_due", due);
    else if (due && json_is_string(due))
        json_object_set(e->data, "step_due", due);
    else if (due)
        json_object_set_new(e->data, "step_due", json_string(co_pg_str(r, 8)));
    if (late)
        json_object_set_new(e->data, "late",
                            json_boolean(json_is_true(late) ||
                                         (json_is_integer(late) && json_integer_value(late))));
    json_decref(due);
    json_decref(late);
}

static int event_row(void *vctx, const co_pg_row *r)
{
    event_ctx *ec = vctx;
    co_event e = {0};
    e.seq = co_pg_i64(r, 0);
    e.case_id = co_pg_i64(r, 1);
    e.ts = co_pg_i64(r, 2);
    co_pg_copy(e.actor, sizeof e.actor, r, 3);
    co_pg_copy(e.role, sizeof e.role, r, 4);
    co_pg_copy(e.action, sizeof e.action, r, 5);
    e.from = (co_state)co_pg_i64(r, 6);
    e.to = (co_state)co_pg_i64(r, 7);
    if (ec->replay)
        replay_data(r, &e);
    else
        e.data = json_loads(co_pg_str(r, 8), 0, NULL);
    if (!ec->replay && !e.data)
        e.data = json_object();
    int stop = ec->cb(ec->ctx, &e);
    co_event_clear(&e);
    return stop;
}

co_err co_pg_events_of(void *impl, int64_t case_id, int (*cb)(void *, const co_event *),
                       void *ctx)
{
    co_pg_params p = {0};
    co_pg_int(&p, case_id);
    event_ctx ec = {0, cb, ctx};
    return co_pg_run(impl,
                     "SELECT seq,case_id,ts,actor,role,action,from_state,to_state,data "
                     "FROM events WHERE case_id=$1 ORDER BY seq",
                     &p, event_row, &ec, NULL);
}

/* event_row's callback for changes_since: column 9 holds the case row. */
typedef struct change_ctx {
    const co_pg_row *row;
    co_change_cb cb;
    void *ctx;
    co_err rc;
} change_ctx;

static int change_event(void *vctx, const co_event *e)
{
    change_ctx *cc = vctx;
    co_case c;
    json_t *j = json_loads(co_pg_str(cc->row, 9), 0, NULL);
    cc->rc = j ? co_case_from_json(j, &c) : CO_EDB;
    json_decref(j);
    return cc->rc ? 1 : cc->cb(cc->ctx, &c, e);
}

static int change_row(void *vctx, const co_pg_row *r)
{
    change_ctx *cc = vctx;
    cc->row = r;
    event_ctx ec = {0, change_event, cc};
    return event_row(&ec, r);
}

co_err co_pg_changes_since(void *impl, int64_t after, int64_t before, int limit, co_change_cb cb,
                           void *ctx)
{
    co_pg_params p = {0};
    co_pg_int(&p, after);
    co_pg_int(&p, limit);
    co_pg_int(&p, before);
    change_ctx cc = {NULL, cb, ctx, CO_OK};
    co_err rc = co_pg_run(impl,
                          "SELECT e.seq,e.case_id,e.ts,e.actor,e.role,e.action,e.from_state,"
                          "e.to_state,e.data,c.doc FROM events e JOIN cases c ON c.id=e.case_id"
                          " WHERE e.seq>$1 AND e.seq<$3 ORDER BY e.seq LIMIT $2",
                          &p, change_row, &cc, NULL);
    return rc ? rc : cc.rc;
}

co_err co_pg_events_each(void *impl, int (*cb)(void *, const co_event *), void *ctx)
{
    event_ctx ec = {1, cb, ctx};
    return co_pg_scan(impl,
                     "SELECT seq,case_id,ts,actor,role,action,from_state,to_state,"
                     " (CASE WHEN action='register' THEN d #> '{case,step_due}'"
                     " ELSE d -> 'step_due' END)::text, (d -> 'late')::text"
                     " FROM (SELECT *, data::jsonb AS d FROM events WHERE seq > $1"
                     " ORDER BY seq" CO_PG_SCAN_LIMIT ") e ORDER BY seq",
                     0, event_row, &ec);
}

static int two_i64(void *ctx, const co_pg_row *r)
{
    int64_t *v = ctx;
    v[0] = co_pg_i64(r, 0);
    v[1] = co_pg_i64(r, 1);
    return 1;
}

co_err co_pg_case_max_id(void *impl, int64_t *id, int64_t *seq)
{
    int64_t v[2] = {0, 0}, n = 0;
    co_err rc = co_pg_run(impl,
                          "SELECT (SELECT coalesce(max(id),0) FROM cases),"
                          " (SELECT coalesce(max(seq),0) FROM events)",
                          NULL, two_i64, v, &n);
    if (!rc && n != 1)
        rc = CO_EDB;
    if (!rc) {
        *id = v[0];
        *seq = v[1];
    }
    return rc;
}

co_err co_pg_case_last_number(void *impl, const char *prefix, int64_t *seq)
{
    char lo[32], hi[32], num[64] = "";
    snprintf(lo, sizeof lo, "%s", prefix);
    snprintf(hi, sizeof hi, "%s~", prefix);
    co_pg_params p = {0};
    co_pg_text(&p, lo);
    co_pg_text(&p, hi);
    co_pg_strout out = {num, sizeof num};
    int64_t n = 0;
    co_err rc = co_pg_run(impl,
                          "SELECT number FROM cases WHERE number>=$1 AND number<$2 "
                          "ORDER BY length(number) DESC, number DESC LIMIT 1",
                          &p, co_pg_first_str, &out, &n);
    *seq = 0;
    if (rc || !n)
        return rc;
    int64_t v = 0;
    size_t pl = strlen(prefix);
    for (const char *s = strlen(num) >= pl ? num + pl : ""; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    *seq = v;
    return CO_OK;
}

/* ----------------------------------------------------------------- media */

co_err co_pg_media_put(void *impl, const char *hash, const char *type, int64_t size)
{
    co_pg_params p = {0};
    co_pg_text(&p, hash);
    co_pg_text(&p, type);
    co_pg_int(&p, size);
    co_pg_int(&p, co_time_now());
    return co_pg_run(impl,
                     "INSERT INTO media(hash,type,size,created) VALUES($1,$2,$3,$4) "
                     "ON CONFLICT DO NOTHING",
                     &p, NULL, NULL, NULL);
}

co_err co_pg_media_get(void *impl, const char *hash, char *type, size_t len)
{
    co_pg_params p = {0};
    co_pg_text(&p, hash);
    co_pg_strout out = {type, len};
    int64_t n = 0;
    co_err rc = co_pg_run(impl, "SELECT type FROM media WHERE hash=$1", &p, co_pg_first_str, &out,
                          &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}
