package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"gipc.dev/examples/internal/children"
	"gipc.dev/gipc"
)

func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

func TestRawAndGobPipesCarryTheMessageIntact(t *testing.T) {
	for _, mib := range []int{1, 4} {
		t.Run(fmt.Sprintf("mib=%d", mib), func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run([]string{"-mib", fmt.Sprint(mib), "-seed", "7"}, &out))
			children.Check(t)

			// The checksum printed is that of the seeded bytes, computed
			// here independently of the example.
			data := make([]byte, mib<<20)
			rand.NewChaCha8(seedBytes(7)).Read(data)
			want := fmt.Sprintf("data: %d MiB, sha256 %x\n", mib, sha256.Sum256(data))
			require.Regexp(t, regexp.MustCompile("^"+regexp.QuoteMeta(want)+
				fmt.Sprintf(`raw pipe: %d MiB in \d+\.\d{3} s, \d+\.\d MiB/s, checksum ok
gob pipe: %d MiB in \d+\.\d{3} s, \d+\.\d MiB/s, checksum ok
$`, mib, mib)), out.String())
		})
	}
}

func TestSizeOutOfRange(t *testing.T) {
	require.Error(t, run([]string{"-mib", "0"}, &bytes.Buffer{}))
	require.Error(t, run([]string{"-mib", "4096"}, &bytes.Buffer{}))
}
