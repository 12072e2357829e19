package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/protocol"
)

func TestDefaultsWithoutFile(t *testing.T) {
	dir := t.TempDir()
	c := mustLoad(t, config.LoadOptions{Dir: dir}, nil)
	if c.Path != "" {
		t.Errorf("Path = %q, want none", c.Path)
	}
	if c.DistributorIP != "localhost" || c.DistributorPort != 6100 || c.RateLimit != 100 ||
		c.FileStreamIntervalMS != 100 || c.MaxClientsPerChild != 50 || c.ClientQueueFrames != 16384 ||
		c.Verbose || c.LimitToSubscribersOnly || len(c.Subscribers) != 0 || c.Subscribers == nil {
		t.Errorf("defaults wrong: %+v", c)
	}
	if c.HashKeyHex != config.DefaultHashKey || c.PublicKey != distributorPub || c.Keys.PublicHex != distributorPub {
		t.Errorf("keys: hash %s public %s keypair %s", c.HashKeyHex, c.PublicKey, c.Keys.PublicHex)
	}
	if c.ArchiverDBDir != filepath.Join(dir, "archiverdb.sqlite3") {
		t.Errorf("ArchiverDBDir = %s", c.ArchiverDBDir)
	}
	if c.DataLogDir != filepath.Join(dir, "../../../collector/data-logs") {
		t.Errorf("DataLogDir = %s", c.DataLogDir)
	}
	if c.ArchiverData != config.DefaultArchiverData {
		t.Errorf("ArchiverData = %+v", c.ArchiverData)
	}
	for _, s := range c.Settings() {
		if s.Source.Kind != config.FromDefault {
			t.Errorf("%s from %v, want default", s.Key, s.Source)
		}
	}
	if got := c.Ignored[config.KeyNumberOfWorkers]; got != int64(5) {
		t.Errorf("NUMBER_OF_WORKERS kept as %v", got)
	}
}

func TestShippedFile(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, config.LoadOptions{Dir: root}, nil)
	if c.Path != filepath.Join(root, config.DefaultFile) {
		t.Fatalf("Path = %q", c.Path)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	want := []protocol.Subscriber{{PublicKey: collectorPub, ExpirationTimestamp: 0, SubscriptionType: "FIREHOSE"}}
	if !reflect.DeepEqual(c.Subscribers, want) || c.LimitToSubscribersOnly || c.DistributorPort != 6100 || c.DistributorIP != "0.0.0.0" {
		t.Errorf("shipped file: %+v", c)
	}
	if c.PublicKey != distributorPub {
		t.Errorf("public key %s", c.PublicKey)
	}
	if c.DataLogDir != filepath.Join(root, "testdata/data-logs") || c.ArchiverDBDir != filepath.Join(root, "testdata/archiver-db") {
		t.Errorf("dirs %s %s", c.DataLogDir, c.ArchiverDBDir)
	}
	if got := c.DBPath("receiptDB"); got != filepath.Join(root, "testdata/archiver-db/receipts.sqlite3") {
		t.Errorf("DBPath(receiptDB) = %s", got)
	}
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "distributor-config.json", `{"DISTRIBUTOR_PORT": 1001, "RATE_LIMIT": 7, "VERBOSE": true, "DISTRIBUTOR_IP": "file-ip"}`)
	fileSrc := config.Source{Kind: config.FromFile, Path: path}
	for _, tc := range []struct {
		name  string
		env   env
		flags []config.FlagValue
		port  int
		src   config.Source
	}{
		{"file over default", nil, nil, 1001, fileSrc},
		{"env over file", env{"DISTRIBUTOR_PORT": "2002"}, nil, 2002, config.Source{Kind: config.FromEnv}},
		{"empty env is unset", env{"DISTRIBUTOR_PORT": ""}, nil, 1001, fileSrc},
		{"flag over env", env{"DISTRIBUTOR_PORT": "2002"}, []config.FlagValue{{Key: "DISTRIBUTOR_PORT", Value: "3003"}}, 3003,
			config.Source{Kind: config.FromFlag, Path: "DISTRIBUTOR_PORT"}},
		{"later flag wins", nil, []config.FlagValue{{Key: "DISTRIBUTOR_PORT", Value: "3003"}, {Key: "DISTRIBUTOR_PORT", Name: "port", Value: "4004"}}, 4004,
			config.Source{Kind: config.FromFlag, Path: "port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, config.LoadOptions{Dir: dir, Flags: tc.flags}, tc.env)
			if c.DistributorPort != tc.port || c.Source(config.KeyPort) != tc.src {
				t.Errorf("port %d from %v, want %d from %v", c.DistributorPort, c.Source(config.KeyPort), tc.port, tc.src)
			}
			// Keys no layer above touched keep the file's values.
			if c.RateLimit != 7 || !c.Verbose || c.DistributorIP != "file-ip" || c.Source(config.KeyRateLimit) != fileSrc {
				t.Errorf("untouched keys changed: %+v", c)
			}
			if c.Source(config.KeyHashKey).Kind != config.FromDefault {
				t.Errorf("hash key from %v", c.Source(config.KeyHashKey))
			}
		})
	}
}

func TestEnvTypes(t *testing.T) {
	c := mustLoad(t, config.LoadOptions{}, env{
		"VERBOSE":                 "TRUE",
		"limitToSubscribersOnly":  "true",
		"FILE_STREAM_INTERVAL_MS": " 250 ",
		"MAX_CLIENTS_PER_CHILD":   "1e2",
		"subscribers":             `[{"publicKey":"` + strings.ToUpper(collectorPub) + `","expirationTimestamp":1700000000000,"subscriptionType":"ACCOUNTS"}]`,
		"ARCHIVER_DATA":           `{"receiptDB":"r.db"}`,
		"DISTRIBUTOR_IP":          "10.0.0.1",
	})
	if !c.Verbose || !c.LimitToSubscribersOnly || c.FileStreamIntervalMS != 250 || c.MaxClientsPerChild != 100 || c.DistributorIP != "10.0.0.1" {
		t.Errorf("env values: %+v", c)
	}
	want := []protocol.Subscriber{{PublicKey: collectorPub, ExpirationTimestamp: 1700000000000, SubscriptionType: "ACCOUNTS"}}
	if !reflect.DeepEqual(c.Subscribers, want) {
		t.Errorf("subscribers %+v (public keys are normalised to lower case)", c.Subscribers)
	}
	// ARCHIVER_DATA merges key by key: the environment replaced one name only.
	if c.ArchiverData.ReceiptDB != "r.db" || c.ArchiverData.CycleDB != "cycles.sqlite3" {
		t.Errorf("ARCHIVER_DATA %+v", c.ArchiverData)
	}
	if c.Source("ARCHIVER_DATA.receiptDB").Kind != config.FromEnv || c.Source("ARCHIVER_DATA.cycleDB").Kind != config.FromDefault {
		t.Errorf("ARCHIVER_DATA sources %v %v", c.Source("ARCHIVER_DATA.receiptDB"), c.Source("ARCHIVER_DATA.cycleDB"))
	}
	auth := c.Auth()
	if _, ok := auth.Subscribers[collectorPub]; !ok || !auth.LimitToSubscribersOnly || auth.HashKey != c.HashKey || auth.Now == nil {
		t.Errorf("Auth() = %+v", auth)
	}
}

func TestArchiverDataMergesAcrossLayers(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "distributor-config.json", `{"ARCHIVER_DATA": {"cycleDB": "c.db"}, "subscribers": [{"publicKey":"`+collectorPub+`","subscriptionType":"FIREHOSE"}]}`)
	c := mustLoad(t, config.LoadOptions{Dir: dir, Flags: []config.FlagValue{{Key: "ARCHIVER_DATA", Value: `{"accountDB":"a.db"}`}}}, nil)
	want := config.DefaultArchiverData
	want.CycleDB, want.AccountDB = "c.db", "a.db"
	if c.ArchiverData != want {
		t.Errorf("ARCHIVER_DATA %+v, want %+v", c.ArchiverData, want)
	}
	if c.Source("ARCHIVER_DATA.cycleDB") != (config.Source{Kind: config.FromFile, Path: path}) {
		t.Errorf("cycleDB from %v", c.Source("ARCHIVER_DATA.cycleDB"))
	}
	// A subscriber without expirationTimestamp never expires, as in the reference.
	if len(c.Subscribers) != 1 || c.Subscribers[0].ExpirationTimestamp != 0 {
		t.Errorf("subscribers %+v", c.Subscribers)
	}
	if got := c.DBPath("cycleDB"); got != filepath.Join(dir, "archiverdb.sqlite3", "c.db") {
		t.Errorf("DBPath(cycleDB) = %s", got)
	}
	if got := c.DBPath("other.sqlite3"); got != filepath.Join(dir, "archiverdb.sqlite3", "other.sqlite3") {
		t.Errorf("DBPath(other) = %s", got)
	}
	if got := c.DBPath("/abs/x.sqlite3"); got != "/abs/x.sqlite3" {
		t.Errorf("DBPath(abs) = %s", got)
	}
}

func TestRelativePaths(t *testing.T) {
	wd := t.TempDir()
	other := t.TempDir()
	path := writeFile(t, other, "etc/distributor.json", `{"DATA_LOG_DIR": "logs/a", "ARCHIVER_DB_DIR": "/srv/db"}`)

	// From the file: against the file's folder; absolute stays absolute.
	c := mustLoad(t, config.LoadOptions{Dir: wd, Path: path}, nil)
	if c.DataLogDir != filepath.Join(other, "etc/logs/a") || c.ArchiverDBDir != "/srv/db" {
		t.Errorf("file paths: %s %s", c.DataLogDir, c.ArchiverDBDir)
	}
	// A default: also against the file's folder.
	path2 := writeFile(t, other, "etc2/distributor.json", `{}`)
	c = mustLoad(t, config.LoadOptions{Dir: wd, Path: path2}, nil)
	if c.ArchiverDBDir != filepath.Join(other, "etc2/archiverdb.sqlite3") {
		t.Errorf("default with file: %s", c.ArchiverDBDir)
	}
	// From the environment or a flag: against the working directory, where they were typed.
	c = mustLoad(t, config.LoadOptions{Dir: wd, Path: path, Flags: []config.FlagValue{{Key: "ARCHIVER_DB_DIR", Value: "db"}}},
		env{"DATA_LOG_DIR": "./env-logs"})
	if c.DataLogDir != filepath.Join(wd, "env-logs") || c.ArchiverDBDir != filepath.Join(wd, "db") {
		t.Errorf("env/flag paths: %s %s", c.DataLogDir, c.ArchiverDBDir)
	}
	// A relative --config resolves against the working directory.
	writeFile(t, wd, "conf/x.json", `{"DATA_LOG_DIR": "dl"}`)
	c = mustLoad(t, config.LoadOptions{Dir: wd, Path: "conf/x.json"}, nil)
	if c.Path != filepath.Join(wd, "conf/x.json") || c.DataLogDir != filepath.Join(wd, "conf/dl") {
		t.Errorf("relative --config: %s %s", c.Path, c.DataLogDir)
	}
}

func TestReloadRereadsFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "distributor-config.json", `{"limitToSubscribersOnly": false, "subscribers": []}`)
	o := config.LoadOptions{Dir: dir}
	c1 := mustLoad(t, o, nil)
	writeFile(t, dir, "distributor-config.json", `{"limitToSubscribersOnly": true, "subscribers": [{"publicKey":"`+strangerPub+`","expirationTimestamp":0,"subscriptionType":"FIREHOSE"}]}`)
	c2 := mustLoad(t, o, nil)
	if c1.LimitToSubscribersOnly || len(c1.Subscribers) != 0 {
		t.Errorf("first load changed: %+v", c1)
	}
	if !c2.LimitToSubscribersOnly || len(c2.Subscribers) != 1 || c2.Subscribers[0].PublicKey != strangerPub {
		t.Errorf("reload: %+v", c2)
	}
}

func TestKeyPairFromLayers(t *testing.T) {
	c := mustLoad(t, config.LoadOptions{Flags: []config.FlagValue{
		{Key: "DISTRIBUTOR_PUBLIC_KEY", Name: "public-key", Value: strings.ToUpper(strangerPub)},
		{Key: "DISTRIBUTOR_SECRET_KEY", Name: "secret-key", Value: strangerSec},
	}}, nil)
	if c.PublicKey != strangerPub || c.SecretKey != strangerSec || c.Signer().Keys.PublicHex != strangerPub {
		t.Errorf("keys %s %s signer %s", c.PublicKey, c.SecretKey, c.Signer().Keys.PublicHex)
	}
	if c.Signer().HashKey != c.HashKey {
		t.Error("signer hash key differs")
	}
}

func TestUnknownKeysWarnOnce(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "distributor-config.json", `{
		"UNKNOWN_KEY_WARN_ONCE": 1,
		"ARCHIVER_DB_PATH": "x",
		"ARCHIVER_DATA": {"cycleDBx": "y"},
		"subscribers": [{"publicKey":"`+collectorPub+`","subscriptionType":"FIREHOSE","note":"n"}],
		"NUMBER_OF_WORKERS": 9, "DISTRIBUTOR_LOGS": "l", "distributorMode": "MQ", "MQ_DISTRIBUTOR_SERVER_PORT": 1
	}`)
	rec := &records{}
	log := slogNew(rec)
	c1 := mustLoad(t, config.LoadOptions{Dir: dir, Logger: log}, nil)
	c2 := mustLoad(t, config.LoadOptions{Dir: dir, Logger: log}, nil)
	want := []string{
		`config: unknown key "ARCHIVER_DB_PATH" in ` + path + ` is ignored (the reference README's key does not exist; set ARCHIVER_DB_DIR to the folder of the archiver's .sqlite3 files)`,
		`config: unknown key "UNKNOWN_KEY_WARN_ONCE" in ` + path + ` is ignored`,
		`config: unknown key "cycleDBx" in ARCHIVER_DATA from ` + path + ` is ignored`,
		`config: unknown key "note" in subscribers[0] from ` + path + ` is ignored`,
	}
	for _, c := range []*config.Config{c1, c2} {
		got := slices.Clone(c.Warnings)
		slices.Sort(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("warnings\n got %q\nwant %q", got, want)
		}
	}
	logged := rec.all()
	if len(logged) != len(want) {
		t.Errorf("logged %d times, want each of %d warnings once: %q", len(logged), len(want), logged)
	}
	for _, l := range logged {
		if !strings.HasPrefix(l, "WARN ") {
			t.Errorf("logged %q, want a warning", l)
		}
	}
	// The reference keys we do not use are accepted quietly and kept for display.
	if c1.Ignored["distributorMode"] != "MQ" || c1.Ignored["NUMBER_OF_WORKERS"] != int64(9) {
		t.Errorf("ignored: %v", c1.Ignored)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "distributor-config.json", `{"DISTRIBUTOR_PORT": 0, "DATA_LOG_DIR": "dl", "limitToSubscribersOnly": true, "VERBOSE": true,
		"subscribers": [{"publicKey":"`+collectorPub+`","expirationTimestamp":5,"subscriptionType":"FIREHOSE"}],
		"ARCHIVER_DATA": {"receiptDB": "r.sqlite3"}, "CLIENT_QUEUE_FRAMES": 17}`)
	c := mustLoad(t, config.LoadOptions{Dir: dir}, env{"DISTRIBUTOR_SECRET_KEY": strangerSec, "DISTRIBUTOR_PUBLIC_KEY": strangerPub})
	data := c.JSON()
	if !strings.Contains(string(data), strangerSec) {
		t.Error("JSON() must carry the secret key to children")
	}
	// Children run in another working directory: the paths must already be absolute.
	t.Chdir(t.TempDir())
	back, err := config.FromJSON(data)
	if err != nil {
		t.Fatalf("FromJSON: %v", err)
	}
	for _, x := range []*config.Config{c, back} {
		x.Path, x.Warnings, x.Ignored = "", nil, nil
	}
	if !reflect.DeepEqual(comparable(c), comparable(back)) {
		t.Errorf("round trip\n got %+v\nwant %+v", comparable(back), comparable(c))
	}
	if string(back.JSON()) != string(data) {
		t.Errorf("JSON not stable:\n%s\n%s", back.JSON(), data)
	}
	if strings.Contains(string(c.RedactedJSON()), strangerSec) || !strings.Contains(string(c.RedactedJSON()), `"DISTRIBUTOR_SECRET_KEY": "<redacted>"`) {
		t.Errorf("RedactedJSON leaks or lacks the marker: %s", c.RedactedJSON())
	}
	for _, s := range c.Settings() {
		if s.Key == config.KeySecretKey && s.Value != config.Redacted {
			t.Errorf("Settings shows the secret: %v", s.Value)
		}
	}

	_, err = config.FromJSON([]byte(`{"DISTRIBUTOR_PORT": "x"}`))
	wantError(t, err, `config: DISTRIBUTOR_PORT: "x" from parent process must be a number, not a string`)
	_, err = config.FromJSON([]byte(`{"DISTRIBUTOR_PORT": 1`))
	wantError(t, err, `config: configuration from the parent process: line 1, column 22: unexpected end of JSON input`)
}

// comparable drops the unexported provenance so configs from different sources compare equal.
func comparable(c *config.Config) config.Config {
	x := *c
	return config.Config{
		DistributorIP: x.DistributorIP, DistributorPort: x.DistributorPort, HashKeyHex: x.HashKeyHex, HashKey: x.HashKey,
		PublicKey: x.PublicKey, SecretKey: x.SecretKey, Keys: x.Keys, ArchiverDBDir: x.ArchiverDBDir,
		ArchiverData: x.ArchiverData, DataLogDir: x.DataLogDir, FileStreamIntervalMS: x.FileStreamIntervalMS,
		MaxClientsPerChild: x.MaxClientsPerChild, RateLimit: x.RateLimit, Verbose: x.Verbose,
		LimitToSubscribersOnly: x.LimitToSubscribersOnly, Subscribers: x.Subscribers, ClientQueueFrames: x.ClientQueueFrames,
	}
}

func TestDefaultFileUnreadableIsAnError(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads anything; use a directory in the file's place instead.
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, config.DefaultFile), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := load(t, config.LoadOptions{Dir: dir}, nil)
		wantError(t, err, "config: cannot read "+filepath.Join(dir, config.DefaultFile)+": is a directory")
		return
	}
	dir := t.TempDir()
	p := writeFile(t, dir, config.DefaultFile, `{}`)
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err := load(t, config.LoadOptions{Dir: dir}, nil)
	wantError(t, err, "config: cannot read "+p+": permission denied")
}
