package ent

import "database/sql"

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

// ScanRow reads the current row of rows into a flow run bound to the
// client. The row's first len(lead) columns are scanned into lead; the
// rest are the flow_run columns named by columns (flowrun.Columns or a
// subset), as Ent's own queries read them. It lets a raw query that selects
// runs (dialects' work-pool poll) return entities in the same statement.
func (c *FlowRunClient) ScanRow(rows *sql.Rows, columns []string, lead ...any) (*FlowRun, error) {
	values, err := (*FlowRun)(nil).scanValues(columns)
	if err != nil {
		return nil, err
	}
	if err := rows.Scan(append(lead, values...)...); err != nil {
		return nil, err
	}
	run := &FlowRun{config: c.config}
	if err := run.assignValues(columns, values); err != nil {
		return nil, err
	}
	return run, nil
}
