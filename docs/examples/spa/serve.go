//go:build ignore

// Command serve serves the example single-page app on
// http://localhost:5173 (the origin the demo SPA client registered). It
// serves only the app's own files and the oidc-client-ts browser bundle
// from node_modules (npm ci first), nothing else of the directory.
//
//	cd docs/examples/spa && npm ci && go run serve.go [-issuer URL]
//
// (make example-spa does both.)
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// files maps each served path to the file that answers it.
var files = map[string]string{
	"/":                             "index.html",
	"/callback":                     "callback.html",
	"/app.js":                       "app.js",
	"/callback.js":                  "callback.js",
	"/oidc.js":                      "oidc.js",
	"/style.css":                    "style.css",
	"/config.js":                    "config.js",
	"/vendor/oidc-client-ts.min.js": "node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js",
}

const defaultIssuer = "http://127.0.0.1:8080/t/demo"

func main() {
	addr := flag.String("addr", "localhost:5173", "`host:port` to listen on (the demo client registered http://localhost:5173)")
	issuer := flag.String("issuer", defaultIssuer, "Herald issuer `URL` to sign in at")
	dir := flag.String("dir", ".", "`directory` of the example")
	flag.Parse()

	iss, err := url.Parse(*issuer)
	if err != nil || iss.Host == "" {
		log.Fatalf("-issuer %q: want an absolute URL", *issuer)
	}
	bundle := filepath.Join(*dir, files["/vendor/oidc-client-ts.min.js"])
	if _, err := os.Stat(bundle); err != nil {
		log.Fatalf("%s is missing: run npm ci in %s first", bundle, *dir)
	}
	// The pages run only their own scripts and talk only to Herald.
	csp := fmt.Sprintf("default-src 'self'; connect-src 'self' %s://%s; img-src 'self' data:; "+
		"base-uri 'none'; form-action 'self' %[1]s://%[2]s; frame-ancestors 'none'", iss.Scheme, iss.Host)

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := files[r.URL.Path]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == "/config.js" && *issuer != defaultIssuer {
			b, err := os.ReadFile(filepath.Join(*dir, name))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write([]byte(strings.Replace(string(b), `"`+defaultIssuer+`"`, fmt.Sprintf("%q", *issuer), 1)))
			return
		}
		http.ServeFile(w, r, filepath.Join(*dir, name))
	})
	log.Printf("example SPA on http://%s — signing in at %s (start Herald with make run)", *addr, *issuer)
	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
