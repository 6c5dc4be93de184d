package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/ui/figure"
)

// TestSortedOrderIgnoresOverlay replays the audit's steps: sorted view,
// an overlay, another trait, overlay off. The columns must stay in the
// order of the trait's diff throughout (the cache used to keep the order
// of whatever grid was drawn first, the overlay's categories included).
func TestSortedOrderIgnoresOverlay(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	ex := u.explore
	ex.openSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	waitStatus(t, u, "Opened 8 neuron sets")
	u.showTab(tabExplore)
	ex.order.SetSelected(orderSorted)
	ex.pick.overlayTo.SetSelected("Agreeableness high")
	ex.trait.SetSelected(string(analysis.Neuroticism))
	ex.pick.overlayTo.SetSelected(noOverlay)
	for _, tr := range []analysis.Trait{analysis.Neuroticism, analysis.Extraversion} {
		ex.trait.SetSelected(string(tr))
		if ex.fig == nil || ex.fig.Heat.Order == nil {
			t.Fatalf("%s: the sorted view draws no order", tr)
		}
		g, err := u.st.grid(tr)
		if err != nil {
			t.Fatal(err)
		}
		want := figure.SortedOrder(g)
		for l := range want {
			if !slices.Equal(ex.fig.Heat.Order[l], want[l]) {
				t.Fatalf("%s layer %d: columns not in diff order after an overlay", tr, l)
			}
		}
		// Under an overlay too.
		ex.pick.overlayTo.SetSelected("Agreeableness low")
		if !slices.Equal(ex.fig.Heat.Order[31], want[31]) {
			t.Errorf("%s: the overlay changes the sorted order", tr)
		}
		ex.pick.overlayTo.SetSelected(noOverlay)
	}
}

// TestMismatchedSetsWarned opens the Llama-3-8B sets with persona-tiny
// loaded: they keep their own 32 × 14336 shape (they used to be cropped
// to the model's 4 × 384 silently) and a dialog names both shapes.
func TestMismatchedSetsWarned(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.start.load(sharedDir(t, "models", "persona-tiny"))
	waitStatus(t, u, "Model loaded")
	u.explore.openSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	waitStatus(t, u, "do not match the model")
	if l, n := u.st.shape(); l != 32 || n != 14336 {
		t.Errorf("shape %d × %d, want the sets' 32 × 14336", l, n)
	}
	if got := overlayText(u); !strings.Contains(got, "32 layers × 14336 neurons") || !strings.Contains(got, "4 layers × 384 neurons") {
		t.Errorf("warning %q does not name both shapes", got)
	}
	if c := u.explore.layerSeries()[0].Counts; len(c) != 32 || c[31] == 0 {
		t.Errorf("per-layer counts %v: want all 32 layers", c)
	}
}
