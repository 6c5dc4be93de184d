package app

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/npti-studio/npti/analysis"
)

// runMerge implements `npti merge --out DIR STATS1 STATS2 ...`: it adds the
// statistics of runs of the same model and counting mode (shards of one
// identification, or runs on different data) into one stats folder.
func runMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "stats folder to write (required)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || fs.NArg() < 1 {
		fmt.Fprintln(stderr, "npti merge: need --out and at least one stats folder")
		fs.Usage()
		return errUsage
	}
	var sets []*analysis.StatsSet
	for _, dir := range fs.Args() {
		s, err := analysis.LoadStats(dir)
		if err != nil {
			return err
		}
		if done, ok := s.Meta.Progress["complete"].(bool); ok && !done {
			fmt.Fprintf(stderr, "npti merge: warning: %s is an unfinished run (resume it first to count all its items)\n", dir)
		}
		sets = append(sets, s)
	}
	m, err := analysis.MergeStats(sets...)
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
