package cev

import "unsafe"

// unsafePointer turns a C watcher pointer into the untyped form the shared
// watcher code keeps.
func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
