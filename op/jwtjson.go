package op

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The verifier decodes a JWS header and an access token's claims per
// request; encoding/json's reflection-driven walk of them cost about a
// tenth of a userinfo request's CPU besides the signature. jsonMembers
// walks the top-level object of what Herald mints itself — keys and
// strings without escapes, numbers, literals, nested values — and hands
// each member's raw value to the same UnmarshalJSON methods
// encoding/json would call. Anything else (an escape, a key that only
// matches a field case-insensitively, invalid UTF-8, malformed JSON) makes
// it report false, and the caller decodes with encoding/json as before, so
// that what is accepted reads exactly as encoding/json reads it.

// jsonMembers calls member for each member of the JSON object b, in order,
// with the member's raw value. It reports false, having possibly called
// member for some members, when b is outside what it reads (see above) or
// member returns false.
func jsonMembers(b []byte, member func(key, value []byte) bool) bool {
	if !utf8.Valid(b) {
		return false
	}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		end, ok := plainStringEnd(b, i)
		if !ok {
			return false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		end, ok = valueEnd(b, i)
		if !ok || !member(key, b[i:end]) {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainStringEnd returns the end of the string literal at b[i] when it
// has no escapes and no control characters: the bytes between its quotes
// are then its value.
func plainStringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\' || c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

// stringMember sets *dst to the plain string v; null leaves it alone, as
// encoding/json does. Anything else is not read here.
func stringMember(v []byte, dst *string) bool {
	if string(v) == "null" {
		return true
	}
	if end, ok := plainStringEnd(v, 0); ok && end == len(v) {
		*dst = string(v[1 : end-1])
		return true
	}
	return false
}

// plainStringArray reads an array of plain strings.
func plainStringArray(v []byte) ([]string, bool) {
	if len(v) < 2 || v[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := skipSpace(v, 1)
	if i < len(v) && v[i] == ']' {
		return out, skipSpace(v, i+1) == len(v)
	}
	for {
		end, ok := plainStringEnd(v, i)
		if !ok {
			return nil, false
		}
		out = append(out, string(v[i+1:end-1]))
		i = skipSpace(v, end)
		if i >= len(v) {
			return nil, false
		}
		switch v[i] {
		case ',':
			i = skipSpace(v, i+1)
		case ']':
			return out, skipSpace(v, i+1) == len(v)
		default:
			return nil, false
		}
	}
}

// valueEnd returns the end of the JSON value at b[i]: a plain string, a
// number, a literal, or an array or object (checked with json.Valid).
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return plainStringEnd(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return numberEnd(b, i)
	case c == '[' || c == '{':
		end, ok := nestedEnd(b, i)
		return end, ok && json.Valid(b[i:end])
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(b[i:], []byte(lit)) {
			return i + len(lit), true
		}
	}
	return 0, false
}

// numberEnd reads a number as RFC 8259 §6 spells it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(b []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// nestedEnd finds the end of the array or object at b[i] by its brackets,
// skipping strings; json.Valid checks the rest.
func nestedEnd(b []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// ignorableKey reports whether key, none of a struct's JSON names, can be
// skipped: not when encoding/json would match it to one of names
// case-insensitively (non-ASCII letters fold too: those are never
// skipped here).
func ignorableKey(key []byte, names ...string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, n := range names {
		if len(n) == len(key) && strings.EqualFold(n, string(key)) {
			return false
		}
	}
	return true
}
