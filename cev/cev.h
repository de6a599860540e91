/*
 * cev.h: the C side of package cev, seen by every cgo preamble.
 *
 * Go calls only the cev_* functions below (defined in libev.c, the one unit
 * that compiles libev). Each does all the C work of one Go method, so a Go
 * call costs one cgo crossing.
 */
#ifndef CEV_H
#define CEV_H

#include "config.h"
#include "../libev/ev.h"

/* One fired watcher, recorded by cev_record during ev_run. */
typedef struct cev_event {
	uint32_t slot;
	uint32_t gen;
	int32_t revents;
} cev_event;

/* A loop and its array of recorded events. */
typedef struct cev_loop {
	struct ev_loop *ev;
	cev_event *events;
	uint32_t n;   /* events recorded by the last cev_run */
	uint32_t cap;
} cev_loop;

cev_loop *cev_loop_new(unsigned int flags);
void cev_loop_destroy(cev_loop *l);
int cev_run(cev_loop *l, int flags);
double cev_now(cev_loop *l);
double cev_now_update(cev_loop *l);
unsigned int cev_backend(cev_loop *l);
unsigned int cev_iteration(cev_loop *l);
unsigned int cev_pending_count(cev_loop *l);
void cev_ref(cev_loop *l);
void cev_unref(cev_loop *l);

/* Watchers: calloc'ed C memory, freed by cev_watcher_free. */
ev_io *cev_io_new(void *data, uint32_t slot, uint32_t gen);
ev_timer *cev_timer_new(void *data, uint32_t slot, uint32_t gen);
ev_async *cev_async_new(void *data, uint32_t slot, uint32_t gen);
void cev_watcher_free(void *w);

void cev_io_start(cev_loop *l, ev_io *w, int fd, int events, uint32_t gen);
void cev_io_stop(cev_loop *l, ev_io *w, uint32_t gen);
void cev_timer_start(cev_loop *l, ev_timer *w, double after, double repeat, uint32_t gen);
void cev_timer_again(cev_loop *l, ev_timer *w, double repeat, uint32_t gen);
void cev_timer_stop(cev_loop *l, ev_timer *w, uint32_t gen);
double cev_timer_remaining(cev_loop *l, ev_timer *w);
void cev_async_start(cev_loop *l, ev_async *w, uint32_t gen);
void cev_async_stop(cev_loop *l, ev_async *w, uint32_t gen);
void cev_async_send(cev_loop *l, ev_async *w);

#endif
