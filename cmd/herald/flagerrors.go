package main

import (
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The flag package's own messages ("invalid value "30d" for flag
// -access-token-lifetime: parse error") say neither what was wrong nor what
// would do; these turn them into one line naming the flag as the help
// writes it (--name) and the forms it accepts.

var (
	flagInvalidValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]+): (.*)$`)
	flagUndefined    = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	flagNeedsValue   = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
)

// flagError rewrites an error of fs.Parse.
func flagError(fs *flag.FlagSet, err error) error {
	cmd, msg := withoutProgramName(fs.Name()), err.Error()
	help := fmt.Sprintf("run '%s --help' for its flags", fs.Name())
	if m := flagInvalidValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s: invalid value %q for --%s: %s", cmd, m[1], m[2], acceptedForms(fs.Lookup(m[2]), m[3]))
	}
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		name, _, _ := strings.Cut(m[1], "=")
		return fmt.Errorf("%s: unknown flag --%s; %s", cmd, name, help)
	}
	if m := flagNeedsValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s: --%s needs a value: %s", cmd, m[1], acceptedForms(fs.Lookup(m[1]), "give one after it"))
	}
	return fmt.Errorf("%s: %s; %s", cmd, msg, help)
}

// acceptedForms says what f accepts, from its type; for flags of our own
// types (a custom claim, an attribute) their parser's reason already says.
func acceptedForms(f *flag.Flag, reason string) string {
	if f == nil {
		return reason
	}
	getter, ok := f.Value.(flag.Getter)
	if !ok {
		return reason
	}
	if _, isBool := getter.Get().(bool); isBool {
		return fmt.Sprintf("use --%s=true or --%s=false", f.Name, f.Name)
	}
	if hint := valueHint(getter.Get()); hint != "" {
		return hint
	}
	return reason
}

// valueHint says which values a setting of v's type accepts, for flags and
// environment variables alike; "" when its parser's own reason says more.
func valueHint(v any) string {
	switch v.(type) {
	case time.Duration:
		return "use a Go duration like 720h (units h, m, s; 30 days is 720h, 0 for the default)"
	case bool:
		return "use true or false"
	case int, int64, uint, uint64, int32, uint32:
		return "use a whole number"
	}
	return ""
}

// unexpectedArgument explains the first positional argument. Most often it
// is the value of a boolean flag written apart from it (--first-party
// false): a boolean flag takes no separate value, so the flag package
// stopped there.
func unexpectedArgument(fs *flag.FlagSet, args []string) error {
	cmd, arg := withoutProgramName(fs.Name()), fs.Arg(0)
	i := len(args) - fs.NArg()
	if i > 0 {
		prev := strings.TrimLeft(args[i-1], "-")
		if f := fs.Lookup(prev); f != nil && isBoolFlag(f) && !strings.Contains(args[i-1], "=") {
			if slices.Contains([]string{"true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False"}, arg) {
				return fmt.Errorf("%s: --%s takes no separate value: write --%s=%s", cmd, f.Name, f.Name, arg)
			}
		}
	}
	return fmt.Errorf("%s: unexpected argument %q (every input is a --flag; run '%s --help')", cmd, arg, fs.Name())
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
