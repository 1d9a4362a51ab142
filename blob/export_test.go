package blob

// SetMinCap lowers the ratio rule's floor for a test; the returned
// function restores it.
func SetMinCap(n int64) (restore func()) {
	old := minCap
	minCap = n
	return func() { minCap = old }
}
