/* errpage.h — JSON instead of libevent's own HTML error pages.
 *
 * evhttp (libevent 2.1, Debian 12) answers some requests itself, before the
 * application sees them: 400 for a request that is not HTTP (bad request
 * line or version, headers over the limit, a broken chunked body), 413 for a
 * body over the server's cap, 501 for an unknown method. Those replies are a
 * fixed HTML page, and 2.1 has no hook for them (evhttp_set_errorcb came with
 * 2.2). This module watches a connection's output buffer and, when such a
 * page has just been queued, replaces it — before a byte of it is sent — by
 * the API's JSON error ({"error":{"code","message"}}, zh-CN / English) with
 * the same status and the same other headers (Date, Connection: close).
 *
 * Only a reply whose status line, Content-Type (text/html) and body all match
 * libevent's page is touched; everything else passes as it is. The check on
 * an ordinary write: an add of 80–512 bytes to at most 64 KiB queued has its
 * last 15 bytes compared; any other add costs two comparisons.
 *
 * Ownership: nothing is allocated per connection; the callback lives as long
 * as the bufferevent. Used on the thread of the connection's event loop. */
#ifndef CO_HTTP_ERRPAGE_H
#define CO_HTTP_ERRPAGE_H

#include <event2/bufferevent.h>

/* Watches bev's output buffer (call once, right after creating it). */
void co_errpage_attach(struct bufferevent *bev);

#endif
