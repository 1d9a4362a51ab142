// Package hubtest is an in-process Hugging Face Hub for tests: the HTTP
// endpoints, status codes, headers and pagination the official client
// (@huggingface/hub) and this project's hf backend use. Its fidelity is
// checked by running the official client against it (contract_test.go).
//
// Files live on disk (one object per sha256), never whole in memory, so
// large images can be pushed through it in benchmarks.
package hubtest
