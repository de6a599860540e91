package gipc

import (
	"encoding/binary"
	"errors"
)

// bootstrap is what the parent sends a child over fd 3. It is encoded by
// hand, not with gob: a child decodes exactly one, and compiling a gob
// decoder for it cost a measurable part of a child's start.
type bootstrap struct {
	Target    string
	Args      []byte // gob
	NFDs      int    // handle fds, from firstHandleFd on
	Daemon    bool
	ParentPid int
	Name      string
}

func (b *bootstrap) marshal() []byte {
	out := make([]byte, 0, 64+len(b.Target)+len(b.Name)+len(b.Args))
	out = binary.AppendUvarint(out, uint64(b.NFDs))
	out = binary.AppendUvarint(out, uint64(b.ParentPid))
	daemon := byte(0)
	if b.Daemon {
		daemon = 1
	}
	out = append(out, daemon)
	for _, s := range [][]byte{[]byte(b.Target), []byte(b.Name), b.Args} {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

var errBadBootstrap = errors.New("malformed bootstrap")

func (b *bootstrap) unmarshal(p []byte) error {
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errBadBootstrap
		}
		p = p[n:]
		return v, nil
	}
	bytes := func() ([]byte, error) {
		n, err := uvarint()
		if err != nil || n > uint64(len(p)) {
			return nil, errBadBootstrap
		}
		s := p[:n]
		p = p[n:]
		return s, nil
	}
	nfds, err := uvarint()
	if err != nil || nfds > 1<<16 {
		return errBadBootstrap
	}
	ppid, err := uvarint()
	if err != nil || ppid > 1<<31 {
		return errBadBootstrap
	}
	if len(p) < 1 {
		return errBadBootstrap
	}
	b.NFDs, b.ParentPid, b.Daemon = int(nfds), int(ppid), p[0] == 1
	p = p[1:]
	target, err := bytes()
	if err != nil {
		return err
	}
	name, err := bytes()
	if err != nil {
		return err
	}
	args, err := bytes()
	if err != nil {
		return err
	}
	b.Target, b.Name, b.Args = string(target), string(name), args
	return nil
}
