package ent

// This file is written by hand, not generated: it lets dbiface return
// entities whose rows it wrote or read with raw SQL (dialects' query
// components) as if Ent had loaded them.

// Bind attaches s to the client's configuration (driver, hooks,
// interceptors), as the entities the client's own queries return are, so
// that s's edge queries (QueryFlowRun, ...) run through the client, inside
// its transaction if it has one. It returns s.
func (c *FlowRunStateClient) Bind(s *FlowRunState) *FlowRunState {
	s.config = c.config
	return s
}

// NewNotFoundError returns the error the client's queries return when no
// entity of the label (e.g. flowrun.Label) matches, for raw-SQL paths that
// find nothing: IsNotFound reports true for it.
func NewNotFoundError(label string) *NotFoundError {
	return &NotFoundError{label: label}
}
