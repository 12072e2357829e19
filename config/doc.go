// Package config builds the distributor's effective configuration from four layers, each overriding
// the one before: built-in defaults (the reference relayer-distributor's), the JSON file
// distributor-config.json, environment variables of the same key names, and command-line flags.
// It validates the result once (types, hex keys, key-pair match, ranges, subscribers), reporting
// any problem as a one-line *Error that names the key and the source of the bad value, and it
// remembers which layer set every value so that `distributor config` can show it. Load is a pure
// function of its inputs and can be re-run for a SIGUSR1 reload; JSON and FromJSON carry the
// effective configuration to child processes.
package config
