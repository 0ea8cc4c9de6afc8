package handlers

import "github.com/gin-gonic/gin"

// privateNoStore gives every API response a Cache-Control: what a signed-in
// user reads is theirs (private) and, unless the handler says how it may be
// kept (an ETag'd resource says "private, no-cache", a published version
// "immutable"), is not stored at all. Without it a shared cache or the
// browser's disk may keep users, facilities or checklists it was never
// told it could. Handlers that set their own value replace this one.
func privateNoStore(c *gin.Context) {
	c.Writer.Header()["Cache-Control"] = hdrPrivateNoStore
	c.Next()
}

// A full slice (len == cap), so that an Add copies instead of writing into
// the shared array.
var hdrPrivateNoStore = fullSlice("private, no-store")
