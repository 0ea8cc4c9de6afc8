package storage

import "context"

// StorageKeyedMutexProbe lets the external tests reach the keyed lock.
type StorageKeyedMutexProbe = keyedMutex

// CountDocuments counts the documents of a collection matching filter,
// for tests that assert exact numbers.
func (db *DB) CountDocuments(name string, filter any) (int64, error) {
	return db.db.Collection(name).CountDocuments(context.Background(), filter)
}

// DeleteDocuments removes documents directly, for tests that simulate a
// crash between two writes.
func (db *DB) DeleteDocuments(name string, filter any) error {
	_, err := db.db.Collection(name).DeleteMany(context.Background(), filter)
	return err
}

// ForgetCache drops what this process remembers of its own writes, as a
// restart would.
func (db *DB) ForgetCache() { db.cache = writeCache{} }
