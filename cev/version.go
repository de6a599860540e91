package cev

// LibevVersion is the version of the vendored libev in ../libev.
//
// Go's build cache does not see changes to files #included from outside the
// package: bump this constant with every update of libev/ so that the
// package is rebuilt.
const LibevVersion = "4.33"
