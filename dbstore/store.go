package dbstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options tunes OpenWith. The zero value of every field but Dir and Files is useful.
type Options struct {
	Dir         string        // ARCHIVER_DB_DIR; relative paths are resolved against the working directory
	Files       Files         // ARCHIVER_DATA; empty names fall back to DefaultFiles
	MaxConns    int           // per file; default 4
	BusyTimeout time.Duration // default 5 s
	Logger      *slog.Logger  // nil: slog.Default()
}

const connLifetime = time.Minute

// Store is the read-only view of the archiver's databases. It is safe for concurrent use.
type Store struct {
	log *slog.Logger
	dbs [numTables]*db
}

// db is one file: its pool and its prepared statements.
type db struct {
	table Table
	path  string
	pool  *sql.DB
	conn  *connector
	stmts map[query]*sql.Stmt
	// version holds a dedicated connection out of the pool (see DataVersion).
	version versioner
}

// Open opens the five files read-only; see OpenWith.
func Open(dir string, files Files) (*Store, error) {
	return OpenWith(Options{Dir: dir, Files: files})
}

// OpenWith opens every file read-only, checks that its table and the columns we query exist and
// prepares the statements. An error names the config key and the file, e.g.
// `dbstore: ARCHIVER_DATA.receiptDB: /x/receipts.sqlite3: no such file`.
func OpenWith(o Options) (*Store, error) {
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := DefaultFiles()
	s := &Store{log: o.Logger}
	for _, t := range Tables {
		name := o.Files.name(t)
		if name == "" {
			name = def.name(t)
		}
		d, err := openDB(t, filepath.Join(o.Dir, name), o)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.dbs[t] = d
	}
	return s, nil
}

func (d *db) errorf(format string, args ...any) error {
	return fmt.Errorf("dbstore: ARCHIVER_DATA.%s: %s: %s", d.table.ConfigKey(), d.path, fmt.Sprintf(format, args...))
}

func openDB(t Table, path string, o Options) (*db, error) {
	abs, err := filepath.Abs(path)
	if err == nil {
		path = abs
	}
	d := &db{table: t, path: path}
	// SQLite in mode=ro would report a missing file as "unable to open database file"; say it plainly.
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, d.errorf("no such file")
	case err != nil:
		return nil, d.errorf("%v", err)
	case st.IsDir():
		return nil, d.errorf("is a directory, not an SQLite file")
	}
	d.conn = newConnector(path, o.BusyTimeout, o.Logger.With("db", t.ConfigKey(), "path", path))
	d.pool = sql.OpenDB(d.conn)
	d.pool.SetMaxOpenConns(o.MaxConns + 1) // +1: DataVersion's dedicated connection
	d.pool.SetMaxIdleConns(o.MaxConns + 1)
	// Recycling connections lets one opened in the immutable fallback (see connector) return to a
	// normal read-only connection once the archiver runs again.
	d.pool.SetConnMaxLifetime(connLifetime)
	if err := d.checkSchema(); err != nil {
		d.pool.Close()
		return nil, err
	}
	if err := d.prepare(); err != nil {
		d.pool.Close()
		return nil, err
	}
	return d, nil
}

// checkSchema verifies that the table exists and has every column we name in a query.
func (d *db) checkSchema() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := d.pool.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", d.table.Name())
	if err != nil {
		return d.errorf("cannot read: %v", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return d.errorf("cannot read schema: %v", err)
		}
		have[n] = true
	}
	if err := rows.Err(); err != nil {
		return d.errorf("cannot read: %v", err)
	}
	if len(have) == 0 {
		return d.errorf("no table %q (is this an archiver database?)", d.table.Name())
	}
	var missing []string
	for _, c := range d.table.Columns() {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return d.errorf("table %q lacks column(s) %s", d.table.Name(), strings.Join(missing, ", "))
	}
	return nil
}

// Path is the absolute path of the table's file.
func (s *Store) Path(t Table) string {
	if s == nil || t < 0 || t >= numTables || s.dbs[t] == nil {
		return ""
	}
	return s.dbs[t].path
}

// Close closes every pool. Safe on a partly opened Store.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	for _, d := range s.dbs {
		if d == nil {
			continue
		}
		d.version.close()
		for _, st := range d.stmts {
			st.Close()
		}
		errs = append(errs, d.pool.Close())
	}
	return errors.Join(errs...)
}

// Check tests that every file is still on disk and its table readable. The error names each
// failing file and key, one per line.
func (s *Store) Check(ctx context.Context) error {
	if s == nil {
		return ErrNoStore
	}
	var errs []error
	for _, d := range s.dbs {
		if _, err := os.Stat(d.path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, d.errorf("no such file"))
			} else {
				errs = append(errs, d.errorf("%v", err))
			}
			continue
		}
		var one int
		err := d.stmts[qProbe].QueryRowContext(ctx).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			errs = append(errs, d.errorf("%v", err))
		}
	}
	return errors.Join(errs...)
}

// Healthy reports whether Check passes within two seconds.
func (s *Store) Healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.Check(ctx) == nil
}
