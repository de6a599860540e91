//go:build cev_keeplibev

// Package libev holds the C sources of libev 4.33, vendored unmodified from
// Debian's source package (see README.md and SHA256SUMS beside this file).
//
// It is documentation only: package cev compiles these sources into itself
// by including ev.c from its own C file. cev imports this package blank
// under the cev_keeplibev build tag, which only `go mod vendor` considers,
// so that a module that vendors this one keeps the directory (otherwise
// `go mod vendor` drops directories that hold no imported package). Do not
// build with -tags cev_keeplibev: the Go tool refuses C files in a package
// that does not use cgo.
package libev
