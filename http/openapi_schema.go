package http

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

var (
	uuidType = reflect.TypeFor[uuid.UUID]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// enums are the domain's closed lists, named by the enum tag of a field (of a list's
// items for a list field), so the document's enums are the very lists Parse accepts.
var enums = map[string]func() []string{
	"role":              domain.Roles,
	"interview-role":    domain.InterviewRoles,
	"profession":        domain.ProfessionSlugs,
	"experience":        domain.Experiences,
	"entry-status":      domain.EntryStatuses,
	"interview-status":  domain.InterviewStatuses,
	"notification-kind": domain.NotificationKinds,
	"language":          func() []string { return texts(domain.Languages()) },
	"country":           func() []string { return texts(domain.Countries()) },
}

// fieldLimits are the bounds the domain sets on request fields, by schema and field.
var fieldLimits = map[string]map[string]any{
	"feedbackRequest.rating": {"minimum": domain.MinRating, "maximum": domain.MaxRating},
	"feedbackRequest.skills": {"maxProperties": domain.MaxSkills, "additionalProperties": map[string]any{
		"type": "integer", "minimum": domain.MinRating, "maximum": domain.MaxRating}},
	"feedbackRequest.comment":        {"maxLength": domain.MaxCommentLength},
	"cancelRequest.reason":           {"maxLength": domain.MaxReasonLength},
	"professionsRequest.professions": {"minItems": 1},
	"formRequest.tools":              {"maxItems": domain.MaxTools, "items": map[string]any{"type": "string", "maxLength": domain.MaxToolLength}},
	"profileRequest.first_name":      {"minLength": 1, "maxLength": domain.MaxNameLength},
	"profileRequest.last_name":       {"maxLength": domain.MaxNameLength},
	"devLoginRequest.telegram_id":    {"minimum": 1},
}

func texts[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// schemas turns the request and response types into OpenAPI schemas, so the document
// describes the very structs the handlers encode and decode.
type schemas map[string]any

// ref returns the schema of a value's type, registering named structs under
// components/schemas.
func (s schemas) ref(v any) map[string]any {
	return s.of(reflect.TypeOf(v))
}

func (s schemas) of(t reflect.Type) map[string]any {
	switch {
	case isTime(t):
		return map[string]any{"type": "string", "format": "date-time", "example": "2026-12-01T18:00:00.000Z",
			"description": "RFC 3339, UTC, milliseconds"}
	case t == uuidType:
		return map[string]any{"type": "string", "format": "uuid", "example": "01a232fb-d239-7f2e-b9dd-ab58994c00b2"}
	case t == reflect.TypeFor[widgetNumber]():
		return map[string]any{"oneOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "string", "pattern": "^[0-9]+$"}}}
	case t == rawType, t.Kind() == reflect.Interface:
		return map[string]any{"description": "any JSON value", "nullable": true}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := s.of(t.Elem())
		if _, isRef := inner["$ref"]; isRef {
			return map[string]any{"oneOf": []any{inner}, "nullable": true}
		}
		out := map[string]any{"nullable": true}
		for k, v := range inner {
			out[k] = v
		}
		return out
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Struct:
		name := t.Name()
		if _, done := s[name]; !done {
			s[name] = nil // a placeholder stops recursion
			s[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object is a struct's schema: embedded structs are flattened as encoding/json does;
// request fields tagged required and response fields without omitempty are required.
func (s schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			name := jsonName(f)
			if name == "" {
				continue
			}
			props[name] = s.field(t.Name(), name, f)
			_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Tag.Get("required") == "true" || (!isRequest(t) && !strings.Contains(opts, "omitempty")) {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	// A request takes no other field; the id-only answer of a keyed command is closed
	// too, so that it and the resource it names are told apart (oneOf).
	if isRequest(t) && t.Name() != "widgetRequest" || t == reflect.TypeFor[acceptedResponse]() {
		out["additionalProperties"] = false
	}
	return out
}

// field is one property's schema, with its enum, limits and description.
func (s schemas) field(typeName, name string, f reflect.StructField) map[string]any {
	schema := s.of(f.Type)
	if e := f.Tag.Get("enum"); e != "" {
		ref := s.enum(typeName, name, e)
		if f.Type.Kind() != reflect.Slice {
			return ref
		}
		schema = map[string]any{"type": "array", "items": ref}
	}
	if _, isRef := schema["$ref"]; isRef {
		return schema // a reference takes no other keywords in OpenAPI 3.0
	}
	out := make(map[string]any, len(schema)+2)
	for k, v := range schema {
		out[k] = v
	}
	for k, v := range fieldLimits[typeName+"."+name] {
		out[k] = v
	}
	if d := f.Tag.Get("doc"); d != "" {
		out["description"] = d
	}
	return out
}

// enum registers a closed list as a named schema (interview-role is InterviewRole),
// so a client generator makes one type of it.
func (s schemas) enum(typeName, field, name string) map[string]any {
	list, ok := enums[name]
	if !ok {
		panic(fmt.Sprintf("openapi: %s.%s names no enum %q", typeName, field, name))
	}
	var schemaName string
	for _, part := range strings.Split(name, "-") {
		schemaName += strings.ToUpper(part[:1]) + part[1:]
	}
	s[schemaName] = map[string]any{"type": "string", "enum": list()}
	return map[string]any{"$ref": "#/components/schemas/" + schemaName}
}

func isRequest(t reflect.Type) bool { return strings.HasSuffix(t.Name(), "Request") }
