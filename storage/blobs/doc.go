// Package blobs keeps the bytes of inspection photos, content-addressed
// by their SHA-256: on disk in the data folder (Disk, the default, one
// instance) or in a GridFS bucket of the database (GridFS, for
// several instances sharing a MongoDB). Both have the same three
// methods — Put, Has, Open — so handlers take either.
//
// It stores and serves bytes only: who may see a photo and which
// inspection names it are the repository's (storage) and the handlers'
// business, and it must not read or write the repository's documents.
package blobs
