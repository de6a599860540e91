//go:build !cgo

package cev

// Without cgo this file is all that is left of the package, and the build
// stops here with a message that says what to do.
var _ int = "cev requires cgo: build with CGO_ENABLED=1 and a C compiler (Debian: apt-get install gcc)"
