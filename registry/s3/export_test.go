package s3

import "time"

// SetStaleUpload changes the age after which a push aborts unfinished
// multipart uploads under its image, and returns a function restoring it.
func SetStaleUpload(d time.Duration) (restore func()) {
	old := staleUpload
	staleUpload = d
	return func() { staleUpload = old }
}
