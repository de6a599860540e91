package cev

// The cgo flags of the package, in one place. config.h holds libev's
// configuration; the flags here only choose how C is compiled.

// #cgo CFLAGS: -O2 -DNDEBUG -fno-strict-aliasing -Wno-unused-value -Wno-comment -Wno-unused-function -Wno-unused-variable
import "C"
