//go:build race

package gipc

// raceEnabled: allocation counts are not checked under the race detector.
const raceEnabled = true
