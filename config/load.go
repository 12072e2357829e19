package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// LoadOptions are the inputs of Load. The zero value reads ./distributor-config.json if it
// exists, the process environment, and no flags.
type LoadOptions struct {
	// Path is the file named with --config; reading it must succeed. "" means DefaultFile in
	// Dir, which may be absent (then the defaults apply, as with the reference).
	Path string
	// Dir is the working directory: where DefaultFile is looked for, and what a relative Path
	// and relative paths from the environment and flags resolve against. "" means os.Getwd().
	Dir string
	// Env looks up an environment variable; nil means os.LookupEnv. An empty value counts as
	// unset, as with the reference.
	Env func(key string) (string, bool)
	// Flags are the command-line values, applied in order (a later one wins).
	Flags []FlagValue
	// Logger receives warnings (each logged once per process); nil means slog.Default().
	Logger *slog.Logger
}

// FlagValue is one key set on the command line, as the raw text typed there.
type FlagValue struct {
	Key   string // the key, e.g. "DISTRIBUTOR_PORT"
	Name  string // the flag as typed, without dashes (an alias such as "port"); "" means Key
	Value string // booleans: "true" or "false"; objects and arrays: JSON
}

// Load builds and validates the effective configuration. Every error is a *Error.
func Load(o LoadOptions) (*Config, error) {
	dir := o.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, &Error{Msg: "cannot determine the working directory: " + err.Error(), Err: err}
		}
		dir = wd
	}
	dir, _ = filepath.Abs(dir)
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	st := newState(dir, log)

	path, data, err := readFile(o.Path, dir)
	if err != nil {
		return nil, err
	}
	if path != "" {
		st.baseDir = filepath.Dir(path)
		src := Source{Kind: FromFile, Path: path}
		obj, err := decodeFile(data, path)
		if err != nil {
			return nil, err
		}
		if err := st.applyObject(obj, src); err != nil {
			return nil, err
		}
	}

	env := o.Env
	if env == nil {
		env = os.LookupEnv
	}
	for _, k := range Keys {
		if v, ok := env(k.Name); ok && v != "" {
			if err := st.applyString(k, v, Source{Kind: FromEnv}); err != nil {
				return nil, err
			}
		}
	}

	for _, f := range o.Flags {
		k, ok := keyInfo(f.Key)
		if !ok {
			return nil, &Error{Key: f.Key, Source: Source{Kind: FromFlag, Path: f.Key}, Msg: fmt.Sprintf("--%s is not a configuration key", f.Key)}
		}
		name := f.Name
		if name == "" {
			name = f.Key
		}
		if err := st.applyString(k, f.Value, Source{Kind: FromFlag, Path: name}); err != nil {
			return nil, err
		}
	}

	cfg, err := st.build()
	if err != nil {
		return nil, err
	}
	cfg.Path = path
	return cfg, nil
}

// readFile returns the absolute path and contents of the configuration file, or "" and nil when
// the default file is absent.
func readFile(explicit, dir string) (string, []byte, error) {
	path := explicit
	if path == "" {
		path = DefaultFile
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	data, err := os.ReadFile(path)
	if err == nil {
		return path, data, nil
	}
	if explicit == "" && errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	reason := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		reason = pe.Err.Error()
	}
	return "", nil, &Error{Source: Source{Kind: FromFile, Path: path}, Msg: fmt.Sprintf("cannot read %s: %s", path, reason), Err: err}
}

// decodeFile parses the file as one JSON object; errors carry line and column.
func decodeFile(data []byte, path string) (map[string]any, error) {
	src := Source{Kind: FromFile, Path: path}
	obj, err := decodeObject(data)
	if err != nil {
		return nil, &Error{Source: src, Msg: fmt.Sprintf("%s: %s", path, describeJSONError(data, err)), Err: err}
	}
	return obj, nil
}

var errNotObject = errors.New("not a JSON object")

// decodeObject parses exactly one JSON object, numbers kept as json.Number.
func decodeObject(data []byte) (map[string]any, error) {
	v, err := decodeValue(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the top level is %s", errNotObject, jsonType(v))
	}
	return obj, nil
}

func decodeValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	end := dec.InputOffset()
	if i := bytes.IndexFunc(data[end:], func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 {
		return nil, &trailingError{offset: end + int64(i) + 1}
	}
	return v, nil
}

type trailingError struct{ offset int64 }

func (e *trailingError) Error() string { return "unexpected data after the JSON value" }

// describeJSONError turns a decoding error into "line L, column C: reason" where possible.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var tr *trailingError
	switch {
	case errors.As(err, &syn):
		return position(data, syn.Offset) + ": " + syn.Error()
	case errors.As(err, &tr):
		return position(data, tr.offset) + ": " + tr.Error()
	case errors.Is(err, errNotObject):
		return err.Error()
	case errors.Is(err, io.EOF):
		return "empty file, want a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return position(data, int64(len(data))) + ": unexpected end of JSON input"
	}
	return err.Error()
}

// position is the 1-based line and column of the byte before offset (where the decoder stopped).
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	end := int(offset)
	if end > 0 {
		end-- // the decoder reports the offset after the offending byte
	}
	line, col := 1, 1
	for _, b := range data[:end] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
