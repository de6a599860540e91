/*
 * config.h: the one libev configuration of this module.
 *
 * Included before ev.c (by libev.c) and before ev.h (by cev.h, which every
 * cgo preamble of the package includes). EV_MULTIPLICITY, EV_COMMON,
 * EV_MINPRI/EV_MAXPRI and EV_FEATURES change function signatures and watcher
 * layouts: two units that disagree would corrupt memory silently, so no
 * other file of the module defines an EV_ macro.
 */
#ifndef CEV_CONFIG_H
#define CEV_CONFIG_H

#include <stdint.h>

/* Configure by hand: no autoconf config.h. */
#define EV_STANDALONE 1
/* Loops come from ev_loop_new, one per hub; every call takes the loop. */
#define EV_MULTIPLICITY 1
/* Backend: epoll only. No io_uring and no linuxaio (not needed, and newer
 * kernel interfaces than the module requires); select and
 * poll are never needed on Linux. */
#define EV_USE_EPOLL 1
#define EV_USE_POLL 0
#define EV_USE_SELECT 0
#define EV_USE_KQUEUE 0
#define EV_USE_PORT 0
#define EV_USE_LINUXAIO 0
#define EV_USE_IOURING 0
#define EV_USE_INOTIFY 0

/* ev_async wake-ups go through one eventfd per loop. */
#define EV_USE_EVENTFD 1
/* The Go runtime owns every signal handler: libev's handlers lack
 * SA_ONSTACK and its SIGCHLD reaper steals os/exec's children. */
#define EV_SIGNAL_ENABLE 0
#define EV_CHILD_ENABLE 0
#define EV_USE_SIGNALFD 0
/* timerfd only serves periodic watchers, which are off. */
#define EV_USE_TIMERFD 0

/* Clocks: clock_gettime through the vDSO, not the raw syscall. */
#define EV_USE_MONOTONIC 1
#define EV_USE_REALTIME 0
#define EV_USE_CLOCK_SYSCALL 0
#define EV_USE_NANOSLEEP 1

/* Watcher types coro does not use are compiled out. */
#define EV_PERIODIC_ENABLE 0
#define EV_STAT_ENABLE 0
#define EV_IDLE_ENABLE 0
#define EV_PREPARE_ENABLE 0
#define EV_CHECK_ENABLE 0
#define EV_FORK_ENABLE 0
#define EV_CLEANUP_ENABLE 0
#define EV_EMBED_ENABLE 0
#define EV_WALK_ENABLE 0
#define EV_ASYNC_ENABLE 1

/* One priority: the hub orders work itself (FIFO run queue). */
#define EV_MINPRI 0
#define EV_MAXPRI 0

/* libev prints nothing; errors come back through our wrappers. */
#define EV_AVOID_STDIO 1

/* Every watcher carries, besides data (the go-pointer token), the slot of
 * its Go object in the loop's table and a generation that changes on every
 * stop: a recorded event whose generation is stale is dropped (see
 * cev_record in libev.c and Loop.Run). */
#define EV_COMMON void *data; uint32_t cev_slot; uint32_t cev_gen;

#endif
