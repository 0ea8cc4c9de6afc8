package handlers

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"tenken/checklist"
)

// checkStrictJSON refuses what encoding/json lets through silently, in a
// body already known to be one valid JSON value:
//
//   - a name given twice in one object, where the last would win (also
//     when the two differ only in case: encoding/json matches struct
//     fields case-insensitively, so "username" and "Username" are the same
//     field to it);
//   - a string that is not valid UTF-8 (raw bytes, or a \u escape of a lone
//     surrogate), which encoding/json would store with U+FFFD in place.
//
// The error is a 400 naming the field.
func checkStrictJSON(body []byte) error {
	sc := strictScanner{b: body}
	return sc.value("")
}

type strictScanner struct {
	b []byte
	i int
}

func (sc *strictScanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		default:
			return
		}
	}
}

// value checks the value at sc.i, found at path.
func (sc *strictScanner) value(path string) error {
	sc.ws()
	if sc.i >= len(sc.b) {
		return nil
	}
	switch sc.b[sc.i] {
	case '{':
		sc.i++
		var seen map[string]bool
		for {
			sc.ws()
			if sc.i >= len(sc.b) || sc.b[sc.i] == '}' {
				sc.i++
				return nil
			}
			if sc.b[sc.i] == ',' {
				sc.i++
				continue
			}
			raw, err := sc.str(path)
			if err != nil {
				return err
			}
			name := raw
			if strings.IndexByte(raw, '\\') >= 0 {
				_ = json.Unmarshal([]byte(`"`+raw+`"`), &name)
			}
			field := joinField(path, name)
			folded := strings.ToLower(strings.ToUpper(name))
			if seen[folded] {
				return strictProblem(field, "duplicate", "%s is given more than once", field)
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[folded] = true
			sc.ws()
			sc.i++ // ':'
			if err := sc.value(field); err != nil {
				return err
			}
		}
	case '[':
		sc.i++
		for n := 0; ; {
			sc.ws()
			if sc.i >= len(sc.b) || sc.b[sc.i] == ']' {
				sc.i++
				return nil
			}
			if sc.b[sc.i] == ',' {
				sc.i++
				n++
				continue
			}
			if err := sc.value(path + "[" + strconv.Itoa(n) + "]"); err != nil {
				return err
			}
		}
	case '"':
		_, err := sc.str(path)
		return err
	default: // number, true, false, null
		for sc.i < len(sc.b) && !strings.ContainsRune(",]} \t\r\n", rune(sc.b[sc.i])) {
			sc.i++
		}
		return nil
	}
}

// str checks the string at sc.i (its opening quote) and returns its raw
// text between the quotes.
func (sc *strictScanner) str(path string) (string, error) {
	sc.i++
	start := sc.i
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		switch {
		case c == '"':
			s := string(sc.b[start:sc.i])
			sc.i++
			return s, nil
		case c == '\\':
			if sc.i+1 < len(sc.b) && sc.b[sc.i+1] == 'u' {
				r := sc.hex4(sc.i + 2)
				switch {
				case r >= 0xD800 && r < 0xDC00: // must be followed by a low surrogate
					if sc.i+7 < len(sc.b) && sc.b[sc.i+6] == '\\' && sc.b[sc.i+7] == 'u' {
						if lo := sc.hex4(sc.i + 8); lo >= 0xDC00 && lo < 0xE000 {
							sc.i += 12
							continue
						}
					}
					return "", badUTF8(path)
				case r >= 0xDC00 && r < 0xE000:
					return "", badUTF8(path)
				}
				sc.i += 6
				continue
			}
			sc.i += 2
		case c < utf8.RuneSelf:
			sc.i++
		default:
			r, size := utf8.DecodeRune(sc.b[sc.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", badUTF8(path)
			}
			sc.i += size
		}
	}
	return string(sc.b[start:]), nil
}

// hex4 reads the four hex digits at i, or -1.
func (sc *strictScanner) hex4(i int) rune {
	if i+4 > len(sc.b) {
		return -1
	}
	n, err := strconv.ParseUint(string(sc.b[i:i+4]), 16, 16)
	if err != nil {
		return -1
	}
	return rune(n)
}

// joinField names name inside path the way problems name fields:
// "a.b" for plain names, "answers[flyers.sorted]" for map keys that are
// not (item keys hold dots).
func joinField(path, name string) string {
	plain := name != ""
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return path + "[" + name + "]"
	case path == "":
		return name
	}
	return path + "." + name
}

func badUTF8(path string) error {
	if path == "" {
		path = "(body)"
	}
	return strictProblem(path, "utf8", "%s is not valid UTF-8", path)
}

func strictProblem(field, code, format string, args ...any) error {
	e := checklist.Errorf(checklist.EBadRequest, format, args...)
	e.Fields = []checklist.FieldError{{Field: field, Code: code, Message: e.Message}}
	return e
}
