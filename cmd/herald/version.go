package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit may be set at build time:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD)" ./cmd/herald
//
// (make build does). Otherwise they come from the build information Go
// embeds: the module version when built with `go install ...@v1.2.0`, the
// VCS revision when built from a git checkout.
var (
	version = ""
	commit  = ""
)

// versionInfo is what `herald version --json` prints.
type versionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"` // built from a checkout with uncommitted changes
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
}

// buildVersion gathers versionInfo from the link-time variables and
// runtime/debug.ReadBuildInfo; "devel" and "unknown" when neither says.
func buildVersion() versionInfo {
	v := versionInfo{Version: version, Commit: commit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		v.GoVersion = info.GoVersion
		if v.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	return v
}

func runVersion(_ context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "version", "[--json]",
		"Prints Herald's version, the commit it was built from and the Go version.\n"+
			"--json prints {\"version\",\"commit\",\"commit_time\",\"go_version\",\"platform\"}.")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v := buildVersion()
	if *asJSON {
		return writeJSON(c.stdout, v)
	}
	modified := ""
	if v.Modified {
		modified = ", modified"
	}
	_, err := fmt.Fprintf(c.stdout, "herald %s (commit %s%s, %s, %s)\n", v.Version, v.Commit, modified, v.GoVersion, v.Platform)
	return err
}
