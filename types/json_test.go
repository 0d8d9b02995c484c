package types

import (
	"math"
	"reflect"
	"testing"
)

func TestWithoutNonFinite(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name    string
		in, out any
		changed bool
	}{
		{"finite number", 1.5, 1.5, false},
		{"NaN", nan, nil, true},
		{"-Inf", math.Inf(-1), nil, true},
		{"float32 Inf", float32(math.Inf(1)), nil, true},
		{"map", map[string]any{"a": nan, "b": 2.0}, map[string]any{"a": nil, "b": 2.0}, true},
		{"nested", map[string]any{"l": []any{1.0, inf, map[string]any{"x": nan}}},
			map[string]any{"l": []any{1.0, nil, map[string]any{"x": nil}}}, true},
		{"list of maps keeps its type", []map[string]any{{"a": inf}, {"b": 1.0}},
			[]map[string]any{{"a": nil}, {"b": 1.0}}, true},
		{"list of floats", []float64{1, nan}, []any{1.0, nil}, true},
		{"untouched", map[string]any{"s": "x", "n": nil}, map[string]any{"s": "x", "n": nil}, false},
		{"strings", []string{"a"}, []string{"a"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, changed := WithoutNonFinite(c.in)
			if changed != c.changed || !reflect.DeepEqual(out, c.out) {
				t.Fatalf("WithoutNonFinite(%v) = %#v, %v; want %#v, %v", c.in, out, changed, c.out, c.changed)
			}
		})
	}
	in := map[string]any{"a": nan}
	WithoutNonFinite(in)
	if !math.IsNaN(in["a"].(float64)) {
		t.Fatal("the input map was modified")
	}
}
