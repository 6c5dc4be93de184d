package ui

import (
	"fmt"
	"image/color"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/ui/figure"
)

// Categories of the overlay heatmap, by rising priority (a neuron in
// several is drawn in the last).
const (
	catA = iota + 1
	catB
	catBoth
	catConflict
)

// overlayCounts counts the neurons of each overlay category: A only, B
// only, both, and conflicts (A adds what B clamps or B adds what A clamps,
// as analysis.Plan defines them with the opposite poles clamped).
type overlayCounts struct {
	A, B, Both, Conflicts int
}

// overlay classifies every neuron for the overlay of aspect a with aspect
// b (of another trait) and returns the categorical grid and the counts.
func (s *state) overlay(a, b analysis.Aspect) (*figure.Dense, overlayCounts, error) {
	if a.Trait == b.Trait {
		return nil, overlayCounts{}, fmt.Errorf("overlay: choose an aspect of another trait than %s", a.Trait)
	}
	layers, neurons := s.shape()
	if layers == 0 {
		return nil, overlayCounts{}, fmt.Errorf("overlay: no data")
	}
	sel := map[analysis.Aspect][]analysis.Neuron{}
	for _, x := range []analysis.Aspect{a, a.Opposite(), b, b.Opposite()} {
		ns, err := s.selection(x)
		if err != nil {
			return nil, overlayCounts{}, err
		}
		sel[x] = ns
	}
	d := figure.NewDense(layers, neurons)
	mark := func(ns []analysis.Neuron, cat int) {
		for _, n := range ns {
			if n.Layer < layers && n.Index < neurons && d.Value(n.Layer, n.Index) < float64(cat) {
				d.Set(n.Layer, n.Index, float64(cat))
			}
		}
	}
	mark(sel[a], catA)
	mark(sel[b], catB)
	mark(analysis.Intersect(sel[a], sel[b]), catBoth)
	mark(analysis.Intersect(sel[a], sel[b.Opposite()]), catConflict)
	mark(analysis.Intersect(sel[b], sel[a.Opposite()]), catConflict)
	var c overlayCounts
	for _, v := range d.Data {
		switch int(v) {
		case catA:
			c.A++
		case catB:
			c.B++
		case catBoth:
			c.Both++
		case catConflict:
			c.Conflicts++
		}
	}
	return d, c, nil
}

// overlayCategories names and colours the overlay classes (colour-blind
// friendly: orange, blue, purple, black).
func overlayCategories(a, b analysis.Aspect, c overlayCounts) []figure.Category {
	return []figure.Category{
		{Name: fmt.Sprintf("%s only\n(%d)", a, c.A), Colour: color.RGBA{230, 120, 0, 255}},
		{Name: fmt.Sprintf("%s only\n(%d)", b, c.B), Colour: color.RGBA{40, 110, 220, 255}},
		{Name: fmt.Sprintf("both\n(%d)", c.Both), Colour: color.RGBA{150, 40, 170, 255}},
		{Name: fmt.Sprintf("conflict\n(%d)", c.Conflicts), Colour: color.RGBA{20, 20, 20, 255}},
	}
}

// overlayLine describes the overlay counts for the counts label.
func overlayLine(a, b analysis.Aspect, c overlayCounts) string {
	return fmt.Sprintf("Overlay %s / %s: %s only %d · %s only %d · both %d · conflicts %d (one adds what the other clamps)",
		a, b, a, c.A, b, c.B, c.Both, c.Conflicts)
}
