package gipc

import (
	"fmt"
	"reflect"
)

// Option configures a pipe made by [Pipe] or [DuplexPipe].
type Option func(*options)

type options struct {
	codec any // a Codec[T] of the pipe's T, checked by Pipe
	max   int
	err   error
}

func buildOptions(opts []Option) options {
	o := options{max: DefaultMaxMessageSize}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithCodec makes the pipe encode its messages with c instead of the
// default [Gob]. The codec's type must be the pipe's: a Codec[U] given to a
// Pipe[T] makes Pipe return an error. Both ends use the codec, and it
// travels with a handle sent to a child process (by its Name).
func WithCodec[T any](c Codec[T]) Option {
	return func(o *options) {
		if c == nil {
			o.err = fmt.Errorf("gipc: WithCodec(nil)")
			return
		}
		o.codec = c
	}
}

// WithMaxMessageSize sets the largest message (payload bytes, the 4-byte
// header not counted) that the pipe's ends accept, in 1..2^31-1; the
// default is [DefaultMaxMessageSize] (1 GiB). A message of exactly n bytes
// passes. Put of a larger one sends nothing and returns
// [ErrMessageTooLarge]; Get of a header that claims more allocates nothing
// and returns ErrMessageTooLarge. The limit travels with a handle sent to a
// child process.
func WithMaxMessageSize(n int) Option {
	return func(o *options) {
		if err := checkMaxMessageSize(n); err != nil {
			o.err = err
			return
		}
		o.max = n
	}
}

// codecFor returns the pipe's codec for T, or an error if the option gave
// a codec of another type.
func codecFor[T any](o options) (Codec[T], error) {
	if o.err != nil {
		return nil, o.err
	}
	if o.codec == nil {
		return Gob[T](), nil
	}
	c, ok := o.codec.(Codec[T])
	if !ok {
		return nil, fmt.Errorf("gipc: codec %T does not encode the pipe's type %v", o.codec, reflect.TypeFor[T]())
	}
	return c, nil
}
