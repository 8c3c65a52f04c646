// Command ferretdb-local runs FerretDB v1 with its SQLite backend on one
// address, for the local and test stacks. `go install` of FerretDB's own
// command panics at start (its version file is generated at build time),
// so we embed the library package instead.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "var/ferretdb", "folder for the SQLite databases")
	// WAL with synchronous=NORMAL fsyncs at checkpoints, not at every commit: a
	// killed server loses nothing (the OS has the pages), only a power cut could.
	// That is the trade a local and test stack wants; production runs MongoDB.
	synchronous := flag.String("synchronous", "normal", "SQLite synchronous pragma: full, normal or off")
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		log.Fatalf("data folder: %v", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/?_pragma=synchronous(" + *synchronous + ")",
	})
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb listening on %s, data in %s", *listen, *dataDir)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb: %v", err)
	}
}
