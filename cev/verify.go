//go:build cev_verify

package cev

// Built with -tags cev_verify, libev checks its own data structures
// (EV_VERIFY) and keeps its assertions, and Loop.Run cross-checks every
// delivered watcher against its go-pointer token.

// #cgo CFLAGS: -UNDEBUG -DEV_VERIFY=3
import "C"

const verify = true
