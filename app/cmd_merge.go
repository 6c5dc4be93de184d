package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/npti-studio/npti/analysis"
)

// runMerge implements `npti merge --out DIR STATS1 STATS2 ...`: it adds the
// statistics of runs of the same model and counting mode (shards of one
// identification, or runs on different data) into one stats folder. It
// refuses a folder given twice, sets that would count items twice (see
// analysis.MergeStats) and an --out that is an input or already holds
// statistics.
func runMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "stats folder to write (required; must not hold statistics)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || fs.NArg() < 1 {
		fmt.Fprintln(stderr, "npti merge: need --out and at least one stats folder")
		fs.Usage()
		return errUsage
	}
	dirs := fs.Args()
	for k, dir := range dirs {
		for _, prev := range dirs[:k] {
			if samePath(dir, prev) {
				return fmt.Errorf("npti merge: stats folder %s is given twice (as %s and %s): its statistics would count twice", dir, prev, dir)
			}
		}
		if samePath(dir, *out) {
			return fmt.Errorf("npti merge: --out %s is also an input: write the merged statistics to a new folder", *out)
		}
	}
	if _, err := os.Stat(filepath.Join(*out, analysis.MetaFile)); err == nil {
		return fmt.Errorf("npti merge: --out %s already holds statistics: choose a new folder", *out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("npti merge: --out %s: %w", *out, err)
	}
	var sets []*analysis.StatsSet
	for _, dir := range dirs {
		s, err := analysis.LoadStats(dir)
		if err != nil {
			return err
		}
		if done, ok := s.Meta.Progress["complete"].(bool); ok && !done {
			fmt.Fprintf(stderr, "npti merge: warning: %s is an unfinished run (resume it first to count all its items)\n", dir)
		}
		sets = append(sets, s)
	}
	m, err := analysis.MergeStatsNamed(dirs, sets...)
	if err != nil {
		return err
	}
	m.Meta.ToolVersion = Version
	if err := analysis.SaveStats(*out, m); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "merged %d stats folders (%d aspects) into %s\n", len(sets), len(m.Poles), *out)
	return err
}

// samePath reports whether two paths name the same folder: the same
// cleaned absolute path, or (when both exist) the same file through links.
func samePath(a, b string) bool {
	aa, erra := filepath.Abs(a)
	ab, errb := filepath.Abs(b)
	if erra == nil && errb == nil && filepath.Clean(aa) == filepath.Clean(ab) {
		return true
	}
	sa, erra := os.Stat(a)
	sb, errb := os.Stat(b)
	return erra == nil && errb == nil && os.SameFile(sa, sb)
}
