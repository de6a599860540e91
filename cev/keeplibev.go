//go:build cev_keeplibev

package cev

// libev/ is compiled through an #include from libev.c, so no Go package
// needs it to build. But `go mod vendor` copies only the directories of
// packages in the import graph (Go issue 26366), and a user who vendors
// this module would lose libev/ and fail to build. This blank import puts
// libev in the graph for `go mod vendor`, which considers every build tag.
// The tag keeps it out of ordinary builds: libev/ holds C files that the Go
// tool refuses to build as part of a package without cgo.
import _ "gipc.dev/libev"
