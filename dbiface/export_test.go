package dbiface

// GroupedScheduleRuns is groupedScheduleRuns, for tests.
const GroupedScheduleRuns = groupedScheduleRuns

// WriteGroupStats reports, for tests, how many grouped transactions the
// interface has written and how many writes wait for a group; ok is false
// where the dialect does not group writes.
func WriteGroupStats(i *Interface) (groups int64, waiting int, ok bool) {
	g := i.group
	if g == nil {
		return 0, 0, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.groups.Load(), len(g.pending), true
}
