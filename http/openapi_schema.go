package http

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/google/uuid"
)

var (
	uuidType = reflect.TypeFor[uuid.UUID]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

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
		return map[string]any{"type": "string", "format": "date-time", "example": "2026-12-01T18:00:00.000Z"}
	case t == uuidType:
		return map[string]any{"type": "string", "format": "uuid"}
	case t == rawType:
		return map[string]any{"description": "any JSON value"}
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
			props[name] = s.of(f.Type)
			_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Tag.Get("required") == "true" || (!strings.HasSuffix(t.Name(), "Request") && !strings.Contains(opts, "omitempty")) {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	if strings.HasSuffix(t.Name(), "Request") && t.Name() != "widgetRequest" {
		out["additionalProperties"] = false
	}
	return out
}
