package storage

import "net/url"

// parseURI returns uri with any password replaced, for logs.
func parseURI(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", err
	}
	return u.Redacted(), nil
}

// Redact returns uri with any password hidden, for messages and logs.
func Redact(uri string) string { return redact(uri) }
