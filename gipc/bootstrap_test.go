package gipc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBootstrapRoundTrip(t *testing.T) {
	in := bootstrap{Target: "worker", Args: []byte{1, 2, 3}, NFDs: 3, Daemon: true, ParentPid: 4242, Name: "worker-1"}
	var out bootstrap
	require.NoError(t, out.unmarshal(in.marshal()))
	require.Equal(t, in, out)
}

func TestBootstrapMalformedIsAnError(t *testing.T) {
	good := (&bootstrap{Target: "t", Args: []byte("args"), Name: "n"}).marshal()
	for i := range good {
		var b bootstrap
		require.Error(t, b.unmarshal(good[:i]), "truncated at %d", i)
	}
}

func FuzzBootstrapUnmarshal(f *testing.F) {
	f.Add((&bootstrap{Target: "t", Args: []byte("a"), NFDs: 1, Name: "n"}).marshal())
	f.Fuzz(func(t *testing.T, p []byte) {
		var b bootstrap
		if b.unmarshal(p) == nil {
			var again bootstrap
			require.NoError(t, again.unmarshal(b.marshal()))
			require.Equal(t, b, again)
		}
	})
}
