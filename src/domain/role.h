/* role.h — the roles of the system (岗位) and their names.
 * Roles are small integers; route tables use masks of (1u << role). */
#ifndef CO_DOMAIN_ROLE_H
#define CO_DOMAIN_ROLE_H

#include "lib/err.h"

typedef enum co_role {
    CO_ROLE_ADMIN = 0,   /* 管理员 */
    CO_ROLE_OPERATOR,    /* 受理员 */
    CO_ROLE_INSPECTOR,   /* 监督员 */
    CO_ROLE_SHIFTLEAD,   /* 值班长 */
    CO_ROLE_DISPATCHER,  /* 派遣员 */
    CO_ROLE_HANDLER,     /* 处置人员 (a department's) */
    CO_ROLE_LEADER,      /* 领导 (read-only) */
    CO_ROLE_COUNT
} co_role;

#define CO_R(x) (1u << CO_ROLE_##x)
#define CO_ROLES_ALL ((1u << CO_ROLE_COUNT) - 1)

const char *co_role_name(co_role r);     /* "admin", "operator", ... */
const char *co_role_name_zh(co_role r);  /* "管理员", "受理员", ... */
co_err co_role_parse(const char *s, co_role *out) CO_MUST_CHECK;

#endif
