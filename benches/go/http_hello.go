// The Go peer of examples/http_hello.rs: net/http "Hello, World!" with
// GOMAXPROCS=2 (set by scripts/http_bench.sh). HTTP/1.1 only: net/http
// serves h2c only through golang.org/x/net, which the bench does not
// fetch.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:8082"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, World!"))
	})
	fmt.Println("http_hello_go: listening on", addr)
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
