package storage

import (
	"slices"
	"sync"
)

// listCache is a list the sole writer keeps between its own writes of
// what it lists (memory.go): every such write invalidates it, whatever
// its outcome.
type listCache[T any] struct {
	mu   sync.Mutex
	gen  int // counts invalidations: a list read across one is not kept
	list []T
	ok   bool
}

// read returns a copy of the list, read with query when it is not kept.
func (c *listCache[T]) read(query func() ([]T, error)) ([]T, error) {
	c.mu.Lock()
	list, ok, gen := slices.Clone(c.list), c.ok, c.gen
	c.mu.Unlock()
	if ok {
		return list, nil
	}
	list, err := query()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen { // else a write came between: not kept
		c.list, c.ok = slices.Clone(list), true
	}
	return list, nil
}

// find returns the first element of the list that match accepts (ok
// false when none does), reading the list with query when it is not
// kept. It copies nothing but that element.
func (c *listCache[T]) find(query func() ([]T, error), match func(T) bool) (_ T, ok bool, err error) {
	c.mu.Lock()
	list, kept := c.list, c.ok
	if kept {
		defer c.mu.Unlock()
	} else {
		c.mu.Unlock()
		if list, err = c.read(query); err != nil {
			var zero T
			return zero, false, err
		}
	}
	for _, v := range list {
		if match(v) {
			return v, true, nil
		}
	}
	var zero T
	return zero, false, nil
}

// invalidate follows every write of what the list holds.
func (c *listCache[T]) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.list, c.ok = nil, false
}
