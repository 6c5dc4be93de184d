//go:build race

package ui

// raceEnabled is true under the race detector, which slows the model
// about tenfold: the flow test then identifies on fewer descriptions.
const raceEnabled = true
