package thrash

import (
	"fmt"
	"strconv"
	"strings"
)

// parseList parses "name=n,name=n" into its pairs, in order.
func parseList(s string) ([][2]string, []int, error) {
	var names [][2]string
	var vals []int
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, num, ok := strings.Cut(item, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%w: %q is not name=number", ErrConfig, item)
		}
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("%w: %q is not name=number", ErrConfig, item)
		}
		names = append(names, [2]string{strings.TrimSpace(name), item})
		vals = append(vals, n)
	}
	return names, vals, nil
}

// ParseMix parses an operation mix such as "multipart=6,get=4" (weights by
// operation kind), for a focused run.
func ParseMix(s string) (map[string]int, error) {
	names, vals, err := parseList(s)
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for i, n := range names {
		m[n[0]] = vals[i]
	}
	if !validMix(m) {
		return nil, fmt.Errorf("%w: mix %q: weights of %v, not all zero", ErrConfig, s, newOpMix(DefaultMix()).kinds)
	}
	return m, nil
}

// ParseFaults parses a fault schedule such as "every=8,kill=1,flip=0,
// replace=0,cut=1,drain=1,files=4,rounds=5" into f; names left out keep
// their value.
func ParseFaults(s string, f *Faults) error {
	names, vals, err := parseList(s)
	if err != nil {
		return err
	}
	out := *f
	for i, n := range names {
		v := vals[i]
		switch n[0] {
		case "every":
			out.Every = v
		case FaultKill:
			out.Kill = v
		case FaultFlip:
			out.Flip = v
		case FaultReplace:
			out.Replace = v
		case FaultCut:
			out.Cut = v
		case FaultDrain:
			out.Drain = v
		case FaultFail:
			out.Fail = v
		case "files":
			out.FlipFiles = v
		case "rounds":
			out.MinRounds = v
		default:
			return fmt.Errorf("%w: %q: faults are every, kill, flip, replace, cut, drain, fail, files, rounds", ErrConfig, n[1])
		}
	}
	*f = out
	return nil
}
