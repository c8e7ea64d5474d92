/* err.c — names for co_err codes (static strings). */
#include "err.h"

const char *co_err_str(co_err rc)
{
    static const char *const names[] = {
        [CO_OK] = "ok",
        [CO_ENOMEM] = "out of memory",
        [CO_EINVAL] = "invalid argument",
        [CO_ENOTFOUND] = "not found",
        [CO_EEXIST] = "already exists",
        [CO_ECONFLICT] = "conflict",
        [CO_ETOOBIG] = "too big",
        [CO_EPERM] = "not permitted",
        [CO_EIO] = "i/o error",
        [CO_EDB] = "storage error",
        [CO_EGEOM] = "geometry error",
        [CO_EINTERNAL] = "internal error",
        [CO_ENOTSUP] = "not supported",
    };
    if ((unsigned)rc >= sizeof names / sizeof names[0] || !names[rc])
        return "unknown error";
    return names[rc];
}
