package handlers

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"

	"tenken/auth"
	"tenken/checklist"
)

// The manifest is polled by every tablet; building it reads the
// applicability and the caller's facilities (on the embedded server each
// read decodes the whole collection): ~3.6 ms of CPU per call. It depends
// only on the caller's role and facilities and on data that changes
// rarely, so it is kept in memory per (role, facilities) and dropped by
// every successful write under manifestWritePaths in this process. Writes
// by other instances (several API processes on one MongoDB) are seen
// within manifestTTL.
//
// Adding data to the manifest means adding the routes that change it to
// manifestWritePaths. An inspector's round assignments carry a status that
// inspection writes change too; those do not drop the cache (tablets save
// every few seconds), so a status there is at most manifestTTL old.
var manifestWritePaths = []string{"/v1/checklists", "/v1/facilities", "/v1/users", "/v1/rounds"}

const (
	manifestTTL        = 2 * time.Second
	maxCachedManifests = 10000
)

type cachedManifest struct {
	gen  uint64
	at   time.Time
	etag string
	body []byte
}

type manifestCache struct {
	mu      sync.Mutex
	gen     uint64                             // counts invalidations: a manifest built across one is not kept
	entries *lru.Cache[string, cachedManifest] // made on first use; least recently polled goes first
}

// manifestKey is what a manifest depends on besides the stored data.
func manifestKey(p auth.Principal) string {
	if p.Role != checklist.RoleInspector {
		return "staff" // every staff member gets the same manifest
	}
	ids := slices.Clone(p.Facilities)
	slices.Sort(ids)
	return "inspector:" + strings.Join(ids, ",")
}

// get returns the manifest for key and the generation to store a freshly
// built one under.
func (mc *manifestCache) get(key string, now time.Time) (cachedManifest, uint64, bool) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if mc.entries == nil {
		return cachedManifest{}, mc.gen, false
	}
	m, ok := mc.entries.Get(key)
	if ok && m.gen == mc.gen && now.Sub(m.at) < manifestTTL {
		return m, mc.gen, true
	}
	return cachedManifest{}, mc.gen, false
}

func (mc *manifestCache) put(key string, m cachedManifest) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if m.gen != mc.gen {
		return // the data changed while it was built
	}
	if mc.entries == nil {
		var err error
		if mc.entries, err = lru.New[string, cachedManifest](maxCachedManifests); err != nil {
			panic(err) // only for a size below 1
		}
	}
	mc.entries.Add(key, m)
}

func (mc *manifestCache) invalidate() {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	mc.gen++
	if mc.entries != nil {
		mc.entries.Purge()
	}
}

// dropManifestsOnWrite invalidates the cached manifests after a
// successful write that may change one. It also bumps the generation
// before the write, so a manifest built during it is not kept.
func (s *Server) dropManifestsOnWrite(c *gin.Context) {
	path := c.Request.URL.Path
	write := c.Request.Method != "GET" && c.Request.Method != "HEAD" && slices.ContainsFunc(manifestWritePaths, func(p string) bool {
		return path == p || strings.HasPrefix(path, p+"/")
	})
	if !write {
		c.Next()
		return
	}
	s.manifests.invalidate()
	c.Next()
	s.manifests.invalidate()
}
