// Package embedded runs the zero-setup database: FerretDB over SQLite,
// in this process, in the data folder. It starts and stops the server
// (Start, Stop), holds the folder's lock so that one process owns it
// (LockDataDir), and opens the repository on it as the data's sole
// writer (Server.Open: storage.SoleWriter, then the SQLite _id index
// redefinition and owner-only file modes).
//
// It is the only package that imports FerretDB or SQLite: dropping the
// embedded server means deleting this folder and its wiring in cmd. It
// must not hold repository logic — what the sole writer may remember
// between its writes is the repository's (storage's memory).
package embedded
