package storage

import (
	"context"
	"sync"

	"tenken/checklist"
)

// openActionFacilities is the set of facilities with an open improvement
// action, kept by the sole writer between its own writes of actions.
// Every counted inspection write checks its facility's open actions
// (checkActions); on the embedded server that query decodes every stored
// action, once per submission. Most facilities have none, and with this
// set they cost nothing.
type openActionFacilities struct {
	mu     sync.Mutex
	gen    int // counts invalidations: a set read across one is not kept
	loaded bool
	set    map[string]bool
}

func (o *openActionFacilities) invalidate() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gen++
	o.loaded, o.set = false, nil
}

// mayHaveOpenActions reports whether facility may have an open action:
// true unless the sole writer knows it has none.
func (db *DB) mayHaveOpenActions(ctx context.Context, facility string) bool {
	o := &db.actionFacilities
	o.mu.Lock()
	if o.loaded {
		has := o.set[facility]
		o.mu.Unlock()
		return has
	}
	gen := o.gen
	o.mu.Unlock()
	open, err := db.ListActions(ctx, checklist.ActionQuery{OpenOnly: true})
	if err != nil {
		return true
	}
	set := map[string]bool{}
	for _, a := range open {
		set[a.FacilityID] = true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gen == gen {
		o.loaded, o.set = true, set
	}
	return set[facility]
}
