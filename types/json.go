package types

import "math"

// WithoutNonFinite returns v with every NaN, +Inf and -Inf inside the JSON
// shapes Go code builds (numbers, maps, lists of any, lists of maps, lists
// of floats) replaced by nil, and whether anything changed. Maps and lists
// of maps keep their types; other changed lists become []any. v itself is not
// modified: changed containers are copies. Prefect stores such numbers as
// JSON null on both databases (JSON cannot hold them).
func WithoutNonFinite(v any) (any, bool) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, true
		}
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if c, changed := WithoutNonFinite(e); changed {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = c
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		return finiteList(x, func(e any) any { return e })
	case []float64:
		return finiteList(x, func(e float64) any { return e })
	case []map[string]any:
		// The elements stay maps, so the list keeps its type.
		var out []map[string]any
		for i, e := range x {
			if c, changed := WithoutNonFinite(e); changed {
				if out == nil {
					out = append([]map[string]any(nil), x...)
				}
				out[i] = c.(map[string]any)
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// finiteList applies WithoutNonFinite to every element; a changed list is
// returned as []any.
func finiteList[E any](x []E, box func(E) any) (any, bool) {
	var out []any
	for i, e := range x {
		if c, changed := WithoutNonFinite(box(e)); changed {
			if out == nil {
				out = make([]any, len(x))
				for j, e2 := range x {
					out[j] = box(e2)
				}
			}
			out[i] = c
		}
	}
	if out != nil {
		return out, true
	}
	return x, false
}
