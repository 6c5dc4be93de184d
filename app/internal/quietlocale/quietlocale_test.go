package quietlocale

import (
	"os"
	"testing"
)

func TestFix(t *testing.T) {
	for _, c := range []struct{ all, lang, wantAll, wantLang string }{
		{"", "C.UTF-8", "", "C"},
		{"", "POSIX.utf8@euro", "", "C"},
		{"", "C", "", "C"},
		{"", "en_US.UTF-8", "", "en_US.UTF-8"},
		{"de_DE.UTF-8", "C.UTF-8", "de_DE.UTF-8", "C.UTF-8"}, // LC_ALL wins: LANG unused
		{"C.UTF-8", "en_US.UTF-8", "C", "en_US.UTF-8"},
	} {
		t.Setenv("LC_ALL", c.all)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		Fix()
		if a, l := os.Getenv("LC_ALL"), os.Getenv("LANG"); a != c.wantAll || l != c.wantLang {
			t.Errorf("LC_ALL=%q LANG=%q → %q %q, want %q %q", c.all, c.lang, a, l, c.wantAll, c.wantLang)
		}
	}
}
