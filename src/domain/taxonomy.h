/* taxonomy.h — the case taxonomy: 部件 (components) and 事件 (events) in two
 * levels (大类 class / 小类 subclass) with 立案/结案 conditions, responsible
 * department type and time limits per severity; 12345 request types; the
 * three severities (一般/紧急/特急). File format: docs/taxonomy.md.
 *
 * Ownership: a co_taxonomy is immutable once loaded, so any number of threads
 * may read it without locks. It is reference-counted: the loader hands the
 * caller one reference, co_taxonomy_ref() adds one, co_taxonomy_free() drops
 * one and frees everything when the last goes. Every struct and string reached
 * through a taxonomy lives exactly as long as the taxonomy; never free them.
 * Functions that take a const co_taxonomy * never modify shared state.
 *
 * Versioning: each taxonomy carries the integer "version" of its document.
 * Editing = serialise (co_taxonomy_to_json), change, reload with a higher
 * version; old versions stay loadable so a case keeps the rules it was filed
 * under. Storing the versions is the store's job, not this module's. */
#ifndef CO_TAXONOMY_H
#define CO_TAXONOMY_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"

#define CO_TAXONOMY_CODE_MAX 8      /* longest class or subclass code (digits) */
#define CO_TAXONOMY_CLASS_CODE_MAX 6
#define CO_TAXONOMY_LIMIT_MAX 3660  /* largest value; every limit is also a valid co_calendar_limit */
/* Nominal working day used only to order limits ("1wd" vs "8wh"); real
 * deadlines come from the calendar module's working-time arithmetic. */
#define CO_TAXONOMY_WD_MINUTES 420  /* 1 wd = 7 wh */

typedef enum co_taxonomy_kind {
    CO_TAXONOMY_COMPONENT = 0, /* 部件 */
    CO_TAXONOMY_EVENT = 1      /* 事件 */
} co_taxonomy_kind;

typedef enum co_taxonomy_sev {
    CO_TAXONOMY_SEV_NORMAL = 0,   /* 一般 */
    CO_TAXONOMY_SEV_URGENT = 1,   /* 紧急 */
    CO_TAXONOMY_SEV_CRITICAL = 2, /* 特急 */
    CO_TAXONOMY_NSEV = 3
} co_taxonomy_sev;

/* A time limit in working time: "30wm" = {30,'m'}, "4wh" = {4,'h'}, "2wd" = {2,'d'}. */
typedef struct co_taxonomy_limit {
    uint16_t value; /* 1 .. CO_TAXONOMY_LIMIT_MAX */
    char unit;      /* 'm' working minutes, 'h' working hours, 'd' working days */
} co_taxonomy_limit;

typedef struct co_taxonomy_class {
    const char *name;    /* Chinese, e.g. 公用设施 */
    const char *name_en;
    uint32_t first;      /* its subclasses are co_taxonomy_subclass_at(first .. first+count-1) */
    uint32_t count;
    uint8_t kind;        /* co_taxonomy_kind */
    char code[CO_TAXONOMY_CODE_MAX + 1]; /* e.g. "01" */
} co_taxonomy_class;

typedef struct co_taxonomy_subclass {
    const char *name;      /* e.g. 上水井盖 */
    const char *name_en;
    const char *filing;    /* 立案条件 */
    const char *closing;   /* 结案条件 */
    const char *dept_type; /* a type code from share/departments.json */
    const char *const *keywords; /* nkeywords strings, for the text classifier */
    const co_taxonomy_class *cls;
    uint16_t nkeywords;
    uint8_t kind;          /* co_taxonomy_kind */
    char code[CO_TAXONOMY_CODE_MAX + 1]; /* e.g. "0101"; starts with cls->code */
    co_taxonomy_limit limits[CO_TAXONOMY_NSEV]; /* indexed by co_taxonomy_sev */
} co_taxonomy_subclass;

typedef struct co_taxonomy_request_type {
    const char *code;    /* consult, help, complaint, report, suggestion, praise */
    const char *name;    /* 咨询 … */
    const char *name_en;
    co_taxonomy_limit limit;
} co_taxonomy_request_type;

typedef struct co_taxonomy_severity {
    const char *name;    /* 一般 / 紧急 / 特急 */
    const char *name_en; /* may be NULL */
    co_taxonomy_sev sev;
} co_taxonomy_severity;

typedef struct co_taxonomy co_taxonomy;

/* Builds a taxonomy from a parsed document (not stolen, not kept). dept_types,
 * when not NULL, is the list dept_type values are checked against: the
 * departments.json document, its "types" array, or an array of code strings.
 * On CO_EINVAL a one-line message naming the offending item is written to err
 * (if err != NULL and errlen > 0). */
co_err co_taxonomy_from_json(const json_t *doc, const json_t *dept_types,
                             co_taxonomy **out, char *err, size_t errlen) CO_MUST_CHECK;
/* Same from a file. CO_EIO if it cannot be read, CO_EINVAL if it is not JSON
 * (message with line:column) or fails validation. */
co_err co_taxonomy_load_file(const char *path, const json_t *dept_types,
                             co_taxonomy **out, char *err, size_t errlen) CO_MUST_CHECK;
co_taxonomy *co_taxonomy_ref(co_taxonomy *t);
void co_taxonomy_free(co_taxonomy *t); /* drops one reference; NULL is a no-op */

/* The document again, in canonical order (classes and subclasses by kind then
 * code). *out is a new reference the caller json_decref()s. */
co_err co_taxonomy_to_json(const co_taxonomy *t, json_t **out) CO_MUST_CHECK;

int64_t co_taxonomy_version(const co_taxonomy *t);

/* Classes and subclasses are listed by kind (components first) then code. */
size_t co_taxonomy_nclasses(const co_taxonomy *t);
const co_taxonomy_class *co_taxonomy_class_at(const co_taxonomy *t, size_t i);
const co_taxonomy_class *co_taxonomy_find_class(const co_taxonomy *t, co_taxonomy_kind kind,
                                                const char *code); /* NULL if none */
size_t co_taxonomy_nsubclasses(const co_taxonomy *t);
const co_taxonomy_subclass *co_taxonomy_subclass_at(const co_taxonomy *t, size_t i);
/* Component and event codes overlap (部件 0101 上水井盖, 事件 0101 私搭乱建),
 * so a subclass is identified by kind + code. O(log n). NULL if none. */
const co_taxonomy_subclass *co_taxonomy_find_subclass(const co_taxonomy *t, co_taxonomy_kind kind,
                                                      const char *code);

/* Request types keep document order. */
size_t co_taxonomy_nrequest_types(const co_taxonomy *t);
const co_taxonomy_request_type *co_taxonomy_request_type_at(const co_taxonomy *t, size_t i);
const co_taxonomy_request_type *co_taxonomy_find_request_type(const co_taxonomy *t,
                                                              const char *code);

const co_taxonomy_severity *co_taxonomy_severity_of(const co_taxonomy *t, co_taxonomy_sev sev);
/* By code ("normal"/"urgent"/"critical"); NULL if unknown. */
const co_taxonomy_severity *co_taxonomy_find_severity(const co_taxonomy *t, const char *code);

/* Codes ↔ enums; the strings are static. */
const char *co_taxonomy_kind_code(co_taxonomy_kind kind); /* "component" / "event" */
co_err co_taxonomy_kind_parse(const char *s, co_taxonomy_kind *out) CO_MUST_CHECK;
const char *co_taxonomy_sev_code(co_taxonomy_sev sev);    /* "normal" / "urgent" / "critical" */
co_err co_taxonomy_sev_parse(const char *s, co_taxonomy_sev *out) CO_MUST_CHECK;

/* "4wh" → {4,'h'}. Digits without a leading zero, then wm, wh or wd. */
co_err co_taxonomy_limit_parse(const char *s, co_taxonomy_limit *out) CO_MUST_CHECK;
/* Writes "4wh" into buf (8 bytes are always enough); returns buf. */
char *co_taxonomy_limit_format(co_taxonomy_limit lim, char *buf, size_t n);
/* Nominal working minutes (1 wd = CO_TAXONOMY_WD_MINUTES), for ordering limits. */
uint32_t co_taxonomy_limit_minutes(co_taxonomy_limit lim);

#endif
