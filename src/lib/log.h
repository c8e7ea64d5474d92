/* log.h — one-line structured logging to stderr.
 * Lines are "ts=... level=... msg=..." followed by caller-supplied key=value
 * pairs. Thread-safe (one write(2) per line). Nothing to free. */
#ifndef CO_LOG_H
#define CO_LOG_H

typedef enum co_log_level { CO_LOG_DEBUG, CO_LOG_INFO, CO_LOG_WARN, CO_LOG_ERROR } co_log_level;

void co_log_set_level(co_log_level lvl);
void co_log(co_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define co_log_info(...) co_log(CO_LOG_INFO, __VA_ARGS__)
#define co_log_warn(...) co_log(CO_LOG_WARN, __VA_ARGS__)
#define co_log_error(...) co_log(CO_LOG_ERROR, __VA_ARGS__)

#endif
