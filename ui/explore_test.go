package ui

import (
	"slices"
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
