// Package harness runs the real distributor for the tools' end-to-end tests and the bench: it
// builds the binary, starts `distributor start` in a temporary directory on its own config (data-log
// directory, the bundled testdata/archiver-db, a free 127.0.0.1 port, no configuration from the
// environment), starts `distributor replay --generate` as the load, and samples RSS and CPU of the
// parent and its children from /proc.
package harness
