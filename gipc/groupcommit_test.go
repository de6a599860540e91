package gipc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

func TestConcurrentPutsShareWrites(t *testing.T) {
	const putters, each = 10, 200
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		var g coro.Group
		for id := range putters {
			g.Go(ctx, func(ctx context.Context) error {
				for seq := range each {
					m := make([]byte, 1000)
					binary.BigEndian.PutUint32(m, uint32(id))
					binary.BigEndian.PutUint32(m[4:], uint32(seq))
					if err := w.Put(ctx, m); err != nil {
						return err
					}
				}
				return nil
			})
		}
		next := make([]uint32, putters)
		for i := range putters * each {
			if i%100 == 0 { // a slow reader: the pipe fills and Puts queue up
				if err := coro.Sleep(ctx, time.Millisecond); err != nil {
					return err
				}
			}
			m, err := r.Get(ctx)
			if err != nil {
				return err
			}
			id, seq := binary.BigEndian.Uint32(m), binary.BigEndian.Uint32(m[4:])
			if seq != next[id] {
				return fmt.Errorf("putter %d: message %d, want %d", id, seq, next[id])
			}
			next[id]++
		}
		if err := g.Wait(ctx); err != nil {
			return err
		}
		s := w.Stats()
		assert.Equal(t, uint64(putters*each), s.Messages)
		assert.Less(t, s.Syscalls, s.Messages, "queued Puts share writes: %+v", s)
		return nil
	})
}

func TestQueuedPutTimeoutSendsNothing(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		big := coro.Spawn(ctx, func(ctx context.Context) error { return w.Put(ctx, make([]byte, 4<<20)) })
		if err := coro.Yield(ctx); err != nil { // the big Put leads and waits for room
			return err
		}
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err := w.Put(tctx, []byte("never sent"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, gipc.ErrBroken)
		m, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.Len(t, m, 4<<20)
		if err := big.Join(ctx); err != nil {
			return err
		}
		assert.NoError(t, w.Put(ctx, []byte("next")))
		m, err = r.Get(ctx)
		assert.Equal(t, "next", string(m), "the timed-out message was never sent")
		return err
	})
}
