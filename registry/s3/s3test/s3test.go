// Package s3test runs a real S3 server (versitygw, posix backend) on
// 127.0.0.1 for tests and benchmarks, with its data in a temporary
// directory, and gives the environment a client needs to reach it.
package s3test
