// Package quietlocale keeps Fyne from logging a locale error at start-up
// under the C locale with an encoding ("C.UTF-8", the default of many
// containers and CI machines). Fyne's lang package reads LC_ALL,
// LC_MESSAGES or LANG in its init and logs "Error parsing user locale C:
// language: tag is not well-formed" for "C.UTF-8", on every run of every
// command, since the binary links Fyne. This package rewrites such a value
// to plain "C" (the same locale), which Fyne takes quietly as English.
//
// It must be initialized before fyne.io/fyne/v2/lang: Go initializes
// packages in import-path order among those whose imports are done, and
// this package (importing only os and strings) sorts before
// golang.org/x/text, which the lang package needs first. The app imports
// it for that effect; TestQuietCLI in package app checks the binary.
package quietlocale

import (
	"os"
	"strings"
)

func init() { Fix() }

// Fix rewrites the first set of LC_ALL, LC_MESSAGES and LANG (the one the
// locale comes from) to "C" when it names the C or POSIX locale with an
// encoding or modifier ("C.UTF-8", "POSIX.utf8@x").
func Fix() {
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(env)
		if v == "" {
			continue
		}
		base, _, _ := strings.Cut(v, ".")
		base, _, _ = strings.Cut(base, "@")
		if (base == "C" || base == "POSIX") && v != base {
			os.Setenv(env, "C")
		}
		return
	}
}
