package coro

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gipc.dev/cev"
)

const (
	hubNew int32 = iota
	hubRunning
	hubEnded
)

// pollEvery bounds how many coroutine switches run between two polls of
// the loop while coroutines keep being ready, so that busy coroutines do
// not starve I/O and timers, and a poll is not paid on every switch.
const pollEvery = 256

// Hub runs coroutines on a libev loop, like gevent's hub: exactly one
// coroutine of a hub runs at a time; when it reaches a wait point, the hub
// runs the next ready coroutine, or polls the loop when none is ready.
//
// Run, Call, Close and Stats may be called from any goroutine; everything
// else that touches a hub (Spawn, the wait points, the sync primitives)
// belongs to the hub's own coroutines.
type Hub struct {
	loop  *cev.Loop
	async *cev.Async // wakes the loop for posted tasks

	state atomic.Int32

	// Posted tasks: the only way other goroutines reach the hub.
	mu        sync.Mutex
	posted    []task
	spare     []task
	hasPosted atomic.Bool
	sleeping  atomic.Bool // the hub is (about to be) blocked polling

	// Owned by the goroutine in Run.
	readyHead, readyTail *Coroutine
	current              *Coroutine
	main                 *Coroutine
	liveHead, liveTail   *Coroutine
	live                 int
	inflight             int // wake-ups promised by other goroutines
	shutdown             bool
	closedEarly          bool // Close ended Run before main returned
	sincePoll            int
	spin                 time.Duration
	nswitch              uint64 // published to switches at every poll
	nextID               uint64
	timers               []*hubTimer
	idle                 []*worker // runtime coroutines kept for reuse
	monitor              *monitor
	atEnd                []func() // run when the hub ends (signal delivery)

	busy     atomic.Bool // a coroutine of the hub is running
	runDone  chan struct{}
	nlive    atomic.Int64
	switches atomic.Uint64 // lags nswitch by less than a round
	polls    atomic.Uint64
	posts    atomic.Uint64
	watchers atomic.Int64
	events   atomic.Uint64
}

// task is work posted to the hub from another goroutine.
type task struct {
	run   func(h *Hub)
	abort func() // when the hub ends before running it; may be nil
}

// Stats is a snapshot of a hub's counters.
type Stats struct {
	Coroutines     int    // live coroutines, main included
	Switches       uint64 // resumptions of coroutines
	LoopIterations uint64 // polls of the libev loop
	Posts          uint64 // tasks posted from other goroutines (Call, Offload, ...)
	Watchers       int    // open libev watchers (as of the last poll)
	Events         uint64 // watcher events delivered by the loop
}

// NewHub creates a hub and its libev loop. Run it with Run, or use the
// package-level Run.
func NewHub() (*Hub, error) {
	loop, err := cev.NewLoop()
	if err != nil {
		return nil, err
	}
	h := &Hub{loop: loop, runDone: make(chan struct{}), spin: DefaultSpin}
	h.async = loop.NewAsync(func(cev.Events) {})
	h.async.Start()
	// The async watcher alone must not keep the loop alive, or a main that
	// waits on nothing would hang instead of getting ErrDeadlock: a
	// wake-up promised by another goroutine takes a reference instead
	// (addInflight).
	loop.Unref()
	return h, nil
}

// Run creates a hub, runs main on it as its first coroutine and closes it.
// It returns main's error.
func Run(main func(ctx context.Context) error) error {
	h, err := NewHub()
	if err != nil {
		return err
	}
	defer h.Close()
	return h.Run(main)
}

// Run runs main as the hub's first coroutine, and every coroutine it
// spawns, on the calling goroutine. When main returns, the coroutines still
// alive are killed in the order they were spawned and awaited; then the
// loop is closed and Run returns main's error. Close from another
// goroutine ends Run early: every coroutine is killed and awaited, and Run
// returns ErrHubClosed (unless main had returned already). A hub runs once:
// a second Run, or Run after Close, returns ErrHubClosed.
//
// A panic in a coroutine propagates out of Run, after the loop is closed,
// as a panic in a goroutine would crash the program.
func (h *Hub) Run(main func(ctx context.Context) error) error {
	if main == nil {
		panic("coro: Run of a nil func")
	}
	if !h.state.CompareAndSwap(hubNew, hubRunning) {
		return ErrHubClosed
	}
	defer h.finish()
	if h.monitor != nil {
		h.monitor.start()
	}
	h.main = h.spawn(context.Background(), main)
	h.schedule()
	if h.closedEarly {
		return ErrHubClosed
	}
	return h.main.err
}

// Close closes the hub. Before Run, it frees the loop and Run will return
// ErrHubClosed. During Run, it kills every coroutine and, when called from
// another goroutine, waits until Run has returned. Afterwards Call returns
// ErrHubClosed. Close is idempotent and returns nil.
func (h *Hub) Close() error {
	if h.state.CompareAndSwap(hubNew, hubEnded) {
		h.abortPosted()
		h.loop.Close()
		close(h.runDone)
		return nil
	}
	ok := h.post(task{run: func(h *Hub) {
		if !h.shutdown {
			h.closedEarly = h.main.state != stDone
			h.beginShutdown()
		}
	}})
	if !ok || h.busy.Load() {
		// Ended already, or called by a coroutine of this hub, which
		// cannot wait for the hub it runs on.
		return nil
	}
	<-h.runDone
	return nil
}

// Stats returns the hub's counters. It is safe from any goroutine.
func (h *Hub) Stats() Stats {
	return Stats{
		Coroutines:     int(h.nlive.Load()),
		Switches:       h.switches.Load(),
		LoopIterations: h.polls.Load(),
		Posts:          h.posts.Load(),
		Watchers:       int(h.watchers.Load()),
		Events:         h.events.Load(),
	}
}

// post queues t for the hub's goroutine and wakes the hub if it is blocked
// polling. It reports false, and does nothing, once the hub has ended.
func (h *Hub) post(t task) bool {
	h.mu.Lock()
	if h.state.Load() == hubEnded {
		h.mu.Unlock()
		return false
	}
	h.posted = append(h.posted, t)
	h.hasPosted.Store(true)
	h.mu.Unlock()
	h.posts.Add(1)
	// The hub sets sleeping before its last look at hasPosted, and we set
	// hasPosted before looking at sleeping: one of us sees the other.
	if h.sleeping.Load() && h.sleeping.CompareAndSwap(true, false) {
		h.async.Send()
	}
	return true
}

func (h *Hub) runPosted() {
	h.mu.Lock()
	tasks := h.posted
	h.posted = h.spare[:0]
	h.hasPosted.Store(false)
	h.mu.Unlock()
	for i := range tasks {
		tasks[i].run(h)
		tasks[i] = task{}
	}
	h.spare = tasks[:0]
}

// finish ends the hub: no more posts, pending ones aborted, loop closed.
func (h *Hub) finish() {
	h.state.Store(hubEnded)
	h.abortPosted()
	if h.monitor != nil {
		h.monitor.stop()
	}
	for _, f := range h.atEnd {
		f()
	}
	h.atEnd = nil
	h.timers = nil
	h.stopWorkers()
	h.switches.Store(h.nswitch)
	h.loop.Close()
	close(h.runDone)
}

// abortPosted aborts the tasks still queued once the hub has ended: post
// checks the state under mu, so no task can be queued after this.
func (h *Hub) abortPosted() {
	h.mu.Lock()
	tasks := h.posted
	h.posted = nil
	h.mu.Unlock()
	for _, t := range tasks {
		if t.abort != nil {
			t.abort()
		}
	}
}

func (h *Hub) ended() bool { return h.state.Load() == hubEnded }

// schedule is the hub's main loop.
func (h *Hub) schedule() {
	for {
		if h.hasPosted.Load() {
			h.runPosted()
		}
		if h.main.state == stDone && !h.shutdown {
			h.beginShutdown()
		}
		if h.live == 0 {
			return
		}
		if h.readyHead != nil {
			h.runRound()
			if h.readyHead != nil && h.sincePoll >= pollEvery {
				h.poll(cev.NoWait)
			}
			continue
		}
		if h.spin > 0 && h.spinPoll() {
			continue
		}
		h.sleeping.Store(true)
		if h.hasPosted.Load() {
			h.sleeping.Store(false)
			continue
		}
		active := h.block()
		h.sleeping.Store(false)
		if !active && h.readyHead == nil && !h.hasPosted.Load() && h.inflight == 0 {
			h.deadlock()
		}
	}
}

// spinPoll polls without blocking for up to h.spin before the hub blocks
// in epoll_wait, and reports whether that found work. Waking a thread that
// blocks in epoll_wait costs 5-13 µs at the median (with a long tail) on
// the machines this was measured on; a peer that answers within the spin
// is seen in about a microsecond instead, for the CPU of the spin. Posts
// from other goroutines are seen too, without an eventfd write, since the
// hub is not marked sleeping while it spins.
func (h *Hub) spinPoll() bool {
	start := time.Now()
	for {
		if !h.poll(cev.NoWait) && h.inflight == 0 {
			return h.readyHead != nil // nothing could wake us: block (or deadlock)
		}
		if h.readyHead != nil || h.hasPosted.Load() {
			return true
		}
		if time.Since(start) >= h.spin {
			return false
		}
	}
}

// SetSpin sets how long an idle hub keeps polling (EVRUN_NOWAIT) before it
// blocks in epoll_wait: a lever for latency, at the price of the CPU the
// spin burns each time the hub runs out of work. 0 turns it off; the
// default is DefaultSpin. Call it before Run, or from the hub's coroutines.
func (h *Hub) SetSpin(d time.Duration) {
	h.spin = max(d, 0)
}

// DefaultSpin is the spin of a new hub (see Hub.SetSpin).
const DefaultSpin = 20 * time.Microsecond

// block waits in epoll_wait (ev_run with EVRUN_ONCE) until the loop has
// something to do, runs it, and reports whether the loop has active
// watchers.
//
// Measured alternative: parking the hub goroutine in Go's netpoller on
// libev's epoll fd (then EVRUN_NOWAIT) instead of blocking a thread in a
// cgo call. It kept threads free, but a cross-process ping-pong got slower
// (median 37 µs against 29 µs a round trip, same run): the extra poll per
// wake-up costs more than the thread hand-off it saves.
func (h *Hub) block() bool {
	return h.poll(cev.Once)
}

func (h *Hub) poll(mode cev.RunMode) bool {
	h.sincePoll = 0
	h.switches.Store(h.nswitch)
	h.polls.Add(1)
	active := h.loop.Run(mode)
	h.watchers.Store(int64(h.loop.Watchers()))
	h.events.Store(h.loop.Delivered())
	return active
}

// runRound resumes the coroutines that are ready now, in FIFO order; those
// made ready meanwhile wait for the next round, so that Yield lets every
// other ready coroutine run once.
func (h *Hub) runRound() {
	c := h.readyHead
	h.readyHead, h.readyTail = nil, nil
	for c != nil {
		next := c.qnext
		c.qnext = nil
		if c.state == stReady {
			h.resume(c)
		}
		c = next
	}
}

func (h *Hub) resume(c *Coroutine) {
	c.state = stRunning
	c.started = true
	h.current = c
	h.busy.Store(true)
	h.sincePoll++
	h.nswitch++
	if h.monitor != nil {
		h.monitor.enter(c)
	}
	w := c.w
	w.next()
	if h.monitor != nil {
		h.monitor.leave()
	}
	h.busy.Store(false)
	h.current = nil
	if w.ended {
		h.done(c)
	}
}

func (h *Hub) pushReady(c *Coroutine) {
	c.state = stReady
	if h.readyTail != nil {
		h.readyTail.qnext = c
	} else {
		h.readyHead = c
	}
	h.readyTail = c
}

// wake makes a parked coroutine ready; its wait returns err. Waking a
// coroutine that is not parked does nothing, except that a kill overrides
// the result of a wake that has not run yet (Kill is strict).
func (h *Hub) wake(c *Coroutine, err error) {
	switch c.state {
	case stParked:
		c.wakeErr = err
		h.pushReady(c)
	case stReady:
		if err == ErrKilled {
			c.wakeErr = err
		}
	}
}

// wakeIfCtxDone wakes c if it is parked and the ctx of its wait is done.
func (h *Hub) wakeIfCtxDone(c *Coroutine) {
	if c.state == stParked && c.waitCtx != nil {
		if err := c.waitCtx.Err(); err != nil {
			h.wake(c, err)
		}
	}
}

// addInflight counts wake-ups that other goroutines promised (an Offload
// running, a deadline of a foreign ctx, an open signal queue): while there
// are some, the loop holds a reference and a blocking poll waits for them
// instead of reporting a deadlock.
func (h *Hub) addInflight(n int) {
	before := h.inflight
	h.inflight += n
	switch {
	case before == 0 && h.inflight > 0:
		h.loop.Ref()
	case before > 0 && h.inflight == 0:
		h.loop.Unref()
	}
}

func (h *Hub) spawn(parent context.Context, fn func(ctx context.Context) error) *Coroutine {
	h.nextID++
	c := &Coroutine{hub: h, fn: fn, id: h.nextID}
	c.wt.c, c.dl.c = c, c
	c.kid.owner = c
	dl, hasDL := parent.Deadline()
	c.v = view{parent: parent, n: c, deadline: dl, hasDL: hasDL}
	c.cc.Context, c.cancel = context.WithCancelCause(&c.v)
	c.cc.c = c
	c.ctx = &c.cc
	c.stopAfter = link(h, c, parent)
	c.w = h.getWorker()
	c.w.c = c
	if h.liveTail != nil {
		h.liveTail.liveNext = c
		c.livePrev = h.liveTail
	} else {
		h.liveHead = c
	}
	h.liveTail = c
	h.live++
	h.nlive.Add(1)
	h.pushReady(c)
	if err := parent.Err(); err != nil {
		c.cascade(context.Cause(parent))
	}
	if h.shutdown {
		h.kill(c)
	}
	return c
}

// done retires a coroutine whose fn returned (or that was killed before it
// started).
func (h *Hub) done(c *Coroutine) {
	c.state = stDone
	if c.livePrev != nil {
		c.livePrev.liveNext = c.liveNext
	} else {
		h.liveHead = c.liveNext
	}
	if c.liveNext != nil {
		c.liveNext.livePrev = c.livePrev
	} else {
		h.liveTail = c.livePrev
	}
	c.livePrev, c.liveNext = nil, nil
	h.live--
	h.nlive.Add(-1)
	c.kid.unlink()
	c.kids.detach()
	if c.stopAfter != nil {
		c.stopAfter()
		c.stopAfter = nil
	}
	for w := c.joiners.pop(); w != nil; w = c.joiners.pop() {
		h.wake(w.c, nil)
	}
	if c.onDone != nil {
		c.onDone(c.err)
	}
	for _, fn := range c.doneFns {
		fn(c.err)
	}
	if c.w != nil {
		h.putWorker(c.w)
	}
	c.fn, c.w, c.yield, c.onDone, c.doneFns = nil, nil, nil, nil, nil
}

func (h *Hub) kill(c *Coroutine) {
	if c.state == stDone || c.killed {
		return
	}
	c.killed = true
	c.cancel(ErrKilled)
	c.cancelled = true
	if !c.started {
		c.err = ErrKilled
		h.done(c)
		return
	}
	h.wake(c, ErrKilled)
	c.kids.cascade(ErrKilled)
}

// beginShutdown kills every live coroutine, in spawn order.
func (h *Hub) beginShutdown() {
	h.shutdown = true
	for c := h.liveHead; c != nil; {
		next := c.liveNext
		h.kill(c)
		c = next
	}
}

// deadlock: nothing is ready, no watcher is active and no other goroutine
// promised a wake-up. gevent raises LoopExit in the main greenlet; we wake
// main with ErrDeadlock.
func (h *Hub) deadlock() {
	// A ctx that is not ours, cancelled by a coroutine, wakes its waiter
	// through a goroutine (context.AfterFunc) that may not have posted
	// yet: the wait is over, not deadlocked.
	woke := false
	for c := h.liveHead; c != nil; c = c.liveNext {
		if c.state == stParked && c.waitCtx != nil && c.waitCtx.Err() != nil {
			h.wake(c, c.waitCtx.Err())
			woke = true
		}
	}
	if woke {
		return
	}
	m := h.main
	if m.state == stParked {
		h.wake(m, fmt.Errorf("%w: main waits in %s and nothing can wake it", ErrDeadlock, m.what))
		return
	}
	// main is done and the others are killed: a killed coroutine never
	// parks, so this cannot happen.
	panic(errors.New("coro: internal error: no coroutine can run and main is not waiting"))
}
