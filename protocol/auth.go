package protocol

import (
	"errors"
	"math"
	"time"
)

// Subscriber is one entry of the subscriber list (distributor-config.json "subscribers").
type Subscriber struct {
	PublicKey           string `json:"publicKey"`
	ExpirationTimestamp int64  `json:"expirationTimestamp"` // Unix milliseconds; 0 never expires
	SubscriptionType    string `json:"subscriptionType"`
}

// SubscriberMap indexes subscribers by public key (a later duplicate wins).
func SubscriberMap(list []Subscriber) map[string]Subscriber {
	m := make(map[string]Subscriber, len(list))
	for _, s := range list {
		m[s.PublicKey] = s
	}
	return m
}

// Field is one entry of a request schema. Type holds one or more type codes: "s" string,
// "n" number, "o" object (not array; null and Buffers count as objects, as typeof says), "a"
// array, "b" boolean, "B" bigint. A trailing "?" in Type is the same as Optional.
type Field struct {
	Name     string
	Type     string
	Optional bool
}

// Schema is an ordered list of fields; validation reports the first failure in this order.
type Schema []Field

// Has reports whether the schema has a field called name.
func (s Schema) Has(name string) bool {
	for _, f := range s {
		if f.Name == name {
			return true
		}
	}
	return false
}

// HandshakeSchema is the schema of the WebSocket subscription's data object.
var HandshakeSchema = Schema{
	{Name: "collectorInfo", Type: "o"},
	{Name: "sender", Type: "s"},
	{Name: "sign", Type: "o"},
}

var (
	signSchema          = Schema{{Name: "owner", Type: "s"}, {Name: "sig", Type: "s"}}
	collectorInfoSchema = Schema{{Name: "subscriptionType", Type: "s"}, {Name: "timestamp", Type: "n"}}
)

// Undefined stands for JavaScript's undefined where a value is absent altogether (a POST
// without a body). A nil body is JSON null.
var Undefined = undefinedValue{}

type undefinedValue struct{}

// Reference error texts of validateRequestData.
const (
	ErrTextInvalidData       = "Invalid request data "
	ErrTextInvalidSignShape  = "Invalid request data signature "
	ErrTextOwnerMismatch     = "Data sender publicKey and sign owner key does not match"
	ErrTextNotSubscriber     = "Data request sender is not a subscriber"
	ErrTextExpired           = "Subscriber subscription expired"
	ErrTextInvalidCollector  = "Invalid collectorInfo "
	ErrTextInvalidSubType    = "Invalid subscriptionType"
	ErrTextInvalidTimestamp  = "Invalid timestamp"
	ErrTextInvalidSignature  = "Invalid signature"
	ErrTextValidationFailure = "Error validating request data"
)

// TimestampWindow is how far a handshake's collectorInfo.timestamp may be from now.
const TimestampWindow = 30 * time.Second

// Auth authenticates signed request bodies and WebSocket handshakes. The zero value accepts any
// correctly signed body (no subscriber list) under the zero hash key.
type Auth struct {
	HashKey                HashKey
	LimitToSubscribersOnly bool
	Subscribers            map[string]Subscriber
	Now                    func() time.Time // nil: time.Now
}

// Validate is the reference validateRequestData(body, schema): "" when body is authentic, else
// the reference's error text. body is a Parse result (or Undefined).
func (a Auth) Validate(body any, schema Schema) string {
	if msg := ValidateTypes(body, schema); msg != "" {
		return ErrTextInvalidData + msg
	}
	sign := get(body, "sign")
	if msg := ValidateTypes(sign, signSchema); msg != "" {
		return ErrTextInvalidSignShape + msg
	}
	owner := sign.(map[string]any)["owner"].(string)
	if sender, ok := field(body, "sender"); !ok || sender != any(owner) {
		return ErrTextOwnerMismatch
	}
	if a.LimitToSubscribersOnly {
		sub, ok := a.Subscribers[owner]
		if !ok {
			return ErrTextNotSubscriber
		}
		now := a.now().UnixMilli()
		// The reference has this comparison the wrong way round (rest-api.md §9.1).
		if sub.ExpirationTimestamp != 0 && sub.ExpirationTimestamp < now {
			return ErrTextExpired
		}
		if schema.Has("collectorInfo") {
			ci := get(body, "collectorInfo")
			if msg := ValidateTypes(ci, collectorInfoSchema); msg != "" {
				return ErrTextInvalidCollector + msg
			}
			info := ci.(map[string]any)
			if info["subscriptionType"] != any(sub.SubscriptionType) {
				return ErrTextInvalidSubType
			}
			ts := numberOf(info["timestamp"])
			// Intended check, both directions; 0 does not bypass it (see doc.go).
			if math.IsNaN(ts) || math.Abs(float64(now)-ts) > float64(TimestampWindow.Milliseconds()) {
				return ErrTextInvalidTimestamp
			}
		}
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return ErrTextValidationFailure
	}
	if err := Verify(a.HashKey, obj); err != nil {
		if errors.Is(err, ErrSignatureMismatch) {
			return ErrTextInvalidSignature
		}
		return ErrTextValidationFailure
	}
	return ""
}

func (a Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// get is body[name] in JavaScript: Undefined when absent or when body is not an object.
func get(body any, name string) any {
	if v, ok := field(body, name); ok {
		return v
	}
	return Undefined
}

// field returns body[name] and whether it is defined.
func field(body any, name string) (any, bool) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[name]
	return v, ok
}

func numberOf(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return math.NaN()
}

// ValidateTypes is the reference validateTypes(input, schema): "" or the first failure, e.g.
// "count must be, number" (sic: the comma is the reference's).
func ValidateTypes(input any, schema Schema) string {
	switch input.(type) {
	case undefinedValue:
		return "input is undefined"
	case nil:
		return "input is null"
	}
	if t := typeOf(input); t != "object" {
		return "input must be object, not " + t
	}
	for _, f := range schema {
		types, opt := f.Type, f.Optional
		if len(types) > 0 && types[len(types)-1] == '?' {
			types, opt = types[:len(types)-1], true
		}
		v, defined := field(input, f.Name)
		if _, u := v.(undefinedValue); u {
			defined = false
		}
		if !defined {
			if !opt {
				return f.Name + " is required"
			}
			continue
		}
		if v == nil && !opt {
			return f.Name + " cannot be null"
		}
		code := typeCode(v)
		found := false
		be := ""
		for i := 0; i < len(types); i++ {
			if code == types[i] {
				found = true
				break
			}
			be = ", " + typeWords[types[i]]
		}
		if !found {
			return f.Name + " must be" + be
		}
	}
	return ""
}

var typeWords = map[byte]string{
	's': "string", 'n': "number", 'b': "boolean", 'B': "bigint", 'a': "array", 'o': "object",
}

// typeOf is JavaScript's typeof for a Parse value.
func typeOf(v any) string {
	switch v.(type) {
	case undefinedValue:
		return "undefined"
	case string:
		return "string"
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		return "number"
	case bool:
		return "boolean"
	case BigInt, *BigInt:
		return "bigint"
	}
	return "object" // null, arrays, objects, Buffers
}

// typeCode is the schema code of v: typeof mapped to a letter, with arrays as "a".
func typeCode(v any) byte {
	switch v.(type) {
	case []any, []string, []map[string]any:
		return 'a'
	}
	switch typeOf(v) {
	case "string":
		return 's'
	case "number":
		return 'n'
	case "boolean":
		return 'b'
	case "bigint":
		return 'B'
	}
	return 'o'
}
