/* evaluation.h — 综合评价 over any period: regions (district / street /
 * community), departments, posts (监督员, 受理员, 值班长, 派遣员) and the 12345
 * 三率, with the GB/T 30428.4-style indicators, configurable weights, a
 * 0–100 score, grades A–E and a deterministic ranking. docs/evaluation.md
 * defines every counter and indicator in terms of case fields and flags,
 * the default weights and their sources.
 *
 * Population: the cases created in [from, to) ("cohort" of the period);
 * `now` decides which open cases are already overdue.
 *
 * Ownership: co_eval_run fills a caller-owned result whose rows it
 * allocates (co_eval_result_free). co_eval_to_table returns a new table. */
#ifndef CO_EVALUATION_H
#define CO_EVALUATION_H

#include <stddef.h>
#include <stdint.h>

#include "domain/role.h"
#include "lib/err.h"
#include "projection/projection.h"
#include "projection/table.h"

typedef enum co_eval_type {
    CO_EVAL_REGION = 0, /* 区域评价 */
    CO_EVAL_DEPT,       /* 专业部门评价 */
    CO_EVAL_POST,       /* 岗位评价 */
    CO_EVAL_HOTLINE,    /* 12345 三率 */
    CO_EVAL_TYPE_COUNT
} co_eval_type;

/* Counters per evaluated object (a region, department or user). */
typedef enum co_eval_counter {
    CO_EC_CASES = 0,       /* 案件数 (region/department/hotline) */
    CO_EC_REPORTED,        /* 监督员上报数 */
    CO_EC_REPORTED_VALID,  /* 有效上报数 (立案) */
    CO_EC_FILED,           /* 立案数 */
    CO_EC_FILED_ONTIME,    /* 按时立案数 */
    CO_EC_FILED_VOID,      /* 立案后作废/合并数 */
    CO_EC_VERIFY,          /* 应核实数 */
    CO_EC_VERIFY_ONTIME,   /* 按时核实数 */
    CO_EC_CHECK,           /* 应核查数 */
    CO_EC_CHECK_ONTIME,    /* 按时核查数 */
    CO_EC_DISPATCH,        /* 应派遣数 */
    CO_EC_DISPATCH_ONTIME, /* 按时派遣数 */
    CO_EC_MISDISPATCH,     /* 错派数 */
    CO_EC_HANDLED,         /* 处置数 */
    CO_EC_HANDLED_ONTIME,  /* 按期处置数 */
    CO_EC_OVERDUE_OPEN,    /* 超期未处置数 */
    CO_EC_TO_HANDLE,       /* 应处置数 = 处置数 + 超期未处置数 */
    CO_EC_CLOSED,          /* 结案数 */
    CO_EC_CLOSED_ONTIME,   /* 按期结案数 */
    CO_EC_TO_CLOSE,        /* 应结案数 = 结案数 + 应结未结数 */
    CO_EC_REWORK,          /* 返工数 */
    CO_EC_LATE,            /* 超期数 */
    CO_EC_EXTENDED,        /* 延期数 */
    CO_EC_VISITED,         /* 有效回访数 */
    CO_EC_CONTACTED,       /* 联系数 */
    CO_EC_RESOLVED,        /* 解决数 */
    CO_EC_SATISFIED,       /* 满意数 */
    CO_EC_BASIC,           /* 基本满意数 */
    CO_EC_ACCEPTED,        /* 受理数 (受理员) */
    CO_EC_VREQ,            /* 发核实数 */
    CO_EC_VREQ_ONTIME,     /* 按时发核实数 */
    CO_EC_CREQ,            /* 发核查数 */
    CO_EC_CREQ_ONTIME,     /* 按时发核查数 */
    CO_EC_CLOSER,          /* 结案数 (值班长) */
    CO_EC_CLOSER_ONTIME,   /* 按时结案数 (值班长) */
    CO_EC_COUNT
} co_eval_counter;

typedef enum co_eval_indicator {
    CO_EI_VALID_REPORT = 0,  /* 有效上报率 */
    CO_EI_ONTIME_VERIFY,     /* 按时核实率 */
    CO_EI_ONTIME_CHECK,      /* 按时核查率 */
    CO_EI_ONTIME_FILE,       /* 按时立案率 */
    CO_EI_ACCURATE_FILE,     /* 准确立案率 */
    CO_EI_ONTIME_DISPATCH,   /* 按时派遣率 */
    CO_EI_ACCURATE_DISPATCH, /* 准确派遣率 */
    CO_EI_DISPOSAL,          /* 处置率 */
    CO_EI_ONTIME_DISPOSAL,   /* 按期处置率 */
    CO_EI_CLOSURE,           /* 结案率 */
    CO_EI_ONTIME_CLOSURE,    /* 按期结案率 */
    CO_EI_REWORK,            /* 返工率 (lower is better) */
    CO_EI_OVERDUE,           /* 超期率 (lower is better) */
    CO_EI_EXTENSION,         /* 延期率 (lower is better) */
    CO_EI_RESPONSE,          /* 响应率 */
    CO_EI_RESOLUTION,        /* 解决率 */
    CO_EI_SATISFACTION,      /* 满意率 */
    CO_EI_INTAKE_SCORE,      /* 受理数分值 (0–100 band) */
    CO_EI_ONTIME_VREQ,       /* 核实按时派发率 */
    CO_EI_ONTIME_CREQ,       /* 核查按时派发率 */
    CO_EI_ONTIME_CLOSE,      /* 按时结案率 (值班长) */
    CO_EI_COUNT
} co_eval_indicator;

typedef enum co_eval_by {
    CO_EVAL_BY_LEVEL = 0, /* regions at query.level */
    CO_EVAL_BY_DEPT       /* departments (hotline type only) */
} co_eval_by;

typedef struct co_eval_query {
    co_eval_type type;
    co_level level;          /* region / hotline: district, street or community */
    co_eval_by by;           /* hotline: by region level or by department */
    co_role role;            /* post: inspector, operator, shiftlead, dispatcher */
    int64_t from, to;        /* created in [from, to); required (to > from) */
    int64_t now;             /* 0 = current time */
    double weights[CO_EI_COUNT]; /* < 0 = the type's default (co_eval_query_init) */
} co_eval_query;

#define CO_EVAL_KEY_MAX 64
#define CO_EVAL_LABEL_MAX 128

typedef struct co_eval_row {
    char key[CO_EVAL_KEY_MAX];      /* area code, department code or username */
    char label[CO_EVAL_LABEL_MAX];
    uint32_t c[CO_EC_COUNT];
    double value[CO_EI_COUNT];      /* rate 0..1 (score 0..100 for the band); NaN if undefined */
    double score;                   /* 0..100, NaN when no weighted indicator is defined */
    char grade;                     /* 'A'..'E', or 0 when no score */
    int rank;                       /* 1-based, equal scores share a rank; 0 when no score */
} co_eval_row;

typedef struct co_eval_result {
    co_eval_type type;
    co_eval_by by;
    co_level level;
    co_role role;
    int64_t from, to, now;
    double weights[CO_EI_COUNT];    /* effective weights */
    co_eval_row *rows;              /* sorted by rank (unscored last), then key */
    size_t nrows;
    double took_ms;
} co_eval_result;

/* Sets every weight to "default" and the rest to zero values. */
void co_eval_query_init(co_eval_query *q, co_eval_type type);
/* Runs q. CO_EINVAL for a bad type/level/role, a missing or empty period,
 * or a weight set on an indicator the type does not show. */
co_err co_eval_run(co_projection *p, const co_eval_query *q, co_eval_result *out) CO_MUST_CHECK;
void co_eval_result_free(co_eval_result *r);

/* The default weight of indicator i for a type (and role for posts); 0 when
 * the indicator is shown but not weighted; -1 when the type does not show it. */
double co_eval_default_weight(co_eval_type type, co_role role, co_eval_indicator i);
char co_eval_grade(double score);  /* A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below; 0 for NaN */

/* Table: rank, key, label, the type's counters and indicators, score, grade. */
co_err co_eval_to_table(const co_eval_result *r, co_table **out) CO_MUST_CHECK;
/* {"code":{"zh","en","weight","polarity"}} for the indicators shown. */
json_t *co_eval_indicators_json(const co_eval_result *r);

co_err co_eval_type_parse(const char *s, co_eval_type *out) CO_MUST_CHECK;
const char *co_eval_type_name(co_eval_type t);
co_err co_eval_indicator_parse(const char *s, co_eval_indicator *out) CO_MUST_CHECK;
const char *co_eval_indicator_name(co_eval_indicator i);
/* "code:weight,code:weight" (weights 0..1000) into q->weights. */
co_err co_eval_weights_parse(const char *s, co_eval_query *q) CO_MUST_CHECK;

#endif
