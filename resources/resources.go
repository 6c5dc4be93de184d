// Package resources embeds the files that ship inside the NPTI Studio
// binary: the built-in probe set (persona descriptions and situational
// questions in the PersonalityBench layout) and the application icon.
package resources

import (
	"embed"
	"io/fs"
)

//go:embed probes/description.json probes/test/*.json probes/README.md
var probes embed.FS

//go:embed icon.png
var icon string

// Probes returns the built-in probe set, rooted so that description.json
// (JSON Lines, one object per line with the ten pole keys Openness, ...,
// Neuroticism_reversed) and test/<Trait>.json (JSON Lines
// {"question": "..."}) are at its top, exactly as in a PersonalityBench
// dataset folder. README.md states its authorship, licence and facet
// coverage.
func Probes() fs.FS {
	sub, err := fs.Sub(probes, "probes")
	if err != nil {
		// Unreachable: "probes" is a valid, embedded directory name.
		return probes
	}
	return sub
}

// Icon returns the application icon, a 512×512 PNG. Each call returns a
// fresh copy that the caller may modify.
func Icon() []byte {
	return []byte(icon)
}
