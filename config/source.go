package config

// SourceKind says which layer set a value.
type SourceKind int

const (
	FromDefault SourceKind = iota // built-in default
	FromFile                      // the configuration file (Source.Path)
	FromEnv                       // an environment variable of the key's name
	FromFlag                      // a command-line flag (Source.Path holds the flag name as typed)
	FromParent                    // Config.JSON handed over by a parent process (FromJSON)
)

// Source is the provenance of one value.
type Source struct {
	Kind SourceKind
	Path string // the file for FromFile; the flag name for FromFlag
}

func (s Source) String() string {
	switch s.Kind {
	case FromFile:
		return s.Path
	case FromEnv:
		return "environment"
	case FromFlag:
		return "flag --" + s.Path
	case FromParent:
		return "parent process"
	default:
		return "default"
	}
}

// Label is the short form used in the provenance table: default, file PATH, env, flag --NAME.
func (s Source) Label() string {
	switch s.Kind {
	case FromFile:
		return "file " + s.Path
	case FromEnv:
		return "env"
	default:
		return s.String()
	}
}
