package app

import (
	"errors"

	"github.com/npti-studio/npti/analysis"
)

// neuronSets returns the neuron sets of a plan: the dict files of
// neuronsDir, or, from a stats folder, the sets the NPTI default rule
// selects for every trait with statistics of both poles.
func neuronSets(neuronsDir, statsDir string) (analysis.Sets, error) {
	switch {
	case (neuronsDir == "") == (statsDir == ""):
		return nil, errors.New("give exactly one of --neurons (dict files) or --stats (a stats folder)")
	case neuronsDir != "":
		return analysis.LoadSets(neuronsDir)
	}
	st, err := analysis.LoadStats(statsDir)
	if err != nil {
		return nil, err
	}
	return analysis.SelectAll(st, nil, analysis.DefaultRule())
}
