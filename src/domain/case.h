/* case.h — the case (案件): its fields, states, channels and the event that
 * changes it. A case row is a projection of its events: co_case_apply()
 * folds one event into a case and is the only code that changes a case, both
 * when the writer commits a command and when a store is replayed.
 * co_case and co_event are plain values with fixed-size text buffers; nothing
 * inside them needs freeing except the event's JSON data (co_event_clear). */
#ifndef CO_DOMAIN_CASE_H
#define CO_DOMAIN_CASE_H

#include <jansson.h>
#include <stdint.h>

#include "lib/err.h"

typedef enum co_state {
    CO_ST_NONE = 0,
    CO_ST_REGISTERED,  /* 受理/登记: waiting to be verified or filed */
    CO_ST_VERIFYING,   /* 核实: an inspector checks the report on site */
    CO_ST_FILED,       /* 立案: waiting for dispatch */
    CO_ST_DISPATCHED,  /* 派遣: sent to a department, not yet accepted */
    CO_ST_HANDLING,    /* 处置中: the department works on it */
    CO_ST_SUSPENDED,   /* 挂账: clock stopped */
    CO_ST_HANDLED,     /* 已处置 (反馈): waiting for an on-site check */
    CO_ST_CHECKING,    /* 核查: an inspector checks the result */
    CO_ST_CHECKED,     /* 核查通过: waiting to be closed */
    CO_ST_CLOSED,      /* 结案 */
    CO_ST_VOIDED,      /* 作废 */
    CO_ST_MERGED,      /* 合并为重复 */
    CO_ST_COUNT
} co_state;

typedef enum co_channel {
    CO_CH_HOTLINE = 0, /* 12345 热线 */
    CO_CH_INSPECTOR,   /* 监督员上报 */
    CO_CH_WEB,         /* 公众网页/APP */
    CO_CH_OPEN311,     /* Open311 clients */
    CO_CH_SENSOR,      /* 物联感知 */
    CO_CH_IMPORT,      /* 批量导入 / 上级交办 */
    CO_CH_COUNT
} co_channel;

typedef enum co_severity { CO_SEV_NORMAL = 0, CO_SEV_URGENT, CO_SEV_CRITICAL, CO_SEV_COUNT } co_severity;

typedef enum co_reqtype {
    CO_RT_NONE = 0,
    CO_RT_CONSULT,     /* 咨询 */
    CO_RT_HELP,        /* 求助 */
    CO_RT_COMPLAINT,   /* 投诉 */
    CO_RT_REPORT,      /* 举报 */
    CO_RT_SUGGESTION,  /* 建议 */
    CO_RT_PRAISE,      /* 表扬 */
    CO_RT_COUNT
} co_reqtype;

typedef enum co_satisfaction {
    CO_SAT_NONE = 0, CO_SAT_SATISFIED, CO_SAT_BASIC, CO_SAT_UNSATISFIED, CO_SAT_COUNT
} co_satisfaction;

typedef enum co_close_type {
    CO_CLOSE_NONE = 0, CO_CLOSE_NORMAL, CO_CLOSE_OVERDUE, CO_CLOSE_SPECIAL, CO_CLOSE_COUNT
} co_close_type;

/* Case flags (bit mask). */
enum {
    CO_CF_VERIFIED = 1 << 0,        /* 核实属实 (or reported by an inspector) */
    CO_CF_VERIFY_FALSE = 1 << 1,    /* 核实不属实 */
    CO_CF_EXT_PENDING = 1 << 2,     /* an extension request waits for approval */
    CO_CF_SUSP_PENDING = 1 << 3,    /* a suspension request waits for approval */
    CO_CF_HANDLED_LATE = 1 << 4,    /* handled after the disposal deadline */
    CO_CF_EVER_OVERDUE = 1 << 5,
    CO_CF_VISITED = 1 << 6,         /* return visit done */
    CO_CF_CONTACTED = 1 << 7,       /* the visit reached the caller (响应) */
    CO_CF_RESOLVED = 1 << 8,        /* the caller says it is solved (解决) */
    CO_CF_MISDISPATCH = 1 << 9,     /* dispatched to a second, different department */
    CO_CF_EXTENDED = 1 << 10,       /* an extension was approved */
    CO_CF_SUSPENDED_ONCE = 1 << 11, /* was suspended at some point */
    CO_CF_SENT_BACK = 1 << 12,      /* a department sent it back at least once */
    CO_CF_REOPENED = 1 << 13,
    CO_CF_DIRECT = 1 << 14,         /* answered directly at intake (直接答复) */
    CO_CF_VERIFY_LATE = 1 << 15,
    CO_CF_CHECK_LATE = 1 << 16,
    CO_CF_FILE_LATE = 1 << 17,
    CO_CF_DISPATCH_LATE = 1 << 18,
    /* the state a merged case had before the merge (unmerge restores it);
     * neither bit: registered */
    CO_CF_PREMERGE_VERIFYING = 1 << 19,
    CO_CF_PREMERGE_FILED = 1 << 20,
};

#define CO_NUMBER_MAX 16
#define CO_CODE_MAX 16
#define CO_TEXT_MAX 2048
#define CO_NAME_MAX 64
#define CO_PHONE_MAX 24
#define CO_PHOTOS_MAX 8
#define CO_HASH_HEX 65

/* A category: kind (1 component 部件, 2 event 事件) and the 4-digit subclass
 * code, packed as kind*10000 + code; 0 = not yet classified. Text form
 * "C0101" / "E0102". */
typedef uint16_t co_category;
#define CO_CATEGORY_NONE 0

typedef struct co_case {
    int64_t id;
    char number[CO_NUMBER_MAX];       /* 2026112500123 */
    int64_t created, updated;
    co_channel channel;
    co_reqtype reqtype;
    co_severity severity;
    co_category category;
    int32_t tax_version;              /* taxonomy/rules version filed under */
    co_state state;
    uint32_t flags;
    double lon, lat;                  /* WGS84; NaN when no point */
    char grid[CO_CODE_MAX], community[CO_CODE_MAX], street[CO_CODE_MAX], district[CO_CODE_MAX];
    char address[256];
    char description[CO_TEXT_MAX];
    char caller_name[CO_NAME_MAX];
    char caller_phone[CO_PHONE_MAX];
    char reporter[CO_NAME_MAX];       /* username of the user who registered it, or "" */
    char dept[CO_CODE_MAX * 2];       /* department in charge now */
    char routed_dept[CO_CODE_MAX * 2];/* the routing rules' suggestion */
    char first_dept[CO_CODE_MAX * 2]; /* first department dispatched to */
    char merged_into[CO_NUMBER_MAX];
    int64_t step_started;             /* when the current step began */
    int64_t step_due;                 /* deadline of the current step, 0 = none */
    int64_t dispatched_at;            /* first dispatch (disposal clock start) */
    int64_t disposal_due;             /* disposal deadline, 0 before dispatch */
    int64_t disposal_left;            /* working seconds left, kept while suspended */
    int64_t handled_at, closed_at;
    int16_t rework;                   /* 返工 count */
    int16_t dispatches;               /* dispatch count */
    int16_t extensions;
    co_close_type close_type;
    co_satisfaction satisfaction;
    uint8_t nphotos;
    char photos[CO_PHOTOS_MAX][CO_HASH_HEX];
    int64_t last_seq;                 /* sequence of the last applied event */
} co_case;

/* An event: one committed change of one case. data holds the action's
 * parameters (note, photos, dept, limits, ...), owned by the event. */
typedef struct co_event {
    int64_t seq;                      /* global, assigned by the store */
    int64_t case_id;
    int64_t ts;
    char actor[CO_NAME_MAX];          /* username ("" for anonymous channels) */
    char role[16];
    char action[24];
    co_state from, to;
    json_t *data;
    char *data_text;                  /* when set: data already serialised (owned) */
} co_event;

void co_event_clear(co_event *e);

/* The finest area code a case knows: grid, else community, street, district
 * ("" when none). Points into c. */
const char *co_case_finest_area(const co_case *c);
/* Sets district/street/community/grid from the finest area code (their
 * prefixes of 6/9/12/15 characters); the store keeps only that code. */
void co_case_set_areas(co_case *c, const char *finest);

const char *co_state_name(co_state s);      /* "registered", ... */
const char *co_state_name_zh(co_state s);   /* "待立案", ... */
co_err co_state_parse(const char *s, co_state *out) CO_MUST_CHECK;
int co_state_is_open(co_state s);           /* not closed/voided/merged */
const char *co_channel_name(co_channel c);
const char *co_channel_name_zh(co_channel c);
co_err co_channel_parse(const char *s, co_channel *out) CO_MUST_CHECK;
const char *co_severity_name(co_severity s);
const char *co_severity_name_zh(co_severity s);
co_err co_severity_parse(const char *s, co_severity *out) CO_MUST_CHECK;
const char *co_reqtype_name(co_reqtype t);
const char *co_reqtype_name_zh(co_reqtype t);
co_err co_reqtype_parse(const char *s, co_reqtype *out) CO_MUST_CHECK;
const char *co_satisfaction_name(co_satisfaction s);
co_err co_satisfaction_parse(const char *s, co_satisfaction *out) CO_MUST_CHECK;
const char *co_close_type_name(co_close_type t);
co_err co_close_type_parse(const char *s, co_close_type *out) CO_MUST_CHECK;

/* "C0101" / "E0102" <-> packed category. */
co_err co_category_parse(const char *s, co_category *out) CO_MUST_CHECK;
void co_category_format(co_category c, char out[8]);
int co_category_kind(co_category c);        /* 1 component, 2 event, 0 none */
int co_category_code(co_category c);        /* 101 for "0101" */

/* True for a well-formed case number: 13–15 digits (date + sequence). */
int co_case_number_valid(const char *s);

/* Phone masked for display: 13812341234 -> 138****1234. */
void co_phone_mask(const char *phone, char out[CO_PHONE_MAX]);

#endif
