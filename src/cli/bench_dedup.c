/* bench_dedup.c — `cityops bench dedup`: precision and recall of duplicate
 * detection on a synthetic city with known re-reports, and its cost per
 * intake. The set: N cases (20,000) over D days (60) at hot spots of a
 * 20 × 15 km city (a few hundred street corners and residential gates, so
 * different problems of one kind happen close together), of which a share
 * (15 %) are re-reports of an earlier problem that is still open: a point
 * moved within the category's radius, a later time within its window,
 * sometimes the related subclass (井盖缺失 for a 上水井盖 …), and a text told
 * again from hand-written phrase banks (another framing, another wording of
 * the problem, the place named differently). Cases are replayed in time
 * order through the real index (co_dedup_*): closed when their life ends,
 * queried, then indexed — re-reports are merged, so not indexed.
 * With --data DIR the demo city's (or any store's) history is replayed the
 * same way instead — each case open from its creation until it was closed —
 * without known duplicates: how many intakes would show a candidate, and
 * what a query costs at that density.
 * Everything allocated here is freed before returning. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench.h"
#include "domain/dedup.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "store/store.h"

/* ------------------------------------------------------------ phrases */

static const char *const ROADS[] = {
    "新华大街", "中山路", "锡林郭勒北路", "昭乌达路", "呼伦贝尔路", "大学西街", "鄂尔多斯大街",
    "成吉思汗大街", "兴安南路", "乌兰察布东路", "展览馆东路", "海拉尔西路", "公园东路",
    "巴彦淖尔南路", "石羊桥东路", "通道北街", "人民路", "新城西街", "北垣东街", "丰州路",
};
static const char *const PLACES[] = {
    "幸福小区", "青城花园", "恒大名都", "民族商场", "八一市场", "如意小区", "锦绣华城",
    "交通大院", "电力小区", "第二中学", "体育馆", "长乐宫", "桥华世纪村", "光明小区",
    "维多利商厦", "铁路新村", "东瓦窑小区", "南茶坊", "钢铁小区", "团结小区",
};
static const char *const SPOTS[] = {"南门", "北门", "东门", "西门", "门口", "对面", "后身",
                                    "停车场", "十字路口", "公交站旁边"};

/* Framings of a call or an inspector's note: {} is where the body goes. */
static const char *const FRAMES[] = {
    "%s",
    "您好，我想反映个问题，%s，麻烦尽快处理。",
    "巡查发现：%s。",
    "市民来电：%s，希望有关部门管一管。",
    "%s，已经好几天了，一直没人管。",
    "喂，12345吗？%s，你们赶紧派人来看看吧",
    "我再反映一次，%s",
    "%s，请尽快安排处理，谢谢！",
    "网友留言：%s，这个问题很影响大家生活。",
};

typedef struct kind {
    const char *cat;      /* subclass */
    const char *related;  /* a related subclass a re-report may be filed under, or NULL */
    int life_days;        /* how long such a problem stays open, at most */
    const char *issue[7]; /* ways to say the problem (NULL-terminated) */
    const char *detail[6];
} kind;

static const kind KINDS[] = {
    {"C0101", "E0504", 6,
     {"上水井盖破损了", "自来水井盖裂开了", "水表井的盖子碎了一块", "有个上水井盖松动，一踩就翘",
      "供水井盖塌下去一半", NULL},
     {"晚上看不见很危险", "小孩经常在这里玩", "已经用砖头临时挡着", "电动车差点压上去", NULL}},
    {"C0102", "E0504", 6,
     {"污水井盖坏了", "下水井盖缺了一角", "污水检查井盖子被压碎了", "下水道井盖移位，露出个口子",
      NULL},
     {"一股臭味", "路过的人都得绕着走", "车一过就哐当响", NULL}},
    {"E0504", "C0101", 3,
     {"井盖没了", "井盖丢了，井口敞着", "有个井盖被偷了", "路上的井盖不见了，剩个大窟窿", NULL},
     {"特别危险，差点有人掉下去", "晚上黑灯瞎火的", "有老人路过差点踩空", NULL}},
    {"C0207", "E0502", 10,
     {"路面有个大坑", "马路坑坑洼洼的", "车行道塌了一个坑", "路面破损严重，全是坑", "机动车道上有个深坑",
      NULL},
     {"下雨就积水", "车开过去颠得厉害", "已经有电动车摔倒了", NULL}},
    {"E0102", NULL, 3,
     {"有人乱倒垃圾", "垃圾堆在路边没人清", "一大堆生活垃圾露天放着", "路边垃圾成堆", NULL},
     {"臭气熏天", "苍蝇蚊子特别多", "都堆了好几天了", "野猫野狗都在翻", NULL}},
    {"E0404", NULL, 1,
     {"有辆车乱停", "车子停在人行道上", "有人把车堵在消防通道", "一辆私家车违停挡路", NULL},
     {"行人都过不去", "救护车都进不来", "从早上停到现在", NULL}},
    {"E0301", "E0411", 14,
     {"工地晚上施工噪音太大", "夜里工地还在打桩", "施工队半夜还在干活", "工地机器轰隆隆响个不停",
      "建筑工地夜间违规施工", NULL},
     {"吵得睡不着觉", "都十一点多了还在干", "老人孩子都休息不好", "天天如此", NULL}},
    {"E0411", "E0301", 7,
     {"楼下商铺音响声音特别大", "有家店门口放大喇叭", "噪音扰民，音乐放得很响", "商户用喇叭循环叫卖",
      NULL},
     {"从早吵到晚", "窗户关上都能听见", "说了也不管", NULL}},
    {"E0505", NULL, 2,
     {"闻到很浓的煤气味", "好像燃气泄漏了", "楼道里一股天然气味", "燃气管道那边有漏气的味道", NULL},
     {"担心会爆炸", "住户都不敢开火", "味道越来越重", NULL}},
    {"E0503", "C0104", 2,
     {"路上积水很深", "雨后马路被淹了", "道路积水排不出去", "下雨后路口全是水", NULL},
     {"车都熄火了", "行人没法走", "水快没过膝盖了", NULL}},
    {"E0508", NULL, 2,
     {"小区停水了", "家里突然停电了", "整栋楼没水也没电", "小区从早上开始停水", NULL},
     {"也没提前通知", "做不了饭", "家里有老人很着急", NULL}},
    {"C0112", NULL, 10,
     {"路灯不亮了", "这一段路灯坏了", "晚上路灯全黑", "路灯一闪一闪的", NULL},
     {"晚上走路看不清", "好几盏都坏了", "已经坏了一个多星期", NULL}},
    {"E0402", NULL, 3,
     {"有小贩占道摆摊", "人行道上全是摆摊的", "流动商贩占道经营", "早市摊位摆到马路上", NULL},
     {"车都过不去", "地上一片狼藉", "城管来了就跑", NULL}},
    {"E0303", NULL, 7,
     {"工地扬尘很大", "工地没有覆盖，尘土飞扬", "施工现场灰尘特别大", NULL},
     {"窗户都不敢开", "车上落满了灰", "也不洒水降尘", NULL}},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])
#define NEL(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ the set */

typedef struct spot {
    double lon, lat;
    int road, road2, place, side;
} spot;

typedef struct bcase {
    co_case c;
    int kind;
    int64_t closes;  /* when the problem is solved */
    int64_t truth;   /* id of the problem this re-reports, 0 = a new problem */
    int sp;          /* hot spot */
} bcase;

static uint64_t g_rng;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static size_t pick(size_t n) { return (size_t)(rnd() % n); }

static size_t count_of(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

/* A place phrase: the same spot named in one of several ways. */
static void place_text(const spot *s, char *out, size_t len)
{
    switch (pick(5)) {
    case 0: snprintf(out, len, "%s与%s交叉口", ROADS[s->road], ROADS[s->road2]); break;
    case 1: snprintf(out, len, "%s%s", PLACES[s->place], SPOTS[s->side]); break;
    case 2: snprintf(out, len, "%s%s附近", ROADS[s->road], PLACES[s->place]); break;
    case 3: snprintf(out, len, "%s这边，靠近%s", ROADS[s->road], PLACES[s->place]); break;
    default: snprintf(out, len, "在%s%s", PLACES[s->place], SPOTS[s->side]); break;
    }
}

static void describe(const kind *k, const spot *s, char *out, size_t len)
{
    char place[160], body[600];
    place_text(s, place, sizeof place);
    const char *issue = k->issue[pick(count_of(k->issue))];
    size_t nd = count_of(k->detail);
    if (pick(3))
        snprintf(body, sizeof body, "%s%s，%s", place, issue, k->detail[pick(nd)]);
    else
        snprintf(body, sizeof body, "%s，%s", issue, place);
    snprintf(out, len, FRAMES[pick(NEL(FRAMES))], body);
}

static co_category cat_of(const char *s)
{
    co_category c = 0;
    return co_category_parse(s, &c) == CO_OK ? c : 0;
}

#define M_LAT 110574.0
#define M_LON(lat) (111320.0 * cos((lat) * 3.14159265358979323846 / 180.0))

/* Builds n cases over `days` days; returns the number of re-reports. */
static size_t build_set(bcase *bs, size_t n, int days, double dup_share, spot *spots,
                        size_t nspots, int64_t t0)
{
    for (size_t i = 0; i < nspots; i++) {
        spots[i].lon = 111.58 + unif() * 0.24; /* ~20 km */
        spots[i].lat = 40.76 + unif() * 0.135; /* ~15 km */
        spots[i].road = (int)pick(NEL(ROADS));
        do
            spots[i].road2 = (int)pick(NEL(ROADS));
        while (spots[i].road2 == spots[i].road);
        spots[i].place = (int)pick(NEL(PLACES));
        spots[i].side = (int)pick(NEL(SPOTS));
    }
    size_t dups = 0;
    double step = (double)days * 86400 / (double)n;
    for (size_t i = 0; i < n; i++) {
        bcase *b = &bs[i];
        memset(b, 0, sizeof *b);
        co_case *c = &b->c;
        c->id = (int64_t)i + 1;
        snprintf(c->number, sizeof c->number, "2026%09zu", i + 1);
        c->created = t0 + (int64_t)(i * step + unif() * step);
        c->state = CO_ST_REGISTERED;
        /* a re-report of a still-open earlier problem, found among recent ones */
        bcase *orig = NULL;
        if (i > 50 && unif() < dup_share) {
            for (int tries = 0; tries < 40 && !orig; tries++) {
                size_t back = 1 + pick(i < 4000 ? i : 4000);
                bcase *o = &bs[i - back];
                co_dedup_rule r = co_dedup_rule_of(o->c.category);
                if (!o->truth && o->closes > c->created &&
                    c->created - o->c.created < (int64_t)r.window_days * 86400 * 8 / 10)
                    orig = o;
            }
        }
        if (orig) {
            const kind *k = &KINDS[orig->kind];
            b->kind = orig->kind;
            b->truth = orig->c.id;
            b->sp = orig->sp;
            c->category = (k->related && unif() < 0.2) ? cat_of(k->related) : orig->c.category;
            double r = co_dedup_rule_of(orig->c.category).radius_m * 0.9 * sqrt(unif());
            double a = unif() * 2 * 3.14159265358979323846;
            c->lat = orig->c.lat + r * sin(a) / M_LAT;
            c->lon = orig->c.lon + r * cos(a) / M_LON(orig->c.lat);
            b->closes = orig->closes;
            describe(k, &spots[b->sp], c->description, sizeof c->description);
            dups++;
            continue;
        }
        b->kind = (int)pick(NKINDS);
        const kind *k = &KINDS[b->kind];
        c->category = cat_of(k->cat);
        b->sp = (int)pick(nspots);
        /* ~150 m around the hot spot (sum of uniforms ≈ normal) */
        double dx = (unif() + unif() + unif() - 1.5) * 300, dy = (unif() + unif() + unif() - 1.5) * 300;
        c->lat = spots[b->sp].lat + dy / M_LAT;
        c->lon = spots[b->sp].lon + dx / M_LON(spots[b->sp].lat);
        b->closes = c->created + 3600 + (int64_t)(unif() * k->life_days * 86400);
        describe(k, &spots[b->sp], c->description, sizeof c->description);
        /* An area-wide problem (noise, dust, a smell, an outage: radius ≥ 100 m)
         * has one source: a second report of its kind within its radius while
         * one is open is that problem again, so the truth says so. Point
         * problems (a cover, a pothole, a car) may well be two. */
        co_dedup_rule rule = co_dedup_rule_of(c->category);
        for (size_t j = i; rule.radius_m >= 100 && j-- > 0 && i - j < 6000;) {
            bcase *o = &bs[j];
            if (!o->truth && o->kind == b->kind && o->closes > c->created &&
                c->created - o->c.created <= (int64_t)rule.window_days * 86400 &&
                co_dedup_distance(o->c.lon, o->c.lat, c->lon, c->lat) <= rule.radius_m) {
                b->truth = o->c.id;
                b->closes = o->closes;
                dups++;
                break;
            }
        }
    }
    return dups;
}

/* ------------------------------------------------------------ the run */

#define NTHR 14
static const double THRESHOLDS[NTHR] = {0.01, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55,
                                        0.60, 0.70, 0.80, 0.85, 0.90, 0.92};

typedef struct tally {
    size_t shown, right;  /* a top candidate ≥ threshold; it was the true original */
} tally;

typedef struct closer {
    int64_t at;
    size_t idx;
} closer;

static int cmp_closer(const void *a, const void *b)
{
    const closer *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

/* ------------------------------------------------- a store's history */

typedef struct hist {
    co_case *cs;
    size_t n, cap;
} hist;

static int hist_one(void *ctx, const co_case *c)
{
    hist *hs = ctx;
    hs->cs = co_xgrow(hs->cs, &hs->cap, hs->n + 1, sizeof *hs->cs);
    hs->cs[hs->n++] = *c;
    return 0;
}

static int64_t end_of(const co_case *c)
{
    if (c->state == CO_ST_CLOSED)
        return c->closed_at ? c->closed_at : c->updated;
    return co_state_is_open(c->state) ? INT64_MAX : c->updated; /* voided, merged */
}

static int cmp_created(const void *a, const void *b)
{
    const co_case *x = a, *y = b;
    return x->created < y->created ? -1 : x->created > y->created;
}

static int run_history(const char *dir)
{
    co_store *st = NULL;
    hist hs = {0};
    if (co_store_open(dir, &st) || co_store_cases_each(st, hist_one, &hs)) {
        fprintf(stderr, "cityops bench dedup: cannot read the cases of %s\n", dir);
        co_store_close(st);
        co_free(hs.cs);
        return 1;
    }
    co_store_close(st);
    qsort(hs.cs, hs.n, sizeof *hs.cs, cmp_created);
    closer *cl = co_xcalloc(hs.n + 1, sizeof *cl);
    for (size_t i = 0; i < hs.n; i++)
        cl[i] = (closer){end_of(&hs.cs[i]), i};
    qsort(cl, hs.n, sizeof *cl, cmp_closer);
    co_dedup *d = co_dedup_new(40.8);
    size_t next = 0, shown = 0, automatic = 0, scored = 0, peak = 0;
    double find_s = 0;
    for (size_t i = 0; i < hs.n; i++) {
        co_case c = hs.cs[i];
        while (next < hs.n && cl[next].at <= c.created) {
            co_case o = hs.cs[cl[next++].idx];
            o.state = CO_ST_CLOSED;
            co_dedup_update(d, &o);
        }
        double a = co_time_mono();
        co_dedup_sig sig;
        co_dedup_signature(c.description, &sig);
        co_dedup_query q = {c.category, c.lon, c.lat, c.created, &sig, c.id, CO_DEDUP_SHOW};
        co_dedup_hit hit;
        size_t visited = 0;
        size_t got = co_dedup_find(d, &q, &hit, 1, &visited);
        find_s += co_time_mono() - a;
        scored += visited;
        shown += got;
        automatic += got && hit.score >= CO_DEDUP_AUTO;
        c.state = CO_ST_REGISTERED;
        co_dedup_update_sig(d, &c, &sig);
        co_dedup_info info;
        co_dedup_get_info(d, &info);
        if (info.open > peak)
            peak = info.open;
    }
    printf("history of %s: %zu cases, at most %zu open at once\n", dir, hs.n, peak);
    printf("intakes with a candidate >= %.2f (shown): %zu (%.2f %%), >= %.2f (auto): %zu; "
           "find per intake %.2f us, %.1f open cases scored per query\n",
           CO_DEDUP_SHOW, shown, hs.n ? 100.0 * (double)shown / (double)hs.n : 0, CO_DEDUP_AUTO,
           automatic,
           hs.n ? find_s / (double)hs.n * 1e6 : 0, hs.n ? (double)scored / (double)hs.n : 0);
    co_dedup_free(d);
    co_free(cl);
    co_free(hs.cs);
    return 0;
}

int co_bench_dedup(int argc, char **argv)
{
    const char *v;
    if ((v = opt(argc, argv, "--data")))
        return run_history(v);
    size_t n = (v = opt(argc, argv, "--cases")) ? strtoul(v, NULL, 10) : 20000;
    int days = (v = opt(argc, argv, "--days")) ? atoi(v) : 60;
    double share = (v = opt(argc, argv, "--dup-share")) ? atof(v) : 0.15;
    size_t nspots = (v = opt(argc, argv, "--spots")) ? strtoul(v, NULL, 10) : 400;
    g_rng = (v = opt(argc, argv, "--seed")) ? strtoull(v, NULL, 10) : 20261125;
    int show_examples = opt(argc, argv, "--examples") != NULL;
    if (!g_rng)
        g_rng = 1;
    if (n < 100 || n > 2000000 || days < 1 || share < 0 || share > 0.9 || nspots < 1) {
        fprintf(stderr, "usage: cityops bench dedup [--cases N] [--days D] [--dup-share F] "
                        "[--spots S] [--seed S] [--examples 1]\n");
        return 2;
    }
    bcase *bs = co_xcalloc(n, sizeof *bs);
    spot *spots = co_xcalloc(nspots, sizeof *spots);
    closer *cl = co_xcalloc(n, sizeof *cl);
    double *find_us = co_xcalloc(n, sizeof *find_us);
    int64_t t0 = 1764000000;
    size_t dups = build_set(bs, n, days, share, spots, nspots, t0);
    for (size_t i = 0; i < n; i++)
        cl[i] = (closer){bs[i].closes, i};
    qsort(cl, n, sizeof *cl, cmp_closer);

    co_dedup *d = co_dedup_new(40.8);
    tally t[NTHR];
    memset(t, 0, sizeof t);
    size_t next_close = 0, scored = 0, examples = 0;
    double upd_s = 0, find_s = 0;
    for (size_t i = 0; i < n; i++) {
        bcase *b = &bs[i];
        while (next_close < n && cl[next_close].at <= b->c.created) {
            bcase *o = &bs[cl[next_close++].idx];
            if (o->c.id < b->c.id && !o->truth) {
                o->c.state = CO_ST_CLOSED;
                co_dedup_update(d, &o->c);
            }
        }
        double a = co_time_mono();
        co_dedup_sig sig;
        co_dedup_signature(b->c.description, &sig);
        co_dedup_query q = {b->c.category, b->c.lon, b->c.lat, b->c.created, &sig, b->c.id, 0.01};
        co_dedup_hit hit;
        size_t visited = 0;
        size_t got = co_dedup_find(d, &q, &hit, 1, &visited);
        double e = co_time_mono();
        find_us[i] = (e - a) * 1e6;
        find_s += e - a;
        scored += visited;
        for (int k = 0; k < NTHR; k++)
            if (got && hit.score >= THRESHOLDS[k]) {
                t[k].shown++;
                t[k].right += hit.id == b->truth;
            }
        if (show_examples && examples < 12 && b->truth && (!got || hit.id != b->truth)) {
            printf("missed: %s\n   orig: %s\n   top:  %s (%.2f)\n", b->c.description,
                   bs[b->truth - 1].c.description, got ? bs[hit.id - 1].c.description : "-",
                   got ? hit.score : 0);
            examples++;
        }
        if (!b->truth) { /* a new problem is indexed; a re-report is merged away */
            a = co_time_mono();
            co_dedup_update_sig(d, &b->c, &sig);
            upd_s += co_time_mono() - a;
        }
    }
    co_dedup_info info;
    co_dedup_get_info(d, &info);
    qsort(find_us, n, sizeof *find_us, cmp_double);
    printf("cases %zu over %d days, %zu hot spots, re-reports %zu (%.1f %%), open at the end %zu\n",
           n, days, nspots, dups, 100.0 * (double)dups / (double)n, info.open);
    printf("%-9s %8s %8s %9s %9s\n", "threshold", "shown", "right", "precision", "recall");
    for (int k = 0; k < NTHR; k++)
        printf("%-9.2f %8zu %8zu %8.1f%% %8.1f%%\n", THRESHOLDS[k], t[k].shown, t[k].right,
               t[k].shown ? 100.0 * (double)t[k].right / (double)t[k].shown : 0,
               dups ? 100.0 * (double)t[k].right / (double)dups : 0);
    printf("find (signature + query) per intake: mean %.2f us, p50 %.2f us, p99 %.2f us, max "
           "%.1f us; %.1f open cases scored per query\n",
           find_s / (double)n * 1e6, find_us[n / 2], find_us[n * 99 / 100], find_us[n - 1],
           (double)scored / (double)n);
    printf("index update per new case: mean %.2f us; index %zu bytes\n",
           upd_s / (double)(n - dups) * 1e6, info.bytes);
    co_dedup_free(d);
    co_free(find_us);
    co_free(cl);
    co_free(spots);
    co_free(bs);
    return 0;
}
