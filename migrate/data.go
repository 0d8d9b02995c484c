package migrate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
)

// dataStep moves rows in Go where SQL cannot say what Prefect's migration
// does. It runs in the migration's transaction, before the file's statements.
type dataStep func(ctx context.Context, d dialects.Migratable, tx dialects.MigrationTx) error

// dataSteps are keyed by the Alembic revision they belong to.
var dataSteps = map[string]dataStep{
	"4160a4841eed": notificationPoliciesToAutomations, // PostgreSQL
	"7655f31c5157": notificationPoliciesToAutomations, // SQLite
}

// notificationDefaultBody is the body Prefect's migration gives a policy
// without a message template.
const notificationDefaultBody = "\nFlow run {{ flow.name }}/{{ flow_run.name }} observed in state `{{ flow_run.state.name }}` at {{ flow_run.state.timestamp }}.\n" +
	"Flow ID: {{ flow_run.flow_id }}\n" +
	"Flow run ID: {{ flow_run.id }}\n" +
	"Flow run URL: {{ flow_run|ui_url }}\n" +
	"State message: {{ flow_run.state.message }}\n"

// notificationPlaceholders maps the placeholders of a policy's message
// template to the Jinja expressions of an automation's notification.
var notificationPlaceholders = map[string]string{
	"flow_run_notification_policy_id": "Event ID {{ event.id }}",
	"flow_id":                         "{{ flow.id }}",
	"flow_name":                       "{{ flow.name }}",
	"flow_run_url":                    "{{ flow_run|ui_url }}",
	"flow_run_id":                     "{{ flow_run.id }}",
	"flow_run_name":                   "{{ flow_run.name }}",
	"flow_run_parameters":             "{{ flow_run.parameters }}",
	"flow_run_state_type":             "{{ flow_run.state.type }}",
	"flow_run_state_name":             "{{ flow_run.state.name }}",
	"flow_run_state_timestamp":        "{{ flow_run.state.timestamp }}",
	"flow_run_state_message":          "{{ flow_run.state.message }}",
}

type notificationPolicy struct {
	id, blockDocumentID string
	active              bool
	stateNames, tags    []string
	template            sql.NullString
}

// notificationPoliciesToAutomations is the data half of Prefect's "remove
// flow run notifications" revision: every flow run notification policy
// becomes an automation named "Flow Run State Change Notification" with an
// event trigger on the policy's states and tags and a send-notification
// action to the policy's block, and the policy row is deleted. The trigger
// and actions are written as Prefect's json.dumps writes them.
func notificationPoliciesToAutomations(ctx context.Context, d dialects.Migratable, tx dialects.MigrationTx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, is_active, state_names, tags, message_template, block_document_id FROM flow_run_notification_policy ORDER BY created, id")
	if err != nil {
		return fmt.Errorf("read flow run notification policies: %w", err)
	}
	var policies []notificationPolicy
	for rows.Next() {
		var (
			p                  notificationPolicy
			id, block          any
			active             any
			stateNames, tagsJS any
		)
		if err := rows.Scan(&id, &active, &stateNames, &tagsJS, &p.template, &block); err != nil {
			rows.Close()
			return fmt.Errorf("read flow run notification policies: %w", err)
		}
		p.id, p.blockDocumentID = textOf(id), textOf(block)
		p.active = truthy(active)
		if err := json.Unmarshal([]byte(textOf(stateNames)), &p.stateNames); err != nil {
			rows.Close()
			return fmt.Errorf("flow run notification policy %s: state_names is not a list of strings: %w", p.id, err)
		}
		if err := json.Unmarshal([]byte(textOf(tagsJS)), &p.tags); err != nil {
			rows.Close()
			return fmt.Errorf("flow run notification policy %s: tags is not a list of strings: %w", p.id, err)
		}
		policies = append(policies, p)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("read flow run notification policies: %w", err)
	}
	b := entsql.Dialect(d.EntDialect())
	for _, p := range policies {
		trigger, actions, err := policyAutomation(p, uuid.New())
		if err != nil {
			return fmt.Errorf("flow run notification policy %s: %w", p.id, err)
		}
		query, args := b.Insert("automation").Columns("name", "description", "enabled", "trigger", "actions").
			Values("Flow Run State Change Notification", "Migrated from a flow run notification policy", p.active, trigger, actions).Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("flow run notification policy %s: insert automation: %w", p.id, err)
		}
		query, args = b.Delete("flow_run_notification_policy").Where(entsql.EQ("id", p.id)).Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("flow run notification policy %s: delete: %w", p.id, err)
		}
	}
	return nil
}

// policyAutomation returns the trigger and actions of the automation that
// replaces a policy, as JSON text in the form of Python's json.dumps.
func policyAutomation(p notificationPolicy, triggerID uuid.UUID) (trigger, actions string, err error) {
	expect := []any{"prefect.flow-run.*"}
	if len(p.stateNames) > 0 {
		// Prefect builds a set; its order varies from run to run. prefectdb
		// keeps the policy's order, without duplicates.
		expect = expect[:0]
		seen := map[string]bool{}
		for _, s := range p.stateNames {
			if !seen[s] {
				seen[s] = true
				expect = append(expect, "prefect.flow-run."+s)
			}
		}
	}
	matchRelated := pyObject{}
	if len(p.tags) > 0 {
		ids := make([]any, len(p.tags))
		for i, t := range p.tags {
			ids[i] = "prefect.tag." + t
		}
		matchRelated = pyObject{{"prefect.resource.id", ids}, {"prefect.resource.role", "tag"}}
	}
	trig := pyObject{
		{"id", triggerID.String()},
		{"type", "event"},
		{"after", []any{}},
		{"match", pyObject{{"prefect.resource.id", "prefect.flow-run.*"}}},
		{"expect", expect},
		{"within", 10},
		{"posture", "Reactive"},
		{"for_each", []any{"prefect.resource.id"}},
		{"threshold", 1},
		{"match_related", matchRelated},
	}
	body := notificationDefaultBody
	if p.template.Valid && p.template.String != "" {
		if body, err = pythonFormat(p.template.String, notificationPlaceholders); err != nil {
			return "", "", fmt.Errorf("message template: %w", err)
		}
	}
	act := []any{pyObject{
		{"body", body},
		{"type", "send-notification"},
		{"subject", "Prefect flow run notification"},
		{"block_document_id", p.blockDocumentID},
	}}
	return pyJSON(trig), pyJSON(act), nil
}

// pythonFormat is Python's str.format(**values) for templates whose fields
// are plain names: "{{" and "}}" are literal braces and "{name}" is
// replaced. A field Python would reject (an unknown name, a lone brace) is an
// error, as it is for Prefect's migration; so is a conversion or format spec,
// which no placeholder of a notification policy needs.
func pythonFormat(template string, values map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case c == '{' && i+1 < len(template) && template[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(template) && template[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(template[i:], '}')
			if end < 0 {
				return "", errors.New("single '{' encountered in format string")
			}
			field := template[i+1 : i+end]
			if strings.ContainsAny(field, "!:.[{") {
				return "", fmt.Errorf("unsupported replacement field {%s}", field)
			}
			v, ok := values[field]
			if !ok {
				return "", fmt.Errorf("unknown placeholder {%s}", field)
			}
			b.WriteString(v)
			i += end
		case c == '}':
			return "", errors.New("single '}' encountered in format string")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// pyObject is a JSON object whose keys keep their order, as a Python dict's do.
type pyObject []pyField

type pyField struct {
	key   string
	value any
}

// pyJSON encodes v as Python's json.dumps does by default: ", " and ": "
// separators, and every non-ASCII character escaped.
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) {
	switch v := v.(type) {
	case pyObject:
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, f.key)
			b.WriteString(": ")
			writePyJSON(b, f.value)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, e)
		}
		b.WriteByte(']')
	case string:
		writePyString(b, v)
	case int:
		fmt.Fprintf(b, "%d", v)
	case bool:
		fmt.Fprintf(b, "%t", v)
	case nil:
		b.WriteString("null")
	default:
		panic(fmt.Sprintf("pyJSON: unsupported %T", v))
	}
}

func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7f && r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// textOf returns a scanned value as text: drivers return UUIDs and JSON as
// strings or bytes.
func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case [16]byte:
		return uuid.UUID(v).String()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// truthy reads a scanned boolean: PostgreSQL's bool, SQLite's 0/1.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case int64:
		return v != 0
	case string:
		return v == "1" || strings.EqualFold(v, "true")
	case []byte:
		return string(v) == "1" || strings.EqualFold(string(v), "true")
	}
	return false
}
