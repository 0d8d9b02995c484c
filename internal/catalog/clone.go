package catalog

import "encoding/json"

// Clone returns a deep copy of the schema.
func (s *Schema) Clone() *Schema {
	b, err := json.Marshal(s)
	if err != nil {
		panic("catalog: clone: " + err.Error()) // the model holds only plain data
	}
	out := &Schema{}
	if err := json.Unmarshal(b, out); err != nil {
		panic("catalog: clone: " + err.Error())
	}
	return out
}
