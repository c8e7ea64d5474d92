/* err.h — the project's one error code type.
 * Every fallible function returns co_err (CO_OK == 0) and hands results back
 * through pointer parameters. co_err_str() returns a static string; nothing to free. */
#ifndef CO_ERR_H
#define CO_ERR_H

typedef enum co_err {
    CO_OK = 0,
    CO_ENOMEM,     /* allocation failed (only from co_try* paths) */
    CO_EINVAL,     /* bad argument or malformed input */
    CO_ENOTFOUND,  /* no such object */
    CO_EEXIST,     /* already exists / duplicate */
    CO_ECONFLICT,  /* state does not allow the operation */
    CO_ETOOBIG,    /* a hard limit was hit */
    CO_EPERM,      /* not allowed */
    CO_EIO,        /* file or socket error */
    CO_EDB,        /* storage back-end error */
    CO_EGEOM,      /* geometry library error or invalid geometry */
    CO_EINTERNAL,  /* a bug: an invariant did not hold */
    CO_ENOTSUP     /* the back-end or build does not offer this */
} co_err;

#define CO_MUST_CHECK __attribute__((warn_unused_result))

const char *co_err_str(co_err rc);

#endif
