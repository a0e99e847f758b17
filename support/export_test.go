package support

import "testing"

// SetLabelPage makes SafetyLabels read n escalations at a time until t
// ends, so that tests cross page boundaries with a few escalations.
func SetLabelPage(t testing.TB, n int) {
	old := labelPage
	labelPage = n
	t.Cleanup(func() { labelPage = old })
}
