package storage

// StorageKeyedMutexProbe lets the external tests reach the keyed lock.
type StorageKeyedMutexProbe = keyedMutex
