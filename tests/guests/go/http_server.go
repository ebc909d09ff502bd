// An HTTP server the way Go's wasip1 programs serve one: net.FileListener on the listening
// socket the host preopened (fd 3, wasmtime's --tcplisten), served by net/http. Go runs every
// goroutine on one thread, so an accept that blocked in the host would stop them all: after the
// first connection no request would be answered. wasio hands the socket over non-blocking, as
// wasmtime does, and Go waits for it in poll_oneoff.
// Usage: http_server N — serves requests until N have been answered, then shuts down cleanly
// and prints "served N".
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
)

func main() {
	want, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage: http_server N")
		os.Exit(2)
	}
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "FileListener:", err)
		os.Exit(1)
	}
	var served atomic.Int32
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", r.URL.Path)
		if int(served.Add(1)) == want {
			close(done)
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	<-done
	srv.Shutdown(context.Background()) // waits for the last response to be written
	fmt.Println("served", want)
}
