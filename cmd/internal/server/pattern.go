package server

import (
	"fmt"
	"strconv"
	"strings"
)

// maxExpansion bounds the number of paths one pattern may produce.
const maxExpansion = 4096

// ExpandPattern expands the {a...b} ranges in arg, in order, into the list
// of paths they name: "disk{1...4}" is disk1 to disk4, "/mnt/d{1...2}/x{1...2}"
// is /mnt/d1/x1, /mnt/d1/x2, /mnt/d2/x1, /mnt/d2/x2. A range whose first
// number has a leading zero pads all its numbers to the same width
// ("d{01...10}" is d01 to d10). An argument without braces is returned as
// is. A malformed pattern (a lone brace, "{1..4}", "{4...1}", non-numbers)
// is an error matching ErrUsage.
func ExpandPattern(arg string) ([]string, error) {
	out := []string{""}
	rest := arg
	for {
		open := strings.IndexByte(rest, '{')
		closeAt := strings.IndexByte(rest, '}')
		if open < 0 && closeAt < 0 {
			break
		}
		if closeAt < 0 {
			return nil, badPattern(arg, "unmatched '{'")
		}
		if open < 0 || closeAt < open {
			return nil, badPattern(arg, "unmatched '}'")
		}
		lit, body := rest[:open], rest[open+1:closeAt]
		rest = rest[closeAt+1:]
		values, err := expandRange(body)
		if err != nil {
			return nil, badPattern(arg, err.Error())
		}
		if len(out)*len(values) > maxExpansion {
			return nil, badPattern(arg, fmt.Sprintf("expands to more than %d paths", maxExpansion))
		}
		next := make([]string, 0, len(out)*len(values))
		for _, prefix := range out {
			for _, v := range values {
				next = append(next, prefix+lit+v)
			}
		}
		out = next
	}
	for i := range out {
		out[i] += rest
	}
	return out, nil
}

func badPattern(arg, why string) error {
	return usagef("--disks %q: bad pattern: %s (want a path or a pattern such as disk{1...8})", arg, why)
}

// expandRange turns "a...b" into the decimal numbers a to b.
func expandRange(body string) ([]string, error) {
	lo, hi, ok := strings.Cut(body, "...")
	if !ok {
		return nil, fmt.Errorf("{%s} is not a range {a...b}", body)
	}
	a, errA := parseUint(lo)
	b, errB := parseUint(hi)
	if errA != nil || errB != nil {
		return nil, fmt.Errorf("{%s}: bounds must be non-negative integers", body)
	}
	if a > b {
		return nil, fmt.Errorf("{%s}: the first number is larger than the last", body)
	}
	if b-a+1 > maxExpansion {
		return nil, fmt.Errorf("{%s} expands to more than %d paths", body, maxExpansion)
	}
	width := 0
	if len(lo) > 1 && lo[0] == '0' {
		width = len(lo)
	}
	out := make([]string, 0, b-a+1)
	for i := a; i <= b; i++ {
		out = append(out, fmt.Sprintf("%0*d", width, i))
	}
	return out, nil
}

func parseUint(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	return strconv.Atoi(s)
}
