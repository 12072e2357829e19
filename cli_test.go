package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/protocol"
)

// Keys of protocol/testdata/vectors.json.
const (
	distributorPub = "758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
	distributorSec = "3be00019f23847529bd63e41124864983175063bb524bd54ea3c155f2fa12969758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3"
	collectorPub   = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
	collectorSec   = "1111111111111111111111111111111111111111111111111111111111111111" + collectorPub
	strangerPub    = "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0"
	strangerSec    = "2222222222222222222222222222222222222222222222222222222222222222" + strangerPub
)

type vectors struct {
	Sign []struct {
		Name, Input, PublicKey, SecretKey, Signed string
	}
	Verify []struct {
		Name, Signed string
		Valid        bool
	}
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	data, err := os.ReadFile("protocol/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConfigErrorsExitTwo(t *testing.T) {
	badJSON := "{\n  \"DISTRIBUTOR_PORT\": 6100,\n}\n"
	for _, tc := range []struct {
		name string
		file string // ./distributor-config.json
		env  []string
		args []string
		want string // %s: the file's path
	}{
		{"env not a number", "", []string{"DISTRIBUTOR_PORT=abc"}, []string{"config"},
			`config: DISTRIBUTOR_PORT: "abc" from environment is not a number`},
		{"flag after command", "", nil, []string{"start", "--DISTRIBUTOR_PORT", "abc"},
			`config: DISTRIBUTOR_PORT: "abc" from flag --DISTRIBUTOR_PORT is not a number`},
		{"alias before command", "", nil, []string{"--port=70000", "config"},
			`config: DISTRIBUTOR_PORT: 70000 from flag --port is out of range (0 to 65535)`},
		{"secret does not match", `{"DISTRIBUTOR_SECRET_KEY": "` + strangerSec + `"}`, nil, []string{"config"},
			`config: DISTRIBUTOR_SECRET_KEY from %s does not match DISTRIBUTOR_PUBLIC_KEY from default`},
		{"sign with a mismatched secret", "", nil, []string{"sign", "--secret-key", strangerSec},
			`config: DISTRIBUTOR_SECRET_KEY from flag --secret-key does not match DISTRIBUTOR_PUBLIC_KEY from default`},
		{"hash key too short", "", nil, []string{"verify", "--hash-key", "abcd"},
			`config: DISTRIBUTOR_HASH_KEY: "abcd" from flag --hash-key is 2 bytes, want 32 (64 hex characters)`},
		{"max clients zero", `{"MAX_CLIENTS_PER_CHILD": 0}`, nil, []string{"start"},
			`config: MAX_CLIENTS_PER_CHILD: 0 from %s must be positive`},
		{"subscriber type", "", []string{`subscribers=[{"publicKey":"` + collectorPub + `","subscriptionType":"X"}]`}, []string{"config"},
			`config: subscribers[0].subscriptionType: "X" from environment is not one of FIREHOSE, ACCOUNTS`},
		{"subscriber key", `{"subscribers":[{"publicKey":"xyz","subscriptionType":"FIREHOSE"}]}`, nil, []string{"config"},
			`config: subscribers[0].publicKey: "xyz" from %s is not hex (want 64 hex characters)`},
		{"wrong type in file", `{"VERBOSE": 1}`, nil, []string{"config"},
			`config: VERBOSE: 1 from %s must be true or false, not a number`},
		{"invalid JSON", badJSON, nil, []string{"config"},
			`config: %s: line 3, column 1: invalid character '}' looking for beginning of object key string`},
		{"named file missing", "", nil, []string{"config", "--config", "nope.json"},
			`config: cannot read %d/nope.json: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want := strings.ReplaceAll(tc.want, "%d", dir)
			if tc.file != "" {
				want = strings.ReplaceAll(want, "%s", writeConfig(t, dir, "distributor-config.json", tc.file))
			}
			r := runner{dir: dir, env: tc.env}.run(t, tc.args...)
			wantOneLineError(t, r, 2, want)
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `distributor: unknown command "bogus" (see 'distributor help')`},
		{[]string{"config", "--nope"}, `distributor: flag provided but not defined: -nope (see 'distributor config --help')`},
		{[]string{"--nope", "config"}, `distributor: flag provided but not defined: -nope (see 'distributor --help')`},
		{[]string{"keygen", "extra"}, `distributor: keygen takes no arguments, got "extra" (see 'distributor keygen --help')`},
		{[]string{}, `distributor: no command given`},
		{[]string{"help", "bogus"}, `distributor: No help topic for 'bogus'`},
		{[]string{"config", "--port", "1", "--DISTRIBUTOR_PORT", "2"}, `distributor: --DISTRIBUTOR_PORT and --port set the same key DISTRIBUTOR_PORT; use one`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantOneLineError(t, runner{}.run(t, tc.args...), 2, tc.want)
		})
	}
}

func TestRuntimeErrorExitOne(t *testing.T) {
	// A line that cannot be read (a directory as stdin) is a runtime failure.
	cmd := runner{}.command(t, "sign")
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdin = f
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cmd.ProcessState.ExitCode() != 1 || !strings.HasPrefix(stderr.String(), "distributor: sign: reading line 1: ") {
		t.Errorf("exit %d (%v), stderr %q", cmd.ProcessState.ExitCode(), err, stderr.String())
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"start", "--help"}, {"keygen", "--help"}, {"sign", "--help"},
		{"verify", "--help"}, {"config", "--help"}, {"version", "--help"}, {"help", "sign"},
	} {
		r := runner{}.run(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "distributor") || r.stderr != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	r := runner{}.run(t, "start", "--help")
	if !strings.Contains(r.stdout, "--DISTRIBUTOR_PORT") || !strings.Contains(r.stdout, "--config") {
		t.Errorf("start --help lacks the configuration flags:\n%s", r.stdout)
	}
}

// configJSON runs `distributor config --json` and decodes it.
type configDoc struct {
	File     *string
	Config   map[string]any
	Sources  map[string]string
	Ignored  map[string]any
	Warnings []string
}

func runConfigJSON(t *testing.T, c runner, args ...string) configDoc {
	t.Helper()
	r := c.run(t, append([]string{"config", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("config --json: exit %d: %s", r.code, r.stderr)
	}
	var doc configDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("config --json output: %v\n%s", err, r.stdout)
	}
	return doc
}

func TestPrecedenceThroughCLI(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "distributor-config.json", `{"DISTRIBUTOR_PORT": 1001, "RATE_LIMIT": 5}`)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		port float64
		src  string
	}{
		{"file", nil, nil, 1001, "file " + path},
		{"env beats file", []string{"DISTRIBUTOR_PORT=2002"}, nil, 2002, "env"},
		{"flag beats env", []string{"DISTRIBUTOR_PORT=2002"}, []string{"--DISTRIBUTOR_PORT", "3003"}, 3003, "flag --DISTRIBUTOR_PORT"},
		{"alias", []string{"DISTRIBUTOR_PORT=2002"}, []string{"--port", "3004"}, 3004, "flag --port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := runConfigJSON(t, runner{dir: dir, env: tc.env}, tc.args...)
			if doc.Config["DISTRIBUTOR_PORT"] != tc.port || doc.Sources["DISTRIBUTOR_PORT"] != tc.src {
				t.Errorf("port %v from %q, want %v from %q", doc.Config["DISTRIBUTOR_PORT"], doc.Sources["DISTRIBUTOR_PORT"], tc.port, tc.src)
			}
			if doc.Config["RATE_LIMIT"] != 5.0 || doc.Sources["RATE_LIMIT"] != "file "+path {
				t.Errorf("RATE_LIMIT %v from %s", doc.Config["RATE_LIMIT"], doc.Sources["RATE_LIMIT"])
			}
		})
	}
	// The same flag before and after the command name: the one after wins.
	r := runner{dir: dir}.run(t, "--DISTRIBUTOR_PORT", "4000", "config", "--json", "--DISTRIBUTOR_PORT", "5000", "--VERBOSE")
	var doc configDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Config["DISTRIBUTOR_PORT"] != 5000.0 || doc.Config["VERBOSE"] != true {
		t.Errorf("before/after: %v %s %s", err, r.stdout, r.stderr)
	}
	// VERBOSE turns on debug logging.
	if !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("VERBOSE did not enable debug logs: %q", r.stderr)
	}
	if r := (runner{dir: dir}).run(t, "config"); strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("debug logs without VERBOSE: %q", r.stderr)
	}
}

func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "etc/d.json", `{
		"DATA_LOG_DIR": "logs", "DISTRIBUTOR_PUBLIC_KEY": "`+collectorPub+`", "DISTRIBUTOR_SECRET_KEY": "`+collectorSec+`",
		"NUMBER_OF_WORKERS": 3, "SOMETHING_ELSE": true}`)
	c := runner{dir: dir, env: []string{"ARCHIVER_DB_DIR=db"}}

	r := c.run(t, "config", "--config", "etc/d.json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"config file: " + path,
		"DISTRIBUTOR_SECRET_KEY", "<redacted>",
		"DATA_LOG_DIR", filepath.Join(dir, "etc/logs"), "file " + path,
		"ARCHIVER_DB_DIR", filepath.Join(dir, "db"), "env",
		"NUMBER_OF_WORKERS", "(ignored)",
		`warning: config: unknown key "SOMETHING_ELSE" in ` + path + ` is ignored`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, collectorSec) || strings.Contains(r.stdout+r.stderr, collectorSec[:64]) {
		t.Error("config printed the secret key")
	}
	if n := strings.Count(r.stderr, "SOMETHING_ELSE"); n != 1 {
		t.Errorf("unknown key logged %d times: %q", n, r.stderr)
	}

	doc := runConfigJSON(t, c, "--config", path)
	if doc.File == nil || *doc.File != path || doc.Config["DISTRIBUTOR_SECRET_KEY"] != "<redacted>" ||
		doc.Config["DISTRIBUTOR_PUBLIC_KEY"] != collectorPub || doc.Sources["DISTRIBUTOR_SECRET_KEY"] != "file "+path ||
		doc.Sources["DISTRIBUTOR_HASH_KEY"] != "default" || doc.Ignored["NUMBER_OF_WORKERS"] != 3.0 || len(doc.Warnings) != 1 {
		t.Errorf("config --json: %+v", doc)
	}

	// No file: the defaults, paths against the working directory.
	doc = runConfigJSON(t, runner{dir: dir})
	if doc.File != nil || doc.Config["ARCHIVER_DB_DIR"] != filepath.Join(dir, "archiverdb.sqlite3") {
		t.Errorf("defaults: %+v", doc)
	}
}

func TestShippedConfig(t *testing.T) {
	wd, _ := os.Getwd()
	doc := runConfigJSON(t, runner{dir: wd})
	if doc.File == nil || *doc.File != filepath.Join(wd, "distributor-config.json") || len(doc.Warnings) != 0 ||
		doc.Config["DISTRIBUTOR_PUBLIC_KEY"] != distributorPub || doc.Config["DATA_LOG_DIR"] != filepath.Join(wd, "testdata/data-logs") {
		t.Errorf("shipped config: %+v", doc)
	}
}

func TestKeygen(t *testing.T) {
	var pubs []string
	for range 2 {
		r := runner{}.run(t, "keygen")
		var kp struct{ PublicKey, SecretKey string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &kp) != nil || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("keygen: exit %d %q %q", r.code, r.stdout, r.stderr)
		}
		if _, err := protocol.ParseKeyPair(kp.PublicKey, kp.SecretKey); err != nil {
			t.Errorf("keygen pair does not parse: %v", err)
		}
		// The new pair works end to end: sign with it, verify the result.
		s := runner{stdin: `{"a":1}` + "\n"}.run(t, "sign", "--public-key", kp.PublicKey, "--secret-key", kp.SecretKey)
		v := runner{stdin: s.stdout}.run(t, "verify")
		if s.code != 0 || v.code != 0 || v.stdout != "ok\n" || !strings.Contains(s.stdout, kp.PublicKey) {
			t.Errorf("sign/verify with a generated key: %v %q / %v %q", s.code, s.stdout, v.code, v.stdout)
		}
		pubs = append(pubs, kp.PublicKey)
	}
	if pubs[0] == pubs[1] {
		t.Error("keygen made the same key twice")
	}
}

func TestSignVectors(t *testing.T) {
	v := loadVectors(t)
	var in, want strings.Builder
	for _, s := range v.Sign {
		if s.PublicKey != distributorPub || s.SecretKey != distributorSec {
			t.Fatalf("vector %q uses another key pair", s.Name)
		}
		in.WriteString(s.Input + "\n")
		want.WriteString(s.Signed + "\n")
	}
	r := runner{stdin: in.String()}.run(t, "sign") // no file: the default key pair is the test pair
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if r.stdout != want.String() {
		t.Errorf("signed output differs from the vectors:\n got %s\nwant %s", r.stdout, want.String())
	}
}

// An object the reference revives as a Buffer is signed as the official library signs it: the
// "sign" that signObj hangs on a Buffer does not survive safeStringify, so the line is the bytes.
func TestSignBufferShapedObject(t *testing.T) {
	r := runner{stdin: `{"data":[1,2,3],"type":"Buffer"}` + "\n" + `{"a":1}` + "\n"}.run(t, "sign")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	out := strings.Split(r.stdout, "\n")
	if len(out) != 3 || out[0] != `{"value":"AQID","dataType":"bb"}` || !strings.HasPrefix(out[1], `{"a":1,"sign":{"owner":"`) {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestSignReportsBadLinesAndContinues(t *testing.T) {
	in := "{\"a\":1}\n\nnot json\n[1,2]\r\n{\"b\":2}\r\n{\"c\":"
	r := runner{stdin: in}.run(t, "sign", "--public-key", collectorPub, "--secret-key", collectorSec)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	out := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(out) != 2 || !strings.HasPrefix(out[0], `{"a":1,"sign":{"owner":"`+collectorPub) || !strings.HasPrefix(out[1], `{"b":2,"sign":`) {
		t.Errorf("stdout: %q", r.stdout)
	}
	errs := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(errs) != 3 || !strings.HasPrefix(errs[0], "error: line 3: ") || !strings.HasPrefix(errs[1], "error: line 4: ") ||
		!strings.HasPrefix(errs[2], "error: line 6: ") {
		t.Errorf("stderr: %q", r.stderr)
	}
	v := runner{stdin: r.stdout}.run(t, "verify")
	if v.code != 0 || v.stdout != "ok\nok\n" {
		t.Errorf("verify of signed lines: %d %q %q", v.code, v.stdout, v.stderr)
	}
}

func TestSignLargeLine(t *testing.T) {
	big := strings.Repeat("x", 6<<20)
	in := `{"small":true}` + "\n" + `{"big":"` + big + `"}` + "\n" + `{"after":1}` + "\n"
	r := runner{stdin: in}.run(t, "sign")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], `{"big":"`+big+`","sign":{`) {
		t.Fatalf("exit %d, %d lines, stderr %q", r.code, len(lines), r.stderr)
	}
	v := runner{stdin: r.stdout}.run(t, "verify")
	if v.code != 0 || v.stdout != "ok\nok\nok\n" {
		t.Errorf("verify: %d %q %q", v.code, v.stdout, v.stderr)
	}
}

// sign answers each line as it arrives: the test reads the signature of line 1 before it
// writes line 2, which would block forever if the command buffered its output.
func TestSignStreams(t *testing.T) {
	cmd := runner{}.command(t, "sign")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for i := range 3 {
		if _, err := fmt.Fprintf(stdin, `{"n":%d}`+"\n", i); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, fmt.Sprintf(`{"n":%d,"sign":`, i)) {
				t.Fatalf("line %d: %q", i, l)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("no output for line %d while stdin stays open: sign does not stream", i)
		}
	}
	stdin.Close()
	if _, ok := <-lines; ok {
		t.Error("unexpected extra output")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("sign: %v", err)
	}
}

func TestVerifyVectors(t *testing.T) {
	v := loadVectors(t)
	var in, want strings.Builder
	for _, c := range v.Verify {
		if strings.Contains(c.Signed, "\n") {
			continue // a vector about whitespace on the wire: not one line
		}
		in.WriteString(c.Signed + "\n")
		if c.Valid {
			want.WriteString("ok\n")
		} else {
			want.WriteString("invalid\n")
		}
	}
	in.WriteString("{not json\n")
	want.WriteString("invalid\n")
	r := runner{stdin: in.String()}.run(t, "verify")
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (some lines are invalid)", r.code)
	}
	got := strings.Split(r.stdout, "\n")
	exp := strings.Split(want.String(), "\n")
	if len(got) != len(exp) {
		t.Fatalf("got %d lines, want %d: %q", len(got), len(exp), r.stdout)
	}
	for i := range exp {
		if exp[i] == "invalid" {
			if !strings.HasPrefix(got[i], "invalid: ") || len(got[i]) <= len("invalid: ") {
				t.Errorf("line %d: %q, want invalid: <reason>", i+1, got[i])
			}
		} else if got[i] != exp[i] {
			t.Errorf("line %d: %q, want %q", i+1, got[i], exp[i])
		}
	}
	// All valid: exit 0.
	ok := runner{stdin: v.Verify[0].Signed + "\n"}.run(t, "verify")
	if ok.code != 0 || ok.stdout != "ok\n" {
		t.Errorf("valid input: exit %d %q", ok.code, ok.stdout)
	}
}

func TestVersion(t *testing.T) {
	r := runner{}.run(t, "version", "--deps")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "distributor 9.8.7-test\ngo go1.") ||
		!strings.Contains(r.stdout, "dep github.com/urfave/cli/v2 v2.") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
	if r := (runner{}).run(t, "--version"); r.code != 0 || !strings.Contains(r.stdout, "9.8.7-test") {
		t.Errorf("--version: %d %q", r.code, r.stdout)
	}
}

func TestSignRefusesOversizedLineAndContinues(t *testing.T) {
	huge := `{"x":"` + strings.Repeat("y", maxLineBytes) + `"}`
	r := runner{stdin: huge + "\n" + `{"ok":1}` + "\n"}.run(t, "sign")
	if r.code != 1 || r.stderr != fmt.Sprintf("error: line 1: line longer than %d MiB\n", maxLineBytes>>20) ||
		!strings.HasPrefix(r.stdout, `{"ok":1,"sign":`) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("exit %d stderr %q stdout %.100q", r.code, r.stderr, r.stdout)
	}
}

// Reference configurations and scripts keep working: the keys we do not use are accepted from
// every layer without a warning.
func TestIgnoredKeysAccepted(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "distributor-config.json", `{"NUMBER_OF_WORKERS": 8, "DISTRIBUTOR_LOGS": "logs"}`)
	r := runner{dir: dir, env: []string{"distributorMode=MQ"}}.run(t, "config", "--json", "--MQ_DISTRIBUTOR_SERVER_PORT", "7")
	var doc configDoc
	if r.code != 0 || r.stderr != "" || json.Unmarshal([]byte(r.stdout), &doc) != nil {
		t.Fatalf("exit %d stderr %q stdout %q", r.code, r.stderr, r.stdout)
	}
	if doc.Ignored["NUMBER_OF_WORKERS"] != 8.0 || doc.Ignored["distributorMode"] != "MQ" ||
		doc.Ignored["MQ_DISTRIBUTOR_SERVER_PORT"] != "7" || doc.Sources["distributorMode"] != "env" || len(doc.Warnings) != 0 {
		t.Errorf("ignored keys: %+v", doc)
	}
}
