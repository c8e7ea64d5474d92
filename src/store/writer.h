/* writer.h — the single writer with group commit.
 * HTTP worker threads hand write commands (register a case, take an action
 * on a case) to one writer thread. The writer takes every queued command,
 * decides each against the workflow, appends the events and case rows in ONE
 * transaction, commits (one fsync for the whole batch: synchronous=FULL, so a
 * commit survives power loss), tells the `committed` hook about each change
 * (projection, live feed) and only then completes each command by calling
 * its `done` callback on the writer thread. A 201 is therefore a promise that
 * the case is on disk.
 * Ownership: a command is owned by its submitter; the writer borrows it from
 * submit until done() is called, and never frees it. */
#ifndef CO_STORE_WRITER_H
#define CO_STORE_WRITER_H

#include <pthread.h>
#include <stdint.h>

#include "domain/case.h"
#include "domain/workflow.h"
#include "store/store.h"

typedef enum co_write_kind { CO_WRITE_REGISTER = 1, CO_WRITE_ACTION } co_write_kind;

typedef struct co_write_cmd co_write_cmd;
typedef void (*co_write_done)(co_write_cmd *cmd);

struct co_write_cmd {
    /* input */
    co_write_kind kind;
    co_case draft;            /* REGISTER: the new case (from co_writer_prepare_register) */
    co_event ev;              /* REGISTER: its register event, data pre-serialised; the
                               * writer borrows it and puts it back before `done`, so the
                               * submitting thread frees it (co_writer_cmd_clear) */
    char *doc;                /* REGISTER: the case's JSON document (owned) */
    const void *hint;         /* REGISTER: for the committed hook (e.g. the duplicate
                               * index's signature, computed already); not owned: the
                               * submitter keeps it alive until done */
    char *extra;              /* REGISTER: the prepare hook's text (owned) */
    int64_t case_id;          /* ACTION: which case */
    char action[24];
    json_t *params;           /* ACTION parameters (owned by the submitter) */
    char username[64];
    co_role role;
    char dept[32];
    char scope[16];
    int64_t now;              /* 0 = the writer's clock */
    /* output (valid in done()) */
    co_err rc;
    char err[CO_WF_ERR_MAX];
    co_case result;           /* the case after the change */
    int64_t seq;              /* the event's sequence number */
    /* completion */
    co_write_done done;
    void *arg;
    co_write_cmd *next;       /* writer's queue link */
};

typedef struct co_writer_hooks {
    const co_wf_env *env;
    /* Called on the writer thread after the commit, once per change, in
     * sequence order, with the command's hint (NULL but for registrations
     * that set one). May be NULL. */
    void (*committed)(void *arg, const co_case *c, const co_event *ev, const void *hint);
    void *arg;
    /* Optional: builds a text for a new case on the submitting thread
     * (e.g. the live feed's message, so the writer does not format it) ... */
    char *(*prepare)(void *arg, const co_case *c);
    /* ... and hands it over after the commit, on the writer thread. */
    void (*announce)(void *arg, const co_case *c, const char *text);
} co_writer_hooks;

typedef struct co_writer co_writer;

co_err co_writer_start(co_store *st, const co_writer_hooks *hooks, co_writer **out) CO_MUST_CHECK;
/* Drains the queue, then stops the thread. */
void co_writer_stop(co_writer *w);
/* Waits until every queued command has been committed and completed. */
void co_writer_drain(co_writer *w);
/* Queues a command; done() will be called exactly once. */
void co_writer_submit(co_writer *w, co_write_cmd *cmd);
/* Prepares a REGISTER command on the calling thread (any thread): reserves
 * the case id and number, builds the register event and serialises the case,
 * so the writer only has to append and commit. draft holds the validated
 * intake; who registers it. On error nothing is reserved but a number may
 * be skipped. co_writer_cmd_clear() frees what this allocated. */
co_err co_writer_prepare_register(co_writer *w, const co_case *draft, const co_wf_actor *who,
                                  int64_t now, co_write_cmd *cmd) CO_MUST_CHECK;
void co_writer_cmd_clear(co_write_cmd *cmd);

/* Submits and waits for completion (for the CLI and tests). */
co_err co_writer_run(co_writer *w, co_write_cmd *cmd) CO_MUST_CHECK;

typedef struct co_writer_stats {
    uint64_t commits, commands, max_batch;
    uint64_t queued; /* commands waiting now */
    /* wall time the writer spent, summed over its batches: running the
     * commands inside the transaction, committing it (the log write and
     * flush), and afterwards (the committed hooks and completions) */
    double execute_s, commit_s, after_s;
} co_writer_stats;
void co_writer_get_stats(co_writer *w, co_writer_stats *out);

/* Formats a case number: YYYYMMDD (Asia/Shanghai) + the daily sequence in at
 * least 5 digits (a day's 100,000th case gets 6: 14-digit numbers). */
#define CO_CASE_SEQ_MAX 9999999
void co_case_number_format(int64_t t, int64_t seq, char out[CO_NUMBER_MAX]);

#endif
