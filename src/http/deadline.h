/* deadline.h — the per-request deadline of the HTTP server (issue #8, slow
 * clients). evhttp's timeout restarts with every byte read, so a client that
 * trickles its request one byte at a time just inside it holds a connection
 * for ever. Here the whole request — request line, headers and body — must
 * arrive within a limit, counted from the accept (first request) or from the
 * end of the previous reply (keep-alive). When it runs out the client gets a
 * 408 JSON reply (best effort) and the connection is closed. The clock stops
 * when the request is handed to the application, so long replies such as the
 * SSE live feed are never cut, by this deadline or by evhttp's idle timeout.
 *
 * One co_deadlines per worker loop, used only on that loop's thread. It owns
 * one small guard per connection that is reading a request. A guard holds
 * the connection's close callback while the request is read, and only then:
 * handlers may set their own close callback after dispatch (api/live.c,
 * co_req_defer) but must clear it before their reply completes, because the
 * guard of the next request takes it back. A guard is freed when its request
 * is dispatched, when the connection closes, when the deadline fires, or by
 * co_deadlines_free. */
#ifndef CO_HTTP_DEADLINE_H
#define CO_HTTP_DEADLINE_H

#include <event2/event.h>
#include <event2/http.h>

typedef struct co_deadlines co_deadlines;

/* request_s: the deadline, 0 = none. idle_s: evhttp's timeout (the one given
 * to evhttp_set_timeout), 0 = none. The result belongs to the caller
 * (co_deadlines_free). */
co_deadlines *co_deadlines_new(struct event_base *base, int request_s, int idle_s);
/* Watches every connection http accepts from now on (sets its bufferevent
 * callback): a guard when there is a deadline, and always the JSON error
 * pages of http/errpage.h. */
void co_deadlines_attach(co_deadlines *ds, struct evhttp *http);
/* From the server's request callback, before the handler runs: stops the
 * clock of req and starts the next request's once req's reply is sent.
 * Also lifts evhttp's read timeout while the reply is sent (the client has
 * nothing to send then; evhttp would otherwise cut any reply that takes
 * longer than the idle timeout, such as the live feed) and puts it back for
 * the next request; the write timeout stays. */
void co_deadlines_dispatched(co_deadlines *ds, struct evhttp_request *req);
/* Also caps what is read from the client while the reply is written (evhttp
 * keeps reading then, to notice a close, and nothing drains it): at this many
 * bytes reading pauses until the reply is complete. */
#define CO_DEADLINE_REPLY_INPUT_MAX (64 * 1024)
/* Call after evhttp_free (which closes the connections and so frees their
 * guards) and before the event base is freed. NULL is fine. */
void co_deadlines_free(co_deadlines *ds);

#endif
