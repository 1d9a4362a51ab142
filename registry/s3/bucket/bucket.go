// Package bucket is the small S3 client the s3 backend needs: it resolves
// endpoint, region and credentials the way S3 users expect, performs the
// handful of object operations a registry uses (get, head, put, list,
// remove) and turns S3 failures into one-line, classed errors that never
// contain a secret.
package bucket
