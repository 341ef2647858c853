// Package static holds the files the browser loads (vendored htmx, the stylesheet, the icon)
// and serves them under content-hash URLs, so they can be cached for a year and still change
// the moment a new version ships.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed htmx.min.js app.css app.js icon.svg
var files embed.FS

type asset struct {
	body        []byte
	contentType string
}

// Assets maps each file to its hashed URL and back.
type Assets struct {
	urls   map[string]string // "app.css" → "/static/app.1a2b3c4d5e.css"
	hashed map[string]asset  // "app.1a2b3c4d5e.css" → file
}

// Load reads the embedded files and computes their URLs.
func Load() (*Assets, error) {
	a := &Assets{urls: map[string]string{}, hashed: map[string]asset{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		h := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		a.urls[name] = "/static/" + h
		a.hashed[h] = asset{body: body, contentType: mime.TypeByExtension(ext)}
		return nil
	})
	return a, err
}

// URL returns the cacheable URL of an embedded file, or "" if there is no such file.
func (a *Assets) URL(name string) string { return a.urls[name] }

// ServeHTTP serves a file by its hashed name (the last path element) with a year-long cache.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.hashed[path.Base(r.URL.Path)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(f.body)
}
