package http

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/jsontime"
)

// decode reads a JSON object into dst (a pointer to a struct) one field at a time, so
// every refusal names its field: malformed JSON is malformed-json; an unknown field, a
// field of the wrong type and a missing field tagged `required:"true"` (null counts as
// missing) are invalid-request.
func decode(c *fiber.Ctx, dst any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	return decodeJSON(c.BodyRaw(), dst)
}

// requireJSON refuses bodies of other types, which also keeps browsers from sending
// commands cross-site without a CORS preflight.
func requireJSON(c *fiber.Ctx) error {
	if !isJSON(c) {
		return errUnsupportedMedia
	}
	return nil
}

func decodeJSON(body []byte, dst any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return errMalformedJSON
	}
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	known := make(map[string]bool, t.NumField())
	var problems []fieldProblem
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		known[name] = true
		value, present := raw[name]
		if !present || bytes.Equal(bytes.TrimSpace(value), []byte("null")) {
			if f.Tag.Get("required") == "true" {
				problems = append(problems, fieldProblem{Field: name, Code: "required", Message: "is required"})
			}
			continue
		}
		if err := json.Unmarshal(value, v.Field(i).Addr().Interface()); err != nil {
			problems = append(problems, fieldProblem{Field: name, Code: "wrong-type", Message: "must be " + describe(f.Type)})
		}
	}
	var unknown []string
	for name := range raw {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		problems = append(problems, fieldProblem{Field: name, Code: "unknown-field", Message: "is not a field of this request"})
	}
	if len(problems) > 0 {
		return invalidFields(problems)
	}
	return nil
}

// isTime is true for the API's time and for the plain one the /legacy group reads.
func isTime(t reflect.Type) bool {
	return t == reflect.TypeFor[jsontime.Time]() || t == reflect.TypeFor[time.Time]()
}

// jsonName is the field's JSON key, "" for fields JSON ignores.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// describe says what JSON a Go type takes, for error messages.
func describe(t reflect.Type) string {
	switch {
	case isTime(t):
		return "an RFC 3339 time such as 2026-12-01T18:00:00.000Z"
	case t.Kind() == reflect.Pointer:
		return describe(t.Elem())
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	case t.Kind() == reflect.Map:
		return "an object of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	}
	return "an object"
}
