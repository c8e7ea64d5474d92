/* role.c — role names (see role.h). */
#include "domain/role.h"

#include <string.h>

static const struct {
    const char *name;
    const char *zh;
} roles[CO_ROLE_COUNT] = {
    [CO_ROLE_ADMIN] = {"admin", "管理员"},
    [CO_ROLE_OPERATOR] = {"operator", "受理员"},
    [CO_ROLE_INSPECTOR] = {"inspector", "监督员"},
    [CO_ROLE_SHIFTLEAD] = {"shiftlead", "值班长"},
    [CO_ROLE_DISPATCHER] = {"dispatcher", "派遣员"},
    [CO_ROLE_HANDLER] = {"handler", "处置人员"},
    [CO_ROLE_LEADER] = {"leader", "领导"},
};

const char *co_role_name(co_role r)
{
    return (unsigned)r < CO_ROLE_COUNT ? roles[r].name : "?";
}

const char *co_role_name_zh(co_role r)
{
    return (unsigned)r < CO_ROLE_COUNT ? roles[r].zh : "?";
}

co_err co_role_parse(const char *s, co_role *out)
{
    for (int i = 0; s && i < CO_ROLE_COUNT; i++)
        if (!strcmp(s, roles[i].name)) {
            *out = (co_role)i;
            return CO_OK;
        }
    return CO_EINVAL;
}
