package gobackend

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
)

var DbgProf = os.Getenv("NPTI_OPPROF") != ""

var dbgMu sync.Mutex
var dbgT = map[string]time.Duration{}
var dbgN = map[string]int{}

func DbgRecord(k string, d time.Duration) {
	dbgMu.Lock()
	dbgT[k] += d
	dbgN[k]++
	dbgMu.Unlock()
}

func DbgDump() {
	dbgMu.Lock()
	defer dbgMu.Unlock()
	var ks []string
	var tot time.Duration
	for k, v := range dbgT {
		ks = append(ks, k)
		tot += v
	}
	sort.Slice(ks, func(i, j int) bool { return dbgT[ks[i]] > dbgT[ks[j]] })
	fmt.Fprintf(os.Stderr, "total op time %v\n", tot)
	for i, k := range ks {
		if i > 40 { break }
		fmt.Fprintf(os.Stderr, "%10v %6d %s\n", dbgT[k], dbgN[k], k)
	}
	dbgT = map[string]time.Duration{}
	dbgN = map[string]int{}
}
