/* intake.c — validation, location, photos and submission of new cases from
 * every channel (see intake.h). Media ids are a BLAKE2b-based digest of the
 * bytes computed through libargon2 (argon2id with a fixed salt and minimal
 * cost: its first step hashes the whole input with BLAKE2b), so identical
 * photos share one file. */
#include "api/intake.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/duplicates.h"
#include "calendar/calendar.h"
#include "classify/service.h"
#include "domain/workflow.h"
#include "geo/coord.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/writer.h"

static co_err bad(char *err, size_t len, const char *msg)
{
    snprintf(err, len, "%s", msg);
    return CO_EINVAL;
}

static void copy_area(const co_app *app, int32_t idx, char *dst, size_t len)
{
    const co_area *a = co_areas_at(app->areas, idx);
    snprintf(dst, len, "%s", a ? a->code : "");
}

co_err co_intake_locate(co_app *app, double lon, double lat, co_case *d)
{
    co_location loc;
    co_err rc = co_locator_locate(app->locator, lon, lat, &loc);
    if (rc)
        return rc;
    d->lon = lon;
    d->lat = lat;
    copy_area(app, loc.grid >= 0 ? loc.grid : loc.nearest_grid, d->grid, sizeof d->grid);
    copy_area(app, loc.community, d->community, sizeof d->community);
    copy_area(app, loc.street, d->street, sizeof d->street);
    copy_area(app, loc.district, d->district, sizeof d->district);
    return CO_OK;
}

/* Fills area codes from an area index (no point). */
static void place_in_area(co_app *app, int32_t idx, co_case *d)
{
    const co_area *a = co_areas_at(app->areas, idx);
    copy_area(app, a->up[CO_LEVEL_GRID], d->grid, sizeof d->grid);
    copy_area(app, a->up[CO_LEVEL_COMMUNITY], d->community, sizeof d->community);
    copy_area(app, a->up[CO_LEVEL_STREET], d->street, sizeof d->street);
    copy_area(app, a->up[CO_LEVEL_DISTRICT], d->district, sizeof d->district);
    if (!isfinite(d->lon)) {
        d->lon = a->cx;
        d->lat = a->cy;
    }
}

static co_err parse_point(co_app *app, json_t *loc, co_case *d, char *err, size_t len)
{
    json_t *jlon = json_object_get(loc, "lon"), *jlat = json_object_get(loc, "lat");
    json_t *jcrs = json_object_get(loc, "crs");
    const char *crs_name = json_string_value(jcrs);
    co_crs crs = CO_CRS_WGS84;
    if (!json_is_number(jlon) || !json_is_number(jlat))
        return bad(err, len, "location 需要数字 lon 和 lat / location needs numeric lon and lat");
    if ((jcrs && !json_is_null(jcrs) && !crs_name) || (crs_name && co_crs_parse(crs_name, &crs)))
        return bad(err, len, "crs 只能是 wgs84|cgcs2000|gcj02|bd09 / unknown crs");
    double lon = json_number_value(jlon), lat = json_number_value(jlat), wlon, wlat;
    if (!co_coord_valid(lon, lat) || co_coord_to_wgs84(crs, lon, lat, &wlon, &wlat))
        return bad(err, len, "坐标超出范围 / lon/lat out of range");
    co_err rc = co_intake_locate(app, wlon, wlat, d);
    if (rc == CO_ENOTFOUND) {
        snprintf(err, len, "该位置不在本市范围内 / the point (%.6f, %.6f) is outside the city",
                 lon, lat);
        return CO_ENOTFOUND;
    }
    return rc;
}

static co_err parse_location(co_app *app, json_t *doc, co_case *d, char *err, size_t len)
{
    json_t *loc = json_object_get(doc, "location");
    const char *area = json_string_value(json_object_get(doc, "area"));
    if (loc && !json_is_null(loc)) {
        if (!json_is_object(loc))
            return bad(err, len, "location 必须是对象 / location must be an object {lon, lat, crs}");
        return parse_point(app, loc, d, err, len);
    }
    if (area) {
        int32_t idx = co_areas_find(app->areas, area);
        if (idx < 0)
            return bad(err, len, "未知的区域编码 / unknown area code");
        place_in_area(app, idx, d);
        return CO_OK;
    }
    int32_t idx = co_areas_match_text(app->areas, d->address);
    if (idx < 0)
        return bad(err, len, "需要位置：地图选点 location、区域编码 area 或包含社区/街道名称的地址 "
                             "address / a location, an area code or an address naming a "
                             "community or street is required");
    place_in_area(app, idx, d);
    return CO_OK;
}

static int valid_phone(const char *p)
{
    size_t n = strlen(p);
    if (n < 5 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (i == 0 && p[i] == '+') || p[i] == '-'))
            return 0;
    return 1;
}

static co_err get_text(json_t *doc, const char *key, char *dst, size_t len, int required,
                       char *err, size_t errlen)
{
    json_t *v = json_object_get(doc, key);
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(err, errlen, "缺少 %s / \"%s\" is required", key, key);
            return CO_EINVAL;
        }
        return CO_OK;
    }
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= len || (required && !*s)) {
        snprintf(err, errlen, "%s 必须是不超过 %zu 字节的字符串 / \"%s\" must be a string of at "
                              "most %zu bytes", key, len - 1, key, len - 1);
        return CO_EINVAL;
    }
    snprintf(dst, len, "%s", s);
    return CO_OK;
}

static co_err parse_caller(json_t *doc, co_case *d, char *err, size_t len)
{
    json_t *caller = json_object_get(doc, "caller");
    if (!caller || json_is_null(caller))
        return CO_OK;
    if (!json_is_object(caller))
        return bad(err, len, "caller 必须是对象 {name, phone} / caller must be an object");
    co_err rc = get_text(caller, "name", d->caller_name, sizeof d->caller_name, 0, err, len);
    if (rc || (rc = get_text(caller, "phone", d->caller_phone, sizeof d->caller_phone, 0, err, len)))
        return rc;
    if (d->caller_phone[0] && !valid_phone(d->caller_phone))
        return bad(err, len, "电话号码格式不正确 / caller phone must be 5–20 digits");
    return CO_OK;
}

static co_err parse_photos(co_app *app, json_t *doc, co_case *d, char *err, size_t len)
{
    json_t *ph = json_object_get(doc, "photos");
    if (!ph || json_is_null(ph))
        return CO_OK;
    if (!json_is_array(ph) || json_array_size(ph) > CO_PHOTOS_MAX)
        return bad(err, len, "photos 必须是最多 8 个媒体编号的数组 / photos: at most 8 media ids");
    size_t i;
    json_t *v;
    json_array_foreach(ph, i, v)
    {
        const char *h = json_string_value(v);
        char type[64];
        if (!h || strlen(h) != 64 || co_store_media_get(app->store, h, type, sizeof type))
            return bad(err, len, "未知的照片编号 / unknown media id in photos (upload to "
                                 "/api/v1/media first)");
        snprintf(d->photos[d->nphotos++], CO_HASH_HEX, "%s", h);
    }
    return CO_OK;
}

static co_err parse_enums(co_app *app, json_t *doc, co_case *d, char *err, size_t len)
{
    const char *rt = json_string_value(json_object_get(doc, "request_type"));
    const char *cat = json_string_value(json_object_get(doc, "category"));
    const char *sev = json_string_value(json_object_get(doc, "severity"));
    if (json_object_get(doc, "request_type") && !json_is_null(json_object_get(doc, "request_type")) &&
        (!rt || co_reqtype_parse(rt, &d->reqtype)))
        return bad(err, len, "request_type 只能是 consult|help|complaint|report|suggestion|praise");
    if (json_object_get(doc, "category") && !json_is_null(json_object_get(doc, "category")) &&
        (!cat || co_category_parse(cat, &d->category) ||
         !app->env.category_exists(app->env.arg, d->category)))
        return bad(err, len, "未知的类别 / unknown category (see GET /api/v1/taxonomy)");
    if (json_object_get(doc, "severity") && (!sev || co_severity_parse(sev, &d->severity)))
        return bad(err, len, "severity 只能是 normal|urgent|critical");
    return CO_OK;
}

/* Smart intake: a case without a category is classified (classify/service.h).
 * The record waits in a per-thread slot for co_intake_submit, which adds it
 * to the register event when the same draft is submitted on this thread. */
static _Thread_local co_clf_intake pending_clf;
static _Thread_local uint64_t pending_key;

static uint64_t draft_key(const co_case *d)
{
    uint64_t h = 0xcbf29ce484222325ull ^ d->category;
    for (const char *p = d->description; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h ? h : 1;
}

static void classify_draft(co_app *app, json_t *doc, co_case *d)
{
    pending_key = 0;
    if (d->category != CO_CATEGORY_NONE || !app->clf)
        return;
    json_t *sev = json_object_get(doc, "severity");
    co_clf_service_intake(app->clf, d, d->reqtype != CO_RT_NONE, sev && !json_is_null(sev),
                          app->env.category_exists, app->env.arg, &pending_clf);
    if (pending_clf.ran)
        pending_key = draft_key(d);
}

co_err co_intake_parse(co_app *app, json_t *doc, co_channel channel, co_case *d, char *err,
                       size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->lon = d->lat = NAN;
    d->channel = channel;
    co_err rc;
    if (!json_is_object(doc))
        return bad(err, errlen, "需要 JSON 对象 / a JSON object is required");
    if ((rc = get_text(doc, "description", d->description, sizeof d->description, 1, err, errlen)) ||
        (rc = get_text(doc, "address", d->address, sizeof d->address, 0, err, errlen)) ||
        (rc = parse_enums(app, doc, d, err, errlen)) || (rc = parse_caller(doc, d, err, errlen)) ||
        (rc = parse_photos(app, doc, d, err, errlen)))
        return rc;
    pthread_rwlock_rdlock(&app->cfg_lock);
    d->tax_version = (int32_t)app->tax_current;
    pthread_rwlock_unlock(&app->cfg_lock);
    if ((rc = parse_location(app, doc, d, err, errlen)))
        return rc;
    classify_draft(app, doc, d);
    return CO_OK;
}

/* ------------------------------------------------------------------ media */

static const char *sniff(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return "image/webp";
    return NULL;
}

void co_media_path(const co_app *app, const char *hash, char *out, size_t len)
{
    snprintf(out, len, "%s/%.2s/%s", app->media_dir, hash, hash);
}

static co_err write_durably(const char *dir, const char *path, const unsigned char *data,
                            size_t len)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)gettid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return CO_EIO;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return CO_EIO;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return CO_EIO;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return CO_OK;
}

co_err co_media_save(co_app *app, const unsigned char *data, size_t len, char hash[65],
                     const char **type, char *err, size_t errlen)
{
    if (len == 0)
        return bad(err, errlen, "空文件 / empty upload");
    if (len > CO_MEDIA_MAX) {
        snprintf(err, errlen, "照片超过 10 MiB / photo larger than 10 MiB");
        return CO_ETOOBIG;
    }
    *type = sniff(data, len);
    if (!*type)
        return bad(err, errlen, "只接受 JPEG、PNG、WebP 图片 / only JPEG, PNG or WebP images");
    static const char salt[] = "cityops-media-v1";
    unsigned char h[32];
    if (argon2id_hash_raw(1, 8, 1, data, len, salt, sizeof salt - 1, h, sizeof h) != ARGON2_OK)
        return bad(err, errlen, "无法计算摘要 / cannot hash the upload");
    for (int i = 0; i < 32; i++)
        snprintf(hash + 2 * i, 3, "%02x", h[i]);
    char dir[700], path[800];
    snprintf(dir, sizeof dir, "%s/%.2s", app->media_dir, hash);
    mkdir(app->media_dir, 0750);
    mkdir(dir, 0750);
    co_media_path(app, hash, path, sizeof path);
    struct stat st;
    co_err rc = CO_OK;
    if (stat(path, &st) != 0 || (size_t)st.st_size != len)
        rc = write_durably(dir, path, data, len);
    if (!rc)
        rc = co_store_media_put(app->store, hash, *type, (int64_t)len);
    if (rc)
        snprintf(err, errlen, "无法保存照片 / cannot store the photo");
    return rc;
}

/* ----------------------------------------------------------------- views */

static json_t *area_ref(const co_app *app, const char *code)
{
    int32_t idx = co_areas_find(app->areas, code);
    const co_area *a = co_areas_at(app->areas, idx);
    if (!a)
        return json_null();
    return json_pack("{s:s,s:s}", "code", a->code, "name", a->name);
}

static const char *light_of(co_app *app, const co_case *c, int64_t now)
{
    int64_t start = c->step_started, due = c->step_due;
    if (c->state == CO_ST_DISPATCHED || c->state == CO_ST_HANDLING) {
        start = c->dispatched_at ? c->dispatched_at : start;
        due = c->disposal_due;
    }
    if (!co_state_is_open(c->state) || c->state == CO_ST_SUSPENDED || !due || due <= start)
        return NULL;
    const co_calendar *cal = co_depts_calendar(app->depts, c->dept);
    int64_t used = 0, limit = 0;
    if (co_calendar_worked(cal, start, now, &used) || co_calendar_worked(cal, start, due, &limit))
        return NULL;
    if (now > due)
        return "red";
    return co_calendar_color_name(co_calendar_light(used, limit));
}

static int sees_phone(co_role r)
{
    return r == CO_ROLE_OPERATOR || r == CO_ROLE_SHIFTLEAD || r == CO_ROLE_ADMIN;
}

json_t *co_case_view(co_req *r, const co_case *c)
{
    co_app *app = (co_app *)r->app;
    const co_session *s = r->session;
    json_t *o = co_case_to_json(c, s && sees_phone(s->role));
    char cat[64];
    co_app_category_name(app, c->category, cat, sizeof cat);
    json_object_set_new(o, "category_name", json_string(cat));
    json_object_set_new(o, "dept_name", json_string(co_app_dept_name(app, c->dept)));
    json_object_set_new(o, "routed_dept_name", json_string(co_app_dept_name(app, c->routed_dept)));
    json_t *areas = json_pack("{s:o,s:o,s:o,s:o}", "district", area_ref(app, c->district),
                              "street", area_ref(app, c->street), "community",
                              area_ref(app, c->community), "grid", area_ref(app, c->grid));
    json_object_set_new(o, "areas", areas);
    json_object_set_new(o, "severity_zh", json_string(co_severity_name_zh(c->severity)));
    json_object_set_new(o, "channel_zh", json_string(co_channel_name_zh(c->channel)));
    json_object_set_new(o, "request_type_zh", json_string(co_reqtype_name_zh(c->reqtype)));
    const char *light = light_of(app, c, co_time_now());
    json_object_set_new(o, "light", light ? json_string(light) : json_null());
    int64_t now = co_time_now();
    int overdue = (c->state == CO_ST_DISPATCHED || c->state == CO_ST_HANDLING) &&
                  c->disposal_due && now > c->disposal_due;
    json_object_set_new(o, "overdue", json_boolean(overdue));
    json_t *allowed = json_array();
    if (s) {
        co_wf_actor who = co_app_actor(s);
        const char *acts[CO_WF_MAX_ACTIONS];
        size_t n = co_wf_allowed(c, &who, acts);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(allowed, json_pack("{s:s,s:s}", "action", acts[i], "label",
                                                     co_wf_action_zh(acts[i])));
    }
    json_object_set_new(o, "allowed_actions", allowed);
    return o;
}

json_t *co_case_public_view(co_req *r, const co_case *c)
{
    co_app *app = (co_app *)r->app;
    char cat[64], created[CO_TIME_ISO_MAX], updated[CO_TIME_ISO_MAX];
    co_app_category_name(app, c->category, cat, sizeof cat);
    co_time_format(c->created, created);
    co_time_format(c->updated, updated);
    const char *public_state = c->state == CO_ST_CLOSED   ? "closed"
                               : c->state == CO_ST_VOIDED ? "voided"
                               : c->state == CO_ST_MERGED ? "merged"
                                                          : "open";
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "number", c->number, "state",
                          public_state, "state_detail", co_state_name(c->state), "state_zh",
                          co_state_name_zh(c->state), "category_name", cat, "created", created,
                          "updated", updated, "district", area_ref(app, c->district),
                          "dept_name", co_app_dept_name(app, c->dept));
    /* Only what was reported publicly is shown publicly: case numbers are
     * sequential, so a hotline caller's or an inspector's text never is. */
    if (c->channel == CO_CH_WEB || c->channel == CO_CH_OPEN311)
        json_object_set_new(o, "description", json_string(c->description));
    if (c->state == CO_ST_MERGED && c->merged_into[0]) /* the caller follows the master */
        json_object_set_new(o, "merged_into", json_string(c->merged_into));
    return o;
}

/* -------------------------------------------------------------- submission */

typedef struct submit_ctx {
    co_write_cmd cmd;
    co_deferred *def;
    int public_view;
    int show_phone;
    co_dup_intake *dup; /* duplicates of the new case (api/duplicates.h) */
} submit_ctx;

static void submit_reply(co_req *r, void *arg)
{
    submit_ctx *sc = arg;
    co_write_cmd *cmd = &sc->cmd;
    if (cmd->rc) {
        co_reply_err(r, cmd->rc, cmd->err[0] ? cmd->err : NULL);
    } else {
        char loc[128];
        snprintf(loc, sizeof loc, "/api/v1/cases/%s", cmd->result.number);
        evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Location", loc);
        if (sc->public_view)
            co_reply_json(r, 201, co_case_public_view(r, co_dup_intake_result(sc->dup, cmd)));
        else /* the case with its duplicates */
            co_dup_intake_reply(r, sc->dup, cmd, sc->show_phone);
    }
    co_dup_intake_free(sc->dup);
    co_writer_cmd_clear(cmd);
    co_free(sc);
}

static void submit_gone(co_req *r, void *arg)
{
    (void)r;
    submit_ctx *sc = arg;
    co_dup_intake_free(sc->dup);
    co_writer_cmd_clear(&sc->cmd);
    co_free(sc);
}

static void submit_fire(void *arg)
{
    co_deferred_fire(((submit_ctx *)arg)->def);
}

static void submit_done(co_write_cmd *cmd)
{
    submit_ctx *sc = cmd->arg;
    if (co_dup_intake_committed(sc->dup, cmd, submit_fire, sc))
        return; /* an automatic merge follows; its completion replies */
    co_deferred_fire(sc->def);
}

void co_intake_submit(co_req *r, const co_case *draft, int public_view)
{
    co_app *app = (co_app *)r->app;
    submit_ctx *sc = co_xcalloc(1, sizeof *sc);
    sc->public_view = public_view;
    co_write_cmd *cmd = &sc->cmd;
    co_case c = *draft;
    co_wf_actor who = {"", CO_ROLE_OPERATOR, "", ""}; /* anonymous channels: like the desk */
    if (r->session) {
        who = co_app_actor(r->session);
        snprintf(c.reporter, sizeof c.reporter, "%s", r->session->username);
        if (r->session->role == CO_ROLE_INSPECTOR)
            c.flags |= CO_CF_VERIFIED; /* seen on site by the reporter */
        sc->show_phone = sees_phone(r->session->role);
    }
    co_err rc = co_writer_prepare_register(app->writer, &c, &who, co_time_now(), cmd);
    if (rc) {
        co_free(sc);
        co_reply_err(r, rc, "无法受理 / cannot register the case");
        return;
    }
    if (pending_key && pending_key == draft_key(draft) &&
        co_clf_annotate(&cmd->ev, &pending_clf) != CO_OK)
        co_log_warn("msg=\"cannot record the classification\" case=%s", cmd->draft.number);
    pending_key = 0;
    sc->dup = co_dup_intake_begin(r, cmd);
    cmd->hint = co_dup_intake_sig(sc->dup); /* sc (and so dup) lives until the reply */
    cmd->done = submit_done;
    cmd->arg = sc;
    sc->def = co_req_defer(r, submit_reply, submit_gone, sc);
    if (!sc->def) {
        co_dup_intake_free(sc->dup);
        co_writer_cmd_clear(cmd);
        co_free(sc);
        co_reply_error(r, 500, "internal", "cannot defer the reply");
        return;
    }
    co_writer_submit(app->writer, cmd);
}
