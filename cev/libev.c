/*
 * libev.c: libev compiled as one unit with this module's configuration,
 * plus the cev_* wrappers that Go calls.
 *
 * The callback of every watcher is cev_record: it only appends
 * (slot, generation, revents) to the loop's event array. Go reads the array
 * after ev_run has returned, so no Go code ever runs inside ev_run and no
 * coroutine is ever switched from a C frame.
 */
#include <stdlib.h>

#include "config.h"
/* Only the cev_* wrappers below are visible outside this unit, so libev's
 * ev_* symbols cannot clash with a system libev that another package links.
 * This changes linkage only, never a layout, so the cgo preambles (which
 * see plain extern declarations they never call) still agree with it. */
#define EV_API_STATIC 1
#include "../libev/ev.c"
#include "cev.h"

static void
cev_record (EV_P_ ev_watcher *w, int revents)
{
  cev_loop *l = (cev_loop *)ev_userdata (EV_A);

  if (ecb_expect_false (l->n == l->cap))
    {
      uint32_t cap = l->cap * 2;
      cev_event *events = realloc (l->events, cap * sizeof (cev_event));

      if (!events)
        abort (); /* a callback cannot fail; libev itself aborts on ENOMEM */

      l->events = events;
      l->cap = cap;
    }

  l->events[l->n].slot = w->cev_slot;
  l->events[l->n].gen = w->cev_gen;
  l->events[l->n].revents = revents;
  l->n++;
}

cev_loop *
cev_loop_new (unsigned int flags)
{
  cev_loop *l = calloc (1, sizeof (cev_loop));

  if (!l)
    return 0;

  l->cap = 64;
  l->events = malloc (l->cap * sizeof (cev_event));
  l->ev = ev_loop_new (flags);

  if (!l->events || !l->ev)
    {
      if (l->ev)
        ev_loop_destroy (l->ev);
      free (l->events);
      free (l);
      return 0;
    }

  ev_set_userdata (l->ev, l);
  return l;
}

void
cev_loop_destroy (cev_loop *l)
{
  ev_loop_destroy (l->ev);
  free (l->events);
  free (l);
}

int
cev_run (cev_loop *l, int flags)
{
  l->n = 0;
  return ev_run (l->ev, flags);
}

double cev_now (cev_loop *l) { return ev_now (l->ev); }
double cev_now_update (cev_loop *l) { ev_now_update (l->ev); return ev_now (l->ev); }
unsigned int cev_backend (cev_loop *l) { return ev_backend (l->ev); }
unsigned int cev_iteration (cev_loop *l) { return ev_iteration (l->ev); }
unsigned int cev_pending_count (cev_loop *l) { return ev_pending_count (l->ev); }
void cev_ref (cev_loop *l) { ev_ref (l->ev); }
void cev_unref (cev_loop *l) { ev_unref (l->ev); }

static void *
cev_watcher_new (size_t size, void *data, uint32_t slot, uint32_t gen)
{
  ev_watcher *w = calloc (1, size);

  if (!w)
    return 0;

  ev_init (w, cev_record);
  w->data = data;
  w->cev_slot = slot;
  w->cev_gen = gen;
  return w;
}

ev_io *cev_io_new (void *data, uint32_t slot, uint32_t gen) { return cev_watcher_new (sizeof (ev_io), data, slot, gen); }
ev_timer *cev_timer_new (void *data, uint32_t slot, uint32_t gen) { return cev_watcher_new (sizeof (ev_timer), data, slot, gen); }
ev_async *cev_async_new (void *data, uint32_t slot, uint32_t gen) { return cev_watcher_new (sizeof (ev_async), data, slot, gen); }
void cev_watcher_free (void *w) { free (w); }

void
cev_io_start (cev_loop *l, ev_io *w, int fd, int events, uint32_t gen)
{
  if (ev_is_active (w))
    {
      if (w->fd == fd && (w->events & (EV_READ | EV_WRITE)) == events)
        return; /* already armed as asked: keep it, and its pending event */
      ev_io_stop (l->ev, w);
    }

  w->cev_gen = gen;
  ev_io_set (w, fd, events);
  ev_io_start (l->ev, w);
}

void
cev_io_stop (cev_loop *l, ev_io *w, uint32_t gen)
{
  ev_io_stop (l->ev, w);
  w->cev_gen = gen;
}

void
cev_timer_start (cev_loop *l, ev_timer *w, double after, double repeat, uint32_t gen)
{
  ev_timer_stop (l->ev, w);
  w->cev_gen = gen;
  ev_timer_set (w, after, repeat);
  ev_timer_start (l->ev, w);
}

void
cev_timer_again (cev_loop *l, ev_timer *w, double repeat, uint32_t gen)
{
  w->cev_gen = gen;
  w->repeat = repeat;
  ev_timer_again (l->ev, w);
}

void
cev_timer_stop (cev_loop *l, ev_timer *w, uint32_t gen)
{
  ev_timer_stop (l->ev, w);
  w->cev_gen = gen;
}

double cev_timer_remaining (cev_loop *l, ev_timer *w) { return ev_timer_remaining (l->ev, w); }

void
cev_async_start (cev_loop *l, ev_async *w, uint32_t gen)
{
  if (ev_is_active (w))
    return;
  w->cev_gen = gen;
  ev_async_start (l->ev, w);
}

void
cev_async_stop (cev_loop *l, ev_async *w, uint32_t gen)
{
  ev_async_stop (l->ev, w);
  w->cev_gen = gen;
}

void cev_async_send (cev_loop *l, ev_async *w) { ev_async_send (l->ev, w); }
