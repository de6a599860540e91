package gipc_test

import (
	"fmt"
	"strings"

	"gipc.dev/gipc"
)

// Every gob message carries its type definitions, like a pickle: any one
// of them decodes on its own, in any order, by any reader.
func ExampleGob() {
	type job struct {
		ID   int
		Args []string
	}
	codec := gipc.Gob[job]()

	first, _ := codec.Append(nil, job{ID: 1, Args: []string{"a"}})
	second, _ := codec.Append(nil, job{ID: 2, Args: []string{"b", "c"}})

	for _, msg := range [][]byte{second, first} {
		j, err := codec.Decode(msg)
		fmt.Println(j.ID, j.Args, err)
	}
	// Output:
	// 2 [b c] <nil>
	// 1 [a] <nil>
}

// The raw codec sends bytes as they are. Decode returns a copy, so the
// result stays valid after the pipe reuses its buffer.
func ExampleRaw() {
	codec := gipc.Raw()
	payload, _ := codec.Append(nil, []byte("hello"))
	msg, _ := codec.Decode(payload)
	payload[0] = 'J'
	fmt.Printf("%s %s\n", payload, msg)
	// Output: Jello hello
}

// linesCodec sends a []string as lines of text. It is registered at package
// initialisation, so that a pipe using it can be handed to a child process,
// which runs the same initialisation.
type linesCodec struct{}

func (linesCodec) Name() string { return "lines" }

func (linesCodec) Append(dst []byte, v []string) ([]byte, error) {
	for _, s := range v {
		if strings.Contains(s, "\n") {
			return dst, fmt.Errorf("lines: %q holds a newline", s)
		}
		dst = append(dst, s...)
		dst = append(dst, '\n')
	}
	return dst, nil
}

func (linesCodec) Decode(data []byte) ([]string, error) {
	s := string(data) // a copy: data is only valid during the call
	if s == "" {
		return nil, nil
	}
	if !strings.HasSuffix(s, "\n") {
		return nil, fmt.Errorf("lines: message does not end with a newline")
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n"), nil
}

func init() { gipc.RegisterCodec[[]string](linesCodec{}) }

func ExampleRegisterCodec() {
	var codec gipc.Codec[[]string] = linesCodec{}
	payload, _ := codec.Append(nil, []string{"one", "two"})
	fmt.Printf("%q\n", payload)
	lines, _ := codec.Decode(payload)
	fmt.Println(lines)
	_, err := codec.Append(nil, []string{"bad\nline"})
	fmt.Println(err)
	// Output:
	// "one\ntwo\n"
	// [one two]
	// lines: "bad\nline" holds a newline
}
