/*
 * workers.h - the event loops besides the owner's (server.h): one thread
 * and one event_base each, for bulk transfers whose every decision about
 * node state was taken on the owner loop. A loop talks to another only
 * through its mailbox: a job (a function and its argument) posted to a
 * loop runs there, in posting order, so each object has one thread at a
 * time and hand-offs are ordered by the mailbox's mutex.
 *
 * Lifecycle: nb_workers_start (a struct nb_service start, after the
 * services that hand work to workers) makes the loops; nb_workers_run
 * (main.c, after the privilege drop, so that the threads inherit Landlock
 * and seccomp) starts their threads; nb_workers_stop (the service's stop,
 * so before those services stop) ends and joins the threads and runs the
 * jobs still in every mailbox on the calling thread; the bases are freed
 * last, by nb_workers_free (after every service stopped).
 */
#ifndef MB_NB_WORKERS_H
#define MB_NB_WORKERS_H

#include "server.h"

#include <stdbool.h>

#define NB_WORKERS_MAX 64 /* netboot.yaml workers: and --workers */

typedef void (*nb_job_fn)(void *arg);

/* A job in caller-owned storage (nb_post_job): posting it cannot fail. */
struct nb_job {
	struct nb_job *next;
	nb_job_fn fn;
	void *arg;
	bool owned; /* allocated by nb_post: freed after it ran */
};

/*
 * Service start: nb->nworkers loops (0: none; everything stays on the
 * owner loop) and the owner's mailbox. 0 or -ENOMEM.
 */
int nb_workers_start(struct netboot *nb);

/* Start the threads. 0, or a negative errno (logged). */
int nb_workers_run(struct netboot *nb);

/* Service stop: end and join the threads, run what is left in mailboxes. */
void nb_workers_stop(struct netboot *nb);

/* Free the loops (after every service stopped). NULL-safe. */
void nb_workers_free(struct netboot *nb);

/* The base of worker i (< nb->nworkers), and its counters. */
struct event_base *nb_worker_base(const struct netboot *nb, unsigned i);
struct nb_counters *nb_worker_counters(const struct netboot *nb, unsigned i);

/*
 * Post fn(arg) to worker to, or to the owner loop when to is
 * NB_OWNER. Any thread. 0, or -ENOMEM (nothing posted).
 */
#define NB_OWNER (-1)
int nb_post(struct netboot *nb, int to, nb_job_fn fn, void *arg);

/*
 * Post job (fn and arg set by the caller, storage borrowed until fn runs;
 * fn may free it) to loop to. Any thread; cannot fail.
 */
void nb_post_job(struct netboot *nb, int to, struct nb_job *job);

/*
 * Every loop (the owner's and each worker's) has NB_PRIO_COUNT priorities.
 * Events get NB_PRIO_DEFAULT (libevent gives new events the middle one):
 * DHCP, TFTP, HTTP requests, timers, mailboxes. An HTTP connection while
 * it sends a file body (sendfile) is at NB_PRIO_BULK: it runs only in a
 * turn where nothing else is ready, and at most NB_BULK_BURST of its
 * callbacks (each writes at most 1 MiB: http_io.c) run before the loop
 * polls again. Without this, a turn that
 * writes hundreds of megabytes of kernels delays every TFTP round trip
 * and DHCP answer behind it (docs/netboot.md, "Multi-core"). Bulk yields
 * to the rest and could starve only while the rest keeps a core busy.
 */
#define NB_PRIO_COUNT	3
#define NB_PRIO_DEFAULT 1
#define NB_PRIO_BULK	2
#define NB_BULK_BURST	16

/*
 * The same between threads: a worker thread runs NB_WORKER_NICE nice
 * levels below the process while it sends HTTP bodies, so that where the
 * cores are short (a storm on a small server, other services beside it)
 * the owner loop's DHCP answers, TFTP requests and HTTP routing get the
 * CPU before bulk bytes; with none it is back at the process's nice. On
 * the 2-core bench the 1,000-machine storm took 30.5 s with workers at
 * the process's nice and 19.5-20.6 s at +10 (docs/netboot.md).
 */
#define NB_WORKER_NICE 10

/*
 * On worker i's thread: a body starts (start) or ends there. The first
 * lowers the thread's priority, the last restores it. Does nothing on
 * another thread (jobs run at stop).
 */
void nb_worker_bulk(struct netboot *nb, int i, bool start);

/* A loop with those priorities. NULL on failure. */
struct event_base *nb_loop_new(void);

/* The workers a default of 0 in netboot.yaml means: online CPUs. */
unsigned nb_workers_auto(void);

#endif
