// Package model holds the ProcessFork image data types: digests, the image
// manifest with its canonical encoding, the layer documents the registry
// walks (fs tree, page manifest) and the transitive blob walk.
package model
