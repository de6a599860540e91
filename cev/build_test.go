package cev_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// moduleRoot returns the absolute directory of this module (gipc.dev).
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	gomod := strings.TrimSpace(string(out))
	require.True(t, filepath.IsAbs(gomod), "go env GOMOD: %q", gomod)
	return filepath.Dir(gomod)
}

// goCmd runs the go command in dir with env added to the environment and
// returns its combined output and error.
func goCmd(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestVendoredUserModuleBuilds builds and tests testdata/usermod, a module
// that requires this one, first from the module cache and then after
// `go mod vendor`. libev/ holds no Go package that an ordinary build
// imports, and `go mod vendor` keeps only the directories of imported
// packages (Go issue 26366): keeplibev.go imports it under a build tag that
// only vendoring considers. Without that file this test fails.
//
// Every module comes from the local module cache (GOPROXY=off): the same
// modules that this module's own tests need.
func TestVendoredUserModuleBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module twice, compiling libev again for the vendored copy")
	}
	root := moduleRoot(t)
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/usermod")))
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	gomod = append(gomod, []byte("\nreplace gipc.dev => "+root+"\n")...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644))
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), gosum, 0o644))

	env := []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off"}
	run := func(args ...string) string {
		t.Helper()
		out, err := goCmd(t, dir, env, args...)
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return out
	}

	run("test", "-count=1", "./...")
	run("mod", "vendor")
	require.FileExists(t, filepath.Join(dir, "vendor", "gipc.dev", "libev", "ev.c"),
		"go mod vendor dropped libev/: is cev/keeplibev.go there?")
	run("test", "-count=1", "-mod=vendor", "./...")
	run("build", "-mod=vendor", "-o", "usermod", ".")

	out, err := exec.Command(filepath.Join(dir, "usermod")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "timer fired on epoll (libev 4.33)\n", string(out))
}

// TestBuildWithoutCgoSaysCgoIsRequired checks that a build without cgo
// stops with nocgo.go's message instead of an obscure error.
func TestBuildWithoutCgoSaysCgoIsRequired(t *testing.T) {
	out, err := goCmd(t, moduleRoot(t), []string{"CGO_ENABLED=0"}, "build", "gipc.dev/cev")
	require.Error(t, err, "a build without cgo succeeded:\n%s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Contains(t, out, "cev requires cgo")
}
