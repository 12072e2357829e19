package dbstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

var sqliteDriver = &sqlite.Driver{} // the driver registered as "sqlite"

// connector opens read-only connections to one file.
//
// A read-only connection to a WAL database needs the -shm file: SQLite opens (or creates) it
// read-write even in mode=ro, and if it is absent and cannot be created (the archiver is stopped and
// left no -shm, and the directory is not writable by us) every read fails with SQLITE_CANTOPEN. In
// that one case the database cannot be changing (nobody holds it open), so we fall back to
// immutable=1, which reads the file without any locking or -shm. Such connections are recycled by
// the pool (ConnMaxLifetime), so once the archiver runs again new connections are normal ones.
type connector struct {
	dsn, immutableDSN string
	log               *slog.Logger
	immutable         atomic.Bool // last connection opened was the immutable fallback
}

func newConnector(path string, busy time.Duration, log *slog.Logger) *connector {
	base := "file:" + uriPath(path) + "?mode=ro&_pragma=" + fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()) +
		"&_pragma=query_only(1)"
	return &connector{dsn: base, immutableDSN: base + "&immutable=1", log: log}
}

// uriPath escapes the characters a file: URI gives meaning to.
func uriPath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

func (c *connector) Driver() driver.Driver { return sqliteDriver }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.dsn)
	if err == nil {
		err = probe(ctx, conn)
		if err == nil {
			if c.immutable.Swap(false) {
				c.log.Info("dbstore: database readable normally again")
			}
			return conn, nil
		}
		conn.Close()
	}
	if !cannotOpenShm(err) {
		return nil, err
	}
	conn, err2 := sqliteDriver.Open(c.immutableDSN)
	if err2 == nil {
		err2 = probe(ctx, conn)
		if err2 == nil {
			if !c.immutable.Swap(true) {
				c.log.Warn("dbstore: WAL database has no -shm file and its directory is not writable; reading it as immutable until the archiver runs again", "err", err)
			}
			return conn, nil
		}
		conn.Close()
	}
	return nil, err
}

// probe forces SQLite to read the schema, which is when a WAL database's -shm is opened.
func probe(ctx context.Context, conn driver.Conn) error {
	q, ok := conn.(driver.QueryerContext)
	if !ok {
		return nil
	}
	rows, err := q.QueryContext(ctx, "SELECT 1 FROM sqlite_master LIMIT 1", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func cannotOpenShm(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case 14, 8: // SQLITE_CANTOPEN, SQLITE_READONLY (READONLY_CANTINIT, READONLY_RECOVERY)
		return true
	}
	return false
}
