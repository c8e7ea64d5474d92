/* case.c — names and parsing of the case's enumerations (see case.h). */
#include "domain/case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strparse.h"

typedef struct name_pair {
    const char *en, *zh;
} name_pair;

static const name_pair state_names[CO_ST_COUNT] = {
    [CO_ST_NONE] = {"none", "无"},
    [CO_ST_REGISTERED] = {"registered", "待立案"},
    [CO_ST_VERIFYING] = {"verifying", "核实中"},
    [CO_ST_FILED] = {"filed", "待派遣"},
    [CO_ST_DISPATCHED] = {"dispatched", "待签收"},
    [CO_ST_HANDLING] = {"handling", "处置中"},
    [CO_ST_SUSPENDED] = {"suspended", "挂账"},
    [CO_ST_HANDLED] = {"handled", "待核查"},
    [CO_ST_CHECKING] = {"checking", "核查中"},
    [CO_ST_CHECKED] = {"checked", "待结案"},
    [CO_ST_CLOSED] = {"closed", "已结案"},
    [CO_ST_VOIDED] = {"voided", "已作废"},
    [CO_ST_MERGED] = {"merged", "已合并"},
};

static const name_pair channel_names[CO_CH_COUNT] = {
    [CO_CH_HOTLINE] = {"hotline", "12345热线"},
    [CO_CH_INSPECTOR] = {"inspector", "监督员上报"},
    [CO_CH_WEB] = {"web", "公众上报"},
    [CO_CH_OPEN311] = {"open311", "Open311"},
    [CO_CH_SENSOR] = {"sensor", "物联感知"},
    [CO_CH_IMPORT] = {"import", "上级交办/导入"},
};

static const name_pair severity_names[CO_SEV_COUNT] = {
    [CO_SEV_NORMAL] = {"normal", "一般"},
    [CO_SEV_URGENT] = {"urgent", "紧急"},
    [CO_SEV_CRITICAL] = {"critical", "特急"},
};

static const name_pair reqtype_names[CO_RT_COUNT] = {
    [CO_RT_NONE] = {"", ""},
    [CO_RT_CONSULT] = {"consult", "咨询"},
    [CO_RT_HELP] = {"help", "求助"},
    [CO_RT_COMPLAINT] = {"complaint", "投诉"},
    [CO_RT_REPORT] = {"report", "举报"},
    [CO_RT_SUGGESTION] = {"suggestion", "建议"},
    [CO_RT_PRAISE] = {"praise", "表扬"},
};

static const name_pair sat_names[CO_SAT_COUNT] = {
    [CO_SAT_NONE] = {"", ""},
    [CO_SAT_SATISFIED] = {"satisfied", "满意"},
    [CO_SAT_BASIC] = {"basic", "基本满意"},
    [CO_SAT_UNSATISFIED] = {"unsatisfied", "不满意"},
};

static const name_pair close_names[CO_CLOSE_COUNT] = {
    [CO_CLOSE_NONE] = {"", ""},
    [CO_CLOSE_NORMAL] = {"normal", "正常结案"},
    [CO_CLOSE_OVERDUE] = {"overdue", "超时结案"},
    [CO_CLOSE_SPECIAL] = {"special", "特殊结案"},
};

static const char *en(const name_pair *t, int n, int i)
{
    return i >= 0 && i < n ? t[i].en : "?";
}

static const char *zh(const name_pair *t, int n, int i)
{
    return i >= 0 && i < n ? t[i].zh : "?";
}

static co_err parse(const name_pair *t, int n, int from, const char *s, int *out)
{
    for (int i = from; s && i < n; i++)
        if (!strcmp(s, t[i].en)) {
            *out = i;
            return CO_OK;
        }
    return CO_EINVAL;
}

#define ENUM_FUNCS(fn, type, table, count, first)                                                 \
    const char *co_##fn##_name(type v) { return en(table, count, (int)v); }                       \
    co_err co_##fn##_parse(const char *s, type *out)                                             \
    {                                                                                              \
        int i;                                                                                     \
        co_err rc = parse(table, count, first, s, &i);                                             \
        if (!rc)                                                                                   \
            *out = (type)i;                                                                        \
        return rc;                                                                                 \
    }

ENUM_FUNCS(state, co_state, state_names, CO_ST_COUNT, 1)
ENUM_FUNCS(channel, co_channel, channel_names, CO_CH_COUNT, 0)
ENUM_FUNCS(severity, co_severity, severity_names, CO_SEV_COUNT, 0)
ENUM_FUNCS(reqtype, co_reqtype, reqtype_names, CO_RT_COUNT, 1)
ENUM_FUNCS(satisfaction, co_satisfaction, sat_names, CO_SAT_COUNT, 1)
ENUM_FUNCS(close_type, co_close_type, close_names, CO_CLOSE_COUNT, 1)

const char *co_state_name_zh(co_state s) { return zh(state_names, CO_ST_COUNT, (int)s); }
const char *co_channel_name_zh(co_channel c) { return zh(channel_names, CO_CH_COUNT, (int)c); }
const char *co_severity_name_zh(co_severity s) { return zh(severity_names, CO_SEV_COUNT, (int)s); }
const char *co_reqtype_name_zh(co_reqtype t) { return zh(reqtype_names, CO_RT_COUNT, (int)t); }

int co_state_is_open(co_state s)
{
    return s != CO_ST_NONE && s != CO_ST_CLOSED && s != CO_ST_VOIDED && s != CO_ST_MERGED;
}

void co_event_clear(co_event *e)
{
    json_decref(e->data);
    e->data = NULL;
    free(e->data_text);
    e->data_text = NULL;
}

co_err co_category_parse(const char *s, co_category *out)
{
    if (!s || strlen(s) != 5 || (s[0] != 'C' && s[0] != 'E') || !co_is_digits(s + 1, 4))
        return CO_EINVAL;
    int code = (s[1] - '0') * 1000 + (s[2] - '0') * 100 + (s[3] - '0') * 10 + (s[4] - '0');
    if (code < 101)
        return CO_EINVAL;
    *out = (co_category)((s[0] == 'C' ? 1 : 2) * 10000 + code);
    return CO_OK;
}

void co_category_format(co_category c, char out[8])
{
    if (c == CO_CATEGORY_NONE) {
        out[0] = '\0';
        return;
    }
    snprintf(out, 8, "%c%04d", c / 10000 == 1 ? 'C' : 'E', c % 10000);
}

int co_category_kind(co_category c) { return c / 10000; }
int co_category_code(co_category c) { return c % 10000; }

void co_phone_mask(const char *phone, char out[CO_PHONE_MAX])
{
    size_t n = strlen(phone);
    if (n < 7) {
        snprintf(out, CO_PHONE_MAX, "%s", n ? "****" : "");
        return;
    }
    if (n < 11) { /* a 7-digit local number would show whole as 3 + 4 */
        snprintf(out, CO_PHONE_MAX, "****%s", phone + n - 4);
        return;
    }
    snprintf(out, CO_PHONE_MAX, "%.3s****%s", phone, phone + n - 4);
}

int co_case_number_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 13 && n <= 15 && co_is_digits(s, (unsigned)n);
}

const char *co_case_finest_area(const co_case *c)
{
    return c->grid[0] ? c->grid : c->community[0] ? c->community
                                : c->street[0]    ? c->street
                                                  : c->district;
}

void co_case_set_areas(co_case *c, const char *finest)
{
    size_t n = finest ? strlen(finest) : 0;
    if (n >= 6)
        snprintf(c->district, sizeof c->district, "%.6s", finest);
    if (n >= 9)
        snprintf(c->street, sizeof c->street, "%.9s", finest);
    if (n >= 12)
        snprintf(c->community, sizeof c->community, "%.12s", finest);
    if (n >= 15)
        snprintf(c->grid, sizeof c->grid, "%.15s", finest);
}
